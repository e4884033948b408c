"""The Architecture Lab page's panels: ``panels`` (the per-layer report, the Builder + export tab, the cached block
comparison and compound scaling), ``views`` (the "Blocks drawn" tab), ``search`` (the Search (NAS) tab) and
``train`` (the builder's "Train this network")."""
from cnnviz.ui.architecture_lab import panels, search, views
from cnnviz.ui.architecture_lab.panels import (as_compute, blocks, builder_stack, builder_tab, layer_report,
                                               preset_summary, scaling, table)
from cnnviz.ui.architecture_lab.search import BUDGETS, STRATEGIES, search_tab
from cnnviz.ui.architecture_lab.views import blocks_drawn_tab
from cnnviz.ui.architecture_lab import train
from cnnviz.ui.architecture_lab.train import train_panel

SETTINGS = panels.SETTINGS | views.SETTINGS | search.SETTINGS | train.SETTINGS  # every setting, each declared once

__all__ = ["as_compute", "blocks", "builder_stack", "builder_tab", "layer_report", "preset_summary", "scaling", "table",
           "BUDGETS", "STRATEGIES", "search_tab", "SETTINGS", "blocks_drawn_tab", "train_panel"]
