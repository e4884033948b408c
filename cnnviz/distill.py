"""Compat path: the code lives in :mod:`cnnviz.compression.distill`; this name keeps old imports (and monkeypatches) working."""
import sys

from cnnviz.compression import distill as _module

sys.modules[__name__] = _module
