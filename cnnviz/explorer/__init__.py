"""The Network Explorer's engine: the whole network for one image (every layer's maps, the residual
connections, the class probabilities) and any one neuron down to its arithmetic.

- :func:`neuron_detail` — a conv output: input patch, kernel slice, products, sum + bias, what follows.
- :func:`layer_arithmetic` — batch norm, residual addition, linear, average pooling, ReLU: formula, terms, result
  and PyTorch's value; :func:`record` — one recorded forward pass (to reuse across neurons).
- :func:`pooling_detail`, :func:`softmax_detail` — a pooling window and its winner; logits → probabilities.
- :func:`receptive_field` — the input box an output depends on (structural dependency, any model);
  :func:`receptive_field_chain` — the same by geometry, for sequential chains.
- :func:`overview` — input → every layer as columns → probabilities, with readable names and the edges.
- :func:`top_patches`, :func:`random_init`, :func:`gradient_map`, :func:`drawing_input` — beyond one image.
- :func:`recognise_drawing`, :func:`preprocess_drawing` — a drawn digit made MNIST-like and read by the drawing model."""
from .neuron import NeuronDetail, PoolDetail, SoftmaxDetail, neuron_detail, pooling_detail, softmax_detail
from .beyond import SOURCES, TopPatch, drawing_input, explorer_input, gradient_map, random_init, top_patches
from .drawing import preprocess as preprocess_drawing, recognise_drawing
from .overview import Column, Overview, overview
from .receptive import receptive_field, receptive_field_chain
from .layer_arithmetic import Arithmetic, arithmetic_kind, layer_arithmetic
from .recording import Recording, record

__all__ = ["NeuronDetail", "PoolDetail", "SoftmaxDetail", "neuron_detail", "pooling_detail", "softmax_detail",
           "receptive_field", "receptive_field_chain", "Column", "Overview", "overview", "TopPatch", "drawing_input", "explorer_input", "SOURCES",
           "gradient_map", "random_init", "top_patches", "preprocess_drawing", "recognise_drawing",
           "Arithmetic", "arithmetic_kind", "layer_arithmetic", "Recording", "record"]
