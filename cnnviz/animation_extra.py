"""Compat path: the code lives in :mod:`cnnviz.animation.extra`; this name keeps old imports (and monkeypatches) working."""
import sys

from cnnviz.animation import extra as _module

sys.modules[__name__] = _module
