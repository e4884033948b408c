"""Compat path: the code lives in :mod:`cnnviz.architecture.builder`; this name keeps old imports (and monkeypatches) working."""
import sys

from cnnviz.architecture import builder as _module

sys.modules[__name__] = _module
