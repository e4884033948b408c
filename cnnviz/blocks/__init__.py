"""Modern building blocks, one topic per file (like timm's ``layers/``); each a plain ``nn.Module`` usable alone,
with one activation module instance per use."""
from .bottleneck import Bottleneck
from .convnext import ConvNeXtBlock, LayerScale
from .depthwise_separable import DepthwiseSeparableConv
from .dilated_dense import DilatedResidualDenseBlock
from .dynamic_conv import DynamicConv
from .patch_embed import AttentionPool, PatchEmbed, PatchViTPool
from .r2plus1d import Conv2Plus1D, mid_channels
from .shuffle import ChannelShuffle, ShuffleUnit, channel_shuffle
from .squeeze_excite import ConvSE, SqueezeExcite

__all__ = ["AttentionPool", "Bottleneck", "ChannelShuffle", "Conv2Plus1D", "ConvNeXtBlock", "ConvSE",
           "DepthwiseSeparableConv", "DilatedResidualDenseBlock", "DynamicConv", "LayerScale", "PatchEmbed",
           "PatchViTPool", "ShuffleUnit", "SqueezeExcite", "channel_shuffle", "mid_channels"]
