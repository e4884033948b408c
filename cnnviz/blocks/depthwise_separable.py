"""Compat path: the code lives in :mod:`cnnviz.architecture.blocks.depthwise_separable`; this name keeps old imports (and monkeypatches) working."""
import sys

from cnnviz.architecture.blocks import depthwise_separable as _module

sys.modules[__name__] = _module
