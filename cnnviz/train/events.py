"""Compat path: the code lives in :mod:`cnnviz.training.events`; this name keeps old imports (and monkeypatches) working."""
import sys

from cnnviz.training import events as _module

sys.modules[__name__] = _module
