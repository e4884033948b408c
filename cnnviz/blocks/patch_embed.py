"""Compat path: the code lives in :mod:`cnnviz.architecture.blocks.patch_embed`; this name keeps old imports (and monkeypatches) working."""
import sys

from cnnviz.architecture.blocks import patch_embed as _module

sys.modules[__name__] = _module
