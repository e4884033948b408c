"""Animation: step-by-step traces of a convolution (2-D in ``conv2d``; channels, transposed, padding pitfalls
in ``extra``; 1-D and 3-D in ``nd``; the four padding modes side by side in ``padding_modes``; the image-kernel
gallery on a photograph in ``image_kernels``), pooling included. Traces are data; cnnviz.figures draws them.

The Conv Animation page's room. May import: cnnviz.errors, cnnviz.geometry, numpy, torch."""
from cnnviz.animation.conv2d import (MAX_STEPS, MAX_TAPS, NP_PAD_MODE, Step, Trace, padded_grid, conv2d_steps,
    pool2d_steps, KERNEL_PRESETS, INPUT_SOURCES, DEFAULTS, kernel_preset, sample_input)
from cnnviz.animation.extra import (StampStep, StampTrace, conv_transpose2d_steps, overlap_counts,
    untouched_inputs, same_padding_split, ChannelStep, ChannelTrace, volumes, multichannel_conv2d_steps,
    EXTRA_DEFAULTS, EXTRA_BOUNDS, center_crop, channel_demo)
from cnnviz.animation.nd import (SIGNALS, KERNELS_1D, MAX_LENGTH, signal_input, kernel_1d, conv1d_steps,
    volume_demo, conv3d_plane_steps, ND_DEFAULTS, ND_BOUNDS, ND_OPTIONS)
from cnnviz.animation.padding_modes import (ModeOutput, border_mask, padding_mode_outputs, PAD_MODES_DEFAULTS,
    PAD_MODES_BOUNDS)
from cnnviz.animation.image_kernels import (GALLERY, MAGNITUDE, TYPED, KERNEL_CHOICES, PHOTO_PAD_MODES,
    TYPED_DEFAULT, KernelResult, Window, parse_kernel, kernel_for, pad_image, convolve, apply_kernel,
    gradient_magnitude)

__all__ = ["MAX_STEPS", "MAX_TAPS", "NP_PAD_MODE", "Step", "Trace", "padded_grid", "conv2d_steps", "pool2d_steps",
           "KERNEL_PRESETS", "INPUT_SOURCES", "DEFAULTS", "kernel_preset", "sample_input", "StampStep",
           "StampTrace", "conv_transpose2d_steps", "overlap_counts", "untouched_inputs", "same_padding_split",
           "ChannelStep", "ChannelTrace", "volumes", "multichannel_conv2d_steps", "EXTRA_DEFAULTS", "EXTRA_BOUNDS",
           "center_crop", "channel_demo", "SIGNALS", "KERNELS_1D", "MAX_LENGTH", "signal_input", "kernel_1d",
           "conv1d_steps", "volume_demo", "conv3d_plane_steps", "ND_DEFAULTS", "ND_BOUNDS", "ND_OPTIONS",
           "ModeOutput", "border_mask", "padding_mode_outputs", "PAD_MODES_DEFAULTS", "PAD_MODES_BOUNDS",
           "GALLERY", "MAGNITUDE", "TYPED", "KERNEL_CHOICES", "PHOTO_PAD_MODES", "TYPED_DEFAULT", "KernelResult",
           "Window", "parse_kernel", "kernel_for", "pad_image", "convolve", "apply_kernel", "gradient_magnitude"]
