"""The engine's import graph, read from the source with ``ast`` (nothing is executed): no cycle between modules,
and no import from a room to one that the rooms table of docs/ARCHITECTURE.md does not let it import. Every
import counts, also those inside function bodies; only ``if TYPE_CHECKING:`` blocks do not (they never run)."""
import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "ARCHITECTURE.md"


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(root: Path = ROOT) -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted((root / "cnnviz").rglob("*.py"))}


def _runtime_nodes(tree: ast.AST):
    """Every node but the bodies of ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                stack.extend(child.orelse)
                continue
            stack.append(child)


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The cnnviz modules ``name`` imports: ``from a import b`` counts a.b when b is a submodule, else a;
    relative imports are resolved against the module's package."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(), str(path))):
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


def graph(root: Path = ROOT) -> dict[str, set[str]]:
    mods = modules(root)
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


def room_of(module: str) -> str:
    """``cnnviz.jobs.cluster.storage`` -> ``jobs``; the package itself -> ``cnnviz``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "cnnviz"


def rooms_table(doc: str) -> dict[str, set[str]]:
    """room -> the rooms it may import, from the table after the ``<!-- rooms`` marker. "every room above" and
    "every room but `x`" are expanded against the rows above."""
    lines = doc[doc.index("<!-- rooms"):].splitlines()[1:]
    table: dict[str, set[str]] = {}
    for line in lines:
        if not line.startswith("|"):
            if table:
                break
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        m = re.fullmatch(r"`(\w+)`", cells[0])
        if not m:
            continue  # the header and its rule
        allowed = cells[-1]
        if allowed.startswith("every room above"):
            names = set(table)
        elif allowed.startswith("every room but"):
            names = set(table) - set(re.findall(r"`(\w+)`", allowed))
        elif allowed == "every room":
            names = set(table) | {"figures"}
        else:
            names = set(re.findall(r"`(\w+)`", allowed))
        table[m.group(1)] = names
    table["cnnviz"] = {"errors"}  # the package's __init__: ConfigError only
    return table


def violations(g: dict[str, set[str]], table: dict[str, set[str]]) -> list[str]:
    out = []
    for name, deps in sorted(g.items()):
        src = room_of(name)
        if src not in table:
            out.append(f"{name}: room {src!r} is not in the rooms table")
            continue
        for d in sorted(deps):
            dst = room_of(d)
            if dst not in (src, "cnnviz") and dst not in table[src]:  # `from cnnviz import ConfigError`: any room
                out.append(f"{name} imports {d}: {src} may not import {dst}")
    return out


def test_the_table_is_read_from_the_doc():
    table = rooms_table(DOC.read_text())
    assert table["jobs"] == {"errors"}
    assert "jobs" in table["training"] and "training" not in table["jobs"]
    assert "ui" not in table["warm"] and "ui" not in table["figures"] and "figures" in table["ui"]


def test_the_graph_sees_relative_submodule_and_function_level_imports():
    g = graph()
    assert "cnnviz.geometry.arithmetic" in g["cnnviz.geometry.specs"]  # `from cnnviz.geometry import arithmetic`
    assert "cnnviz.jobs.runner" in g["cnnviz.jobs.factory"]
    assert "cnnviz.jobs.cluster" in g["cnnviz.jobs.factory"]
    assert "cnnviz.training.recipe" not in g["cnnviz.training.loop"]  # only under TYPE_CHECKING


def test_find_cycle_reports_the_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles_in_cnnviz():
    cycle = find_cycle(graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_every_import_follows_the_rooms_table():
    assert violations(graph(), rooms_table(DOC.read_text())) == []


@pytest.mark.parametrize("planted", [
    "from cnnviz.training.recipe import TrainConfig\n",                  # a lower room reaching up
    "def later():\n    from cnnviz.compression import distill\n",        # hidden in a function body
    "import cnnviz.ui.state\n",                                           # the engine importing the UI
])
def test_a_planted_violation_is_caught(tmp_path, planted):
    """The check on a copy of the package with one bad import planted in the jobs room."""
    for p in (ROOT / "cnnviz").rglob("*.py"):
        dest = tmp_path / p.relative_to(ROOT)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(p.read_text())
    (tmp_path / "cnnviz" / "jobs" / "planted.py").write_text(planted)
    found = violations(graph(tmp_path), rooms_table(DOC.read_text()))
    assert len(found) == 1 and found[0].startswith("cnnviz.jobs.planted imports"), found


def test_a_planted_cycle_is_caught(tmp_path):
    pkg = tmp_path / "cnnviz" / "io"
    pkg.mkdir(parents=True)
    (tmp_path / "cnnviz" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from cnnviz.io import b\n")
    (pkg / "b.py").write_text("def f():\n    from cnnviz.io.a import x\n")
    assert find_cycle(graph(tmp_path)) == ["cnnviz.io.a", "cnnviz.io.b", "cnnviz.io.a"]


def test_streamlit_only_in_cnnviz_ui():
    for name, path in modules().items():
        if room_of(name) == "ui":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            assert not any(n.split(".")[0] == "streamlit" for n in names), f"{path} imports streamlit"


def test_no_module_only_aliases_another():
    """A file whose whole job is ``sys.modules[__name__] = other`` or ``from x import *`` is a compat shell."""
    for name, path in modules().items():
        src = path.read_text()
        assert "sys.modules[__name__]" not in src, f"{path} aliases another module"
        body = [n for n in ast.parse(src).body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
        stars = [n for n in body if isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names)]
        assert not stars or len(stars) < len(body), f"{path} only re-exports another module"


def test_few_modules_loose_at_the_top():
    loose = sorted(p.name for p in (ROOT / "cnnviz").glob("*.py"))
    assert len(loose) <= 10, loose


def test_nothing_in_the_engine_imports_the_test_tooling():
    for path in (ROOT / "cnnviz").rglob("*.py"):
        assert "fuzz" not in path.name, f"{path}: test tooling belongs in tests/"
