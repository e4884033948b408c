"""Compat path: the code lives in :mod:`cnnviz.io.text`; this name keeps old imports (and monkeypatches) working."""
import sys

from cnnviz.io import text as _module

sys.modules[__name__] = _module
