"""The Compression page's panels and caches: ``cache`` (each evaluation cached by the plain values of the controls it
reads) and ``panels`` (the page's settings, each declared once, and the knowledge-distillation tab)."""
from cnnviz.ui.compression.cache import baseline, curves, model, pruned, quantized, teacher_accuracy
from cnnviz.ui.compression.panels import LABELS, SETTINGS, distill_tab

__all__ = ["baseline", "curves", "model", "pruned", "quantized", "teacher_accuracy", "LABELS", "SETTINGS", "distill_tab"]
