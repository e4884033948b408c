"""Compat path: the code lives in :mod:`cnnviz.io.uploads`; this name keeps old imports (and monkeypatches) working."""
import sys

from cnnviz.io import uploads as _module

sys.modules[__name__] = _module
