"""Compat path: the code lives in :mod:`cnnviz.inside.cleverhans`; this name keeps old imports (and monkeypatches) working."""
import sys

from cnnviz.inside import cleverhans as _module

sys.modules[__name__] = _module
