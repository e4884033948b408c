"""Compat path: the code lives in :mod:`cnnviz.architecture.blocks.dynamic_conv`; this name keeps old imports (and monkeypatches) working."""
import sys

from cnnviz.architecture.blocks import dynamic_conv as _module

sys.modules[__name__] = _module
