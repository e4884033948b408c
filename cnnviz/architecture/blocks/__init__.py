"""Modern building blocks, one topic per file (like timm's ``layers/``); each a plain ``nn.Module`` usable alone,
with one activation module instance per use.

Part of the architecture room. May import: cnnviz.errors, torch; nothing else of cnnviz."""
from cnnviz.architecture.blocks.bottleneck import Bottleneck
from cnnviz.architecture.blocks.convnext import ConvNeXtBlock, LayerScale
from cnnviz.architecture.blocks.depthwise_separable import DepthwiseSeparableConv
from cnnviz.architecture.blocks.dilated_dense import DilatedResidualDenseBlock
from cnnviz.architecture.blocks.dynamic_conv import DynamicConv
from cnnviz.architecture.blocks.patch_embed import AttentionPool, PatchEmbed, PatchViTPool
from cnnviz.architecture.blocks.r2plus1d import Conv2Plus1D, mid_channels
from cnnviz.architecture.blocks.shuffle import ChannelShuffle, ShuffleUnit, channel_shuffle
from cnnviz.architecture.blocks.squeeze_excite import ConvSE, SqueezeExcite

__all__ = ["AttentionPool", "Bottleneck", "ChannelShuffle", "Conv2Plus1D", "ConvNeXtBlock", "ConvSE",
           "DepthwiseSeparableConv", "DilatedResidualDenseBlock", "DynamicConv", "LayerScale", "PatchEmbed",
           "PatchViTPool", "ShuffleUnit", "SqueezeExcite", "channel_shuffle", "mid_channels"]
