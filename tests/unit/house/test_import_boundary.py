"""The engine never imports streamlit: only app.py, pages/ and the cnnviz/ui/ package may."""
import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def python_prints(code: str) -> str:
    """What ``code`` prints in a fresh interpreter (nothing imported yet), from the repository root."""
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_import_cnnviz_does_not_import_streamlit():
    # pkgutil.walk_packages would import the cnnviz.ui package itself to look inside it: walk by hand instead
    code = ("import sys, pkgutil, importlib, cnnviz\n"
            "def walk(path, prefix):\n"
            "    for m in pkgutil.iter_modules(path, prefix):\n"
            "        if m.name != 'cnnviz.ui':\n"
            "            module = importlib.import_module(m.name)\n"
            "            if m.ispkg:\n"
            "                walk(module.__path__, m.name + '.')\n"
            "walk(cnnviz.__path__, 'cnnviz.')\n"
            "print('streamlit' in sys.modules, len(sys.modules) > 50)")
    assert python_prints(code) == "False True"


def test_only_allowed_files_import_streamlit():
    allowed = {ROOT / "app.py", *(ROOT / "cnnviz" / "ui").rglob("*.py")}
    for path in [*ROOT.glob("cnnviz/**/*.py"), *ROOT.glob("bench/*.py"), *ROOT.glob("scripts/*.py")]:
        if path in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            # the load generators in bench/ speak Streamlit's wire protocol: its message classes, not the runtime
            protocol = path.parent.name == "bench" and all(n.startswith("streamlit.proto") for n in names)
            assert protocol or not any(n.split(".")[0] == "streamlit" for n in names), f"{path} imports streamlit"


def test_the_app_never_imports_ray_unless_a_cluster_is_configured():
    """Ray is an optional extra: without CNNVIZ_RAY_ADDRESS the runner, the pages' engine modules and the
    cluster package itself import nothing of it."""
    code = ("import os, sys\n"
            "os.environ.pop('CNNVIZ_RAY_ADDRESS', None)\n"
            "import cnnviz, cnnviz.jobs.cluster, cnnviz.training, cnnviz.compression.distill, cnnviz.architecture.builder, cnnviz.animation.nd\n"
            "from cnnviz.jobs import get_runner\n"
            "runner = get_runner()\n"
            "print(type(runner).__name__, 'ray' in sys.modules)")
    assert python_prints(code) == "ThreadRunner False"
