"""Compat path: the code lives in :mod:`cnnviz.architecture.blocks.dilated_dense`; this name keeps old imports (and monkeypatches) working."""
import sys

from cnnviz.architecture.blocks import dilated_dense as _module

sys.modules[__name__] = _module
