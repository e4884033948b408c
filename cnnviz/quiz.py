"""Compat path: the code lives in :mod:`cnnviz.classroom.quiz`; this name keeps old imports (and monkeypatches) working."""
import sys

from cnnviz.classroom import quiz as _module

sys.modules[__name__] = _module
