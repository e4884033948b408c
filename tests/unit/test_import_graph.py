"""The engine's import graph, read from the source with ``ast`` (nothing is executed): no cycles between
modules, and streamlit only inside cnnviz/ui/. Every import counts, also those inside functions."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "cnnviz"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The cnnviz modules ``name`` imports: ``from a import b`` counts a.b when b is a submodule, else a;
    relative imports are resolved against the module's package."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in known else mod for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in known and "." in t:  # `import cnnviz.x.y` of a name that is not a module
                t = t.rpartition(".")[0]
            if t in known and t != name:
                out.add(t)
    return out


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {n: imports(n, p, set(mods)) for n, p in mods.items()}


def find_cycle(g: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(g[n]):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state and (found := visit(m)):
                return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(g):
        if n not in state and (found := visit(n)):
            return found
    return None


def test_the_graph_sees_relative_and_submodule_imports():
    g = graph()
    assert "cnnviz.geometry.arithmetic" in g["cnnviz.geometry.specs"]  # `from cnnviz.geometry import arithmetic`
    assert "cnnviz.training.runner" in g["cnnviz.training.factory"]
    assert "cnnviz.cluster" in g["cnnviz.training.factory"]


def test_find_cycle_reports_the_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles_in_cnnviz():
    cycle = find_cycle(graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_streamlit_only_in_cnnviz_ui():
    for name, path in modules().items():
        if name == "cnnviz.ui" or name.startswith("cnnviz.ui."):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            assert not any(n.split(".")[0] == "streamlit" for n in names), f"{path} imports streamlit"


def test_nothing_in_the_engine_imports_the_ui_or_the_test_tooling():
    for name, deps in graph().items():
        if not name.startswith("cnnviz.ui"):
            assert not any(d == "cnnviz.ui" or d.startswith("cnnviz.ui.") for d in deps), name
    for path in PKG.rglob("*.py"):
        assert "fuzz" not in path.name, f"{path}: test tooling belongs in tests/"
