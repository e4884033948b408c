"""Compat path: the code lives in :mod:`cnnviz.architecture.blocks.squeeze_excite`; this name keeps old imports (and monkeypatches) working."""
import sys

from cnnviz.architecture.blocks import squeeze_excite as _module

sys.modules[__name__] = _module
