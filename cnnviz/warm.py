"""Import the heavy libraries and the engine once per process, one thread at a time: the first import of app.py
and of every page (tests/unit/house/test_warm_imports.py keeps it so).

A fresh server's first visitors arrive at once (a class opening the link, a restart, a failover to a replica).
Their sessions run in threads of one process, and each page's first run imports torch and the engine. CPython
serialises two imports of the same module, but not of a package and its submodule: while one thread executes
``torch/__init__.py`` (or ``cnnviz/geometry/__init__.py``), another may enter ``torch.nn.functional`` (or
``cnnviz.geometry.formulas``) directly and run it against half-initialised modules. Torch's C types then get
registered twice ("generic_type: cannot initialize type ... already defined"), and the server stays broken for
every later visitor (tests/e2e/test_fresh_server_e2e.py opens four deep links on a fresh server at once).

A second session importing this leaf module waits on its one lock, holding no other import lock (so no
deadlock), until everything below is whole; later imports cost nothing. ``cnnviz.ui`` is not imported here (the
engine never imports the UI): each page imports it as a package before any of its submodules, so a second
session waits on the package's own lock."""
import importlib
import os
import pkgutil

import numpy  # noqa: F401
import torch  # noqa: F401
import torch.nn.functional  # noqa: F401
import torch._dynamo  # noqa: F401 - imported lazily by torch's _disable_dynamo wrappers on a session's first conv
#   check (a slow import, sympy included): here it is imported once, under this lock, before the first visitor
import pandas  # noqa: F401
import plotly.graph_objects  # noqa: F401
import PIL.Image  # noqa: F401
import captum.attr  # noqa: F401 - pulls matplotlib and IPython: more large package graphs

import cnnviz

SKIP = ("cnnviz.ui", "cnnviz.warm")


def _import_engine(path, prefix: str) -> None:
    for info in pkgutil.iter_modules(path, prefix):
        if info.name in SKIP:
            continue
        module = importlib.import_module(info.name)
        if info.ispkg:
            _import_engine(module.__path__, info.name + ".")


_import_engine(cnnviz.__path__, "cnnviz.")


def page_threads() -> int:
    """Torch's intra-op threads for the web process (``CNNVIZ_PAGE_THREADS``, default 1). Every session is a thread
    of this process already: intra-op threads on top of them only spin-wait on a busy box (a 40-step PGD on the
    Saliency page: 28 ms of CPU on one thread, 0.7-1.5 s on two beside a class's reruns). Jobs run in child
    processes that choose their own count (cnnviz.jobs.worker)."""
    try:
        return max(1, min(int(os.environ.get("CNNVIZ_PAGE_THREADS", "1")), os.cpu_count() or 1))
    except ValueError:
        return 1


torch.set_num_threads(page_threads())
