"""A fresh server's first sessions import the app at the same moment, in threads of one process. CPython does
not serialise a package against its submodules, so without ``cnnviz.warm`` first they got half-initialised
torch and cnnviz modules (a server broken for every later visitor). These tests keep the guard in place and
replay the race on the pages' own import blocks."""
import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCRIPTS = sorted((ROOT / "pages").glob("*.py")) + [ROOT / "app.py"]


def imports(path: Path) -> list[ast.stmt]:
    return [n for n in ast.parse(path.read_text()).body if isinstance(n, (ast.Import, ast.ImportFrom))]


def names(node: ast.stmt) -> list[str]:
    return [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_warm_is_the_first_import(path):
    first = imports(path)[0]
    assert names(first) == ["cnnviz.warm"], f"{path.name}: first import is {names(first)}"


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_the_ui_package_is_imported_before_its_submodules(path):
    """``cnnviz.warm`` leaves out the UI; a second session waits on ``cnnviz.ui``'s own lock only if it imports
    the package first (``from cnnviz.ui.uploads import`` straight away would run beside a half-built package)."""
    seen_package = False
    for node in imports(path):
        for name in names(node):
            if name == "cnnviz.ui":
                seen_package = True
            elif name.startswith("cnnviz.ui."):
                assert seen_package, f"{path.name} imports {name} before cnnviz.ui"


RACE = """
import ast, sys, threading
sources = sys.argv[1:]
blocks = [compile(ast.Module([n for n in ast.parse(open(p).read()).body
                              if isinstance(n, (ast.Import, ast.ImportFrom))], []), p, "exec") for p in sources]
start = threading.Barrier(len(blocks))
errors = []
def session(code):
    start.wait()  # every session begins its first run at once, as on a fresh server
    try:
        exec(code, {"__name__": "page"})
    except BaseException as e:
        errors.append(f"{type(e).__name__}: {e}")
threads = [threading.Thread(target=session, args=(b,)) for b in blocks]
[t.start() for t in threads]
[t.join() for t in threads]
print(len(errors), errors[:2])
"""


def test_four_sessions_importing_their_pages_at_once_all_get_whole_modules():
    """The four pages of the browser test (tests/e2e/test_fresh_server_e2e.py), their import blocks run in four
    threads released together in a fresh interpreter. Without the guard, 3 of 4 threads failed in each of three
    runs here ("partially initialized module 'torch.nn.parameter'", "cannot initialize type
    RpcBackendOptions")."""
    pages = [str(ROOT / "pages" / f"{p}.py") for p in ("training_lab", "architecture_lab", "conv_animation",
                                                        "lessons")]
    out = subprocess.run([sys.executable, "-c", RACE, *pages], cwd=ROOT, capture_output=True, text=True,
                         timeout=300, env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "0 []", out.stdout[-2000:]



@pytest.mark.parametrize("env, expected", [(None, 1), ("2", min(2, os.cpu_count() or 1)), ("lots", 1), ("0", 1)])
def test_page_threads_reads_its_variable_safely(monkeypatch, env, expected):
    from cnnviz.warm import page_threads
    if env is None:
        monkeypatch.delenv("CNNVIZ_PAGE_THREADS", raising=False)
    else:
        monkeypatch.setenv("CNNVIZ_PAGE_THREADS", env)
    assert page_threads() == expected


def test_the_web_process_uses_one_torch_thread():
    """Sessions are threads already: the pages' torch work runs on one intra-op thread (CNNVIZ_PAGE_THREADS)."""
    environ = {k: v for k, v in os.environ.items() if k != "CNNVIZ_PAGE_THREADS"}
    out = subprocess.run([sys.executable, "-c", "import cnnviz.warm, torch; print(torch.get_num_threads())"],
                         env=environ, capture_output=True, text=True, timeout=300, check=True).stdout
    assert int(out.strip()) == 1
