"""Every limit on what one request (a link, a typed stack, a widget) may make this shared server compute or
allocate, in one place. A class shares one web process: each path that allocates from user-controlled sizes
checks its cost against these by arithmetic first and refuses with a ConfigError that names the limit.
The modules that enforce a limit re-export it under its old name (``cnnviz.architecture.MAX_STACK_FLOPS`` ...)."""
from __future__ import annotations

# --- links: what a query string may carry, and how much of it a notice shows
MAX_QUERY_VALUE_CHARS = 2_000       # one ?key=value; longer is ignored with a notice, before any parsing
MAX_SHOWN_CHARS = 80                # a user-controlled string quoted in a notice or error, then "…"
MAX_LINK_CHARS = 4_000              # the builder's ``stack=`` token (a link that long works in every browser)
MAX_STACK_JSON = 64_000             # bytes of stack JSON after decompression: a deflate bomb stops here

# --- integers in a spec: PyTorch's sizes are C ints/longs; far beyond any teachable layer anyway
MAX_INT = 2**31 - 1

MAX_RF_LAYERS = 64                  # rows of a receptive-field stack: keeps r and j under ~600 digits

# --- an Architecture Lab stack: built and run once (batch 1) for its summary
MAX_STACK_PARAMS = 20_000_000       # all weights: 80 MB in float32
MAX_STACK_ACTIVATIONS = 16_000_000  # the input plus all layer outputs for one input (the summary keeps them): 64 MB
MAX_STACK_FLOPS = 20_000_000_000    # one forward pass: a few seconds on one CPU core
MAX_SUMMARY_INPUT = MAX_STACK_ACTIVATIONS  # elements of the input ``summarize`` allocates, for any model

# --- one layer (Conv Arithmetic) built and run live to check the formulas against PyTorch
MAX_BUILD_PARAMS = 50_000_000       # ~200 MB of weights for one layer
MAX_ELEMENTS = 2_000_000            # input or output elements; above this the layer is not run live
MAX_FLOPS = 2_000_000_000

# --- step-by-step animations
MAX_STEPS = 4096                    # output elements (one animation frame each)
MAX_TAPS = 1 << 18                  # steps × kernel taps: the size of all windows together
MAX_LENGTH = 32                     # a 1-D signal's length
