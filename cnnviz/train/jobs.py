"""Compat path: the code lives in :mod:`cnnviz.training.jobs`; this name keeps old imports (and monkeypatches) working."""
import sys

from cnnviz.training import jobs as _module

sys.modules[__name__] = _module
