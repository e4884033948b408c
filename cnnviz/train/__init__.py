"""Compat path: training lives in :mod:`cnnviz.training`."""
from cnnviz.training import *  # noqa: F401,F403
from cnnviz.training import __all__  # noqa: F401
