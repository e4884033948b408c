"""The Architecture Lab page's panels: ``panels`` (the per-layer report, the Builder + export tab, the cached block
comparison and compound scaling), ``views`` (the "Blocks drawn" tab) and ``search`` (the Search (NAS) tab)."""
from cnnviz.ui.architecture_lab.panels import (as_compute, blocks, builder_stack, builder_tab, layer_report,
                                               preset_summary, scaling, table)
from cnnviz.ui.architecture_lab.search import BUDGETS, STRATEGIES, search_tab
from cnnviz.ui.architecture_lab.views import BOUNDS, DEFAULTS, OPTIONS, blocks_drawn_tab

__all__ = ["as_compute", "blocks", "builder_stack", "builder_tab", "layer_report", "preset_summary", "scaling", "table",
           "BUDGETS", "STRATEGIES", "search_tab", "BOUNDS", "DEFAULTS", "OPTIONS", "blocks_drawn_tab"]
