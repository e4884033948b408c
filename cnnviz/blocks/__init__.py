"""Compat path: the blocks live in :mod:`cnnviz.architecture.blocks`."""
from cnnviz.architecture.blocks import *  # noqa: F401,F403
from cnnviz.architecture.blocks import __all__  # noqa: F401
