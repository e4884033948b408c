"""Compat path: the code lives in :mod:`cnnviz.compression` (quantize, prune, evaluate); this name keeps old
imports working."""
from cnnviz.compression.evaluate import *  # noqa: F401,F403
from cnnviz.compression.prune import *  # noqa: F401,F403
from cnnviz.compression.quantize import *  # noqa: F401,F403
from cnnviz.compression.evaluate import _sparsity  # noqa: F401
from cnnviz.compression.prune import PRUNABLE, _check_tau  # noqa: F401
from cnnviz.compression.quantize import _check_bits  # noqa: F401
