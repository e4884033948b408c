"""Compat path: the code lives in :mod:`cnnviz.architecture.presets`; this name keeps old imports (and monkeypatches) working."""
import sys

from cnnviz.architecture import presets as _module

sys.modules[__name__] = _module
