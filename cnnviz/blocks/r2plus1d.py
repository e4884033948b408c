"""Compat path: the code lives in :mod:`cnnviz.architecture.blocks.r2plus1d`; this name keeps old imports (and monkeypatches) working."""
import sys

from cnnviz.architecture.blocks import r2plus1d as _module

sys.modules[__name__] = _module
