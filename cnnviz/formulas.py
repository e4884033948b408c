"""Compat path: the code lives in :mod:`cnnviz.geometry.formulas`; this name keeps old imports (and monkeypatches) working."""
import sys

from cnnviz.geometry import formulas as _module

sys.modules[__name__] = _module
