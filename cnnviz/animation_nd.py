"""Compat path: the code lives in :mod:`cnnviz.animation.nd`; this name keeps old imports (and monkeypatches) working."""
import sys

from cnnviz.animation import nd as _module

sys.modules[__name__] = _module
