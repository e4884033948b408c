"""Compat path: the code lives in :mod:`cnnviz.inside.saliency`; this name keeps old imports (and monkeypatches) working."""
import sys

from cnnviz.inside import saliency as _module

sys.modules[__name__] = _module
