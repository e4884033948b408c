"""What PyTorch itself says: the reference every engine test compares to."""
import warnings

import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
CONV_T = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}
MAXPOOL = {1: nn.MaxPool1d, 2: nn.MaxPool2d, 3: nn.MaxPool3d}
AVGPOOL = {1: nn.AvgPool1d, 2: nn.AvgPool2d, 3: nn.AvgPool3d}


def conv_module(in_shape, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                transposed=False, output_padding=0, padding_mode="zeros", bias=True):
    n = len(in_shape) - 1
    if transposed:
        return CONV_T[n](in_shape[0], out_channels, kernel_size, stride=stride, padding=padding,
                         output_padding=output_padding, groups=groups, bias=bias, dilation=dilation,
                         padding_mode=padding_mode)
    kwargs = {} if output_padding == 0 else {"output_padding": output_padding}  # nn.ConvNd rejects it
    return CONV[n](in_shape[0], out_channels, kernel_size, stride=stride, padding=padding, dilation=dilation,
                   groups=groups, bias=bias, padding_mode=padding_mode, **kwargs)


def torch_conv(in_shape, *args, **kwargs):
    """(out_shape, flops, params) or the exception PyTorch raised."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            m = conv_module(in_shape, *args, **kwargs)
            x = torch.zeros(1, *in_shape)
            with torch.no_grad(), FlopCounterMode(display=False) as fc:
                y = m(x)
            if y.numel() == 0:  # 2-D transposed conv on the oneDNN path returns an empty tensor where
                raise RuntimeError("output size 0")  # 1-D/3-D raise "Output size is too small": one rule
            return tuple(y.shape[1:]), fc.get_total_flops(), sum(p.numel() for p in m.parameters())
        except Exception as e:  # noqa: BLE001 - any rejection counts
            return e


def torch_pool(in_shape, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, kind="max"):
    n = len(in_shape) - 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if kind == "max":
                m = MAXPOOL[n](kernel_size, stride, padding, dilation, ceil_mode=ceil_mode)
            else:
                if dilation != 1:
                    raise TypeError("AvgPool has no dilation")
                m = AVGPOOL[n](kernel_size, stride, padding, ceil_mode=ceil_mode)
            with torch.no_grad():
                return tuple(m(torch.zeros(1, *in_shape)).shape[1:])
        except Exception as e:  # noqa: BLE001
            return e
