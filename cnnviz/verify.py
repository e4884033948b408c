"""Compat path: the code lives in :mod:`cnnviz.geometry.verify`; this name keeps old imports (and monkeypatches) working."""
import sys

from cnnviz.geometry import verify as _module

sys.modules[__name__] = _module
