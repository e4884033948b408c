"""The Compression page's panels and caches: ``cache`` (each evaluation cached by the plain values of the controls it
reads) and ``panels`` (the knowledge-distillation tab)."""
from cnnviz.ui.compression.cache import baseline, curves, model, pruned, quantized, teacher_accuracy
from cnnviz.ui.compression.panels import LABELS, distill_tab

__all__ = ["baseline", "curves", "model", "pruned", "quantized", "teacher_accuracy", "LABELS", "distill_tab"]
