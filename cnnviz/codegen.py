"""Compat path: the code lives in :mod:`cnnviz.architecture.codegen`; this name keeps old imports (and monkeypatches) working."""
import sys

from cnnviz.architecture import codegen as _module

sys.modules[__name__] = _module
