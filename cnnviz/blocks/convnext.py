"""Compat path: the code lives in :mod:`cnnviz.architecture.blocks.convnext`; this name keeps old imports (and monkeypatches) working."""
import sys

from cnnviz.architecture.blocks import convnext as _module

sys.modules[__name__] = _module
