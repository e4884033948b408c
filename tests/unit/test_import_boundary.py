"""The engine never imports streamlit: only app.py, pages/ and cnnviz/ui.py may."""
import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def python_prints(code: str) -> str:
    """What ``code`` prints in a fresh interpreter (nothing imported yet), from the repository root."""
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_import_cnnviz_does_not_import_streamlit():
    code = ("import sys, pkgutil, importlib, cnnviz\n"
            "for m in pkgutil.walk_packages(cnnviz.__path__, 'cnnviz.'):\n"
            "    if m.name != 'cnnviz.ui' and not m.name.startswith('cnnviz.ui.'):\n"
            "        importlib.import_module(m.name)\n"
            "print('streamlit' in sys.modules)")
    assert python_prints(code) == "False"


def test_only_allowed_files_import_streamlit():
    allowed = {ROOT / "app.py", ROOT / "cnnviz" / "ui.py"}
    for path in [*ROOT.glob("cnnviz/**/*.py"), *ROOT.glob("bench/*.py"), *ROOT.glob("scripts/*.py")]:
        if path in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] == "streamlit" for n in names), f"{path} imports streamlit"


def test_the_app_never_imports_ray_unless_a_cluster_is_configured():
    """Ray is an optional extra: without CNNVIZ_RAY_ADDRESS the runner, the pages' engine modules and the
    cluster package itself import nothing of it."""
    code = ("import os, sys\n"
            "os.environ.pop('CNNVIZ_RAY_ADDRESS', None)\n"
            "import cnnviz, cnnviz.cluster, cnnviz.train, cnnviz.distill, cnnviz.builder, cnnviz.animation_nd\n"
            "from cnnviz.train import get_runner\n"
            "runner = get_runner()\n"
            "print(type(runner).__name__, 'ray' in sys.modules)")
    assert python_prints(code) == "ThreadRunner False"
