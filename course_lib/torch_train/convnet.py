"""The course ConvNet in PyTorch: 3x3 conv, batchnorm, GELU or ReLU, max pooling, He init.

One network for every dataset: the pooling depth is the number of `widths`,
one 2x2 max pool per stage, and a global max pool reduces whatever map is left,
so no input is resized. Each dataset's trainer_preset (course_lib.data.DATASETS)
picks as many stages as its image side allows (two take 8x8 to 2x2).
"""

import torch
from torch import nn

from course_lib.checks import check_array, check_choice, check_count

ACTIVATIONS = {"gelu": nn.GELU, "relu": nn.ReLU}


class Standardize(nn.Module):
    """Turn uint8 pixels into standardized floats: (x - mean) / std per channel.

    Inputs:
    - mean, std: sequences of C floats in pixel units (0..255).
    Forward: x of shape (N, C, H, W), any dtype -> float32 of the same shape.
    """

    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32).reshape(1, -1, 1, 1))
        self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32).reshape(1, -1, 1, 1))

    def forward(self, x):
        return (x.float() - self.mean) / self.std


def _conv_bn(in_channels, out_channels, activation, pool):
    """3x3 conv (no bias: batchnorm's beta replaces it), optional 2x2 max pool, batchnorm, activation."""
    layers = [nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False)]
    if pool:
        layers.append(nn.MaxPool2d(2))  # pooling before batchnorm normalizes a 4x smaller map
    return [*layers, nn.BatchNorm2d(out_channels), ACTIVATIONS[activation]()]


def build_convnet(in_channels, num_classes, widths, activation="gelu", mean=None, std=None):
    """Build the course ConvNet as an nn.Sequential.

    Layout: standardize -> one stage per width [conv, 2x2 max pool, bn, act,
    conv, bn, act] -> global max pool -> linear. Pooling right after each
    stage's first conv keeps the costly full-resolution work to that one conv.
    Convolutions get He initialization (the lecture's N(0, 1) / sqrt(fan_in / 2)).

    Inputs:
    - in_channels: C of the input images (1 for grey-scale, 3 for colour).
    - num_classes: number of output scores.
    - widths: channels of each stage; their number is the pooling depth, so
      the image side must be at least 2 ** len(widths).
    - activation: "gelu" or "relu".
    - mean, std: per-channel pixel statistics (C floats, pixel units) used to
      standardize the input; None means mean 0 and std 255 (pixels to [0, 1]).

    Returns a model mapping images (N, C, H, W) (uint8 or float pixels 0..255)
    to scores (N, num_classes).
    """
    in_channels = check_count("in_channels", in_channels)
    num_classes = check_count("num_classes", num_classes)
    check_choice("activation", activation, tuple(ACTIVATIONS))
    if len(widths) == 0:
        raise ValueError("widths must name at least one stage, got ()")
    widths = [check_count("widths entries", width) for width in widths]
    mean = [0.0] * in_channels if mean is None else mean
    std = [255.0] * in_channels if std is None else std
    check_array("mean", mean, shape=(in_channels,), dims=f"({in_channels},)")
    check_array("std", std, shape=(in_channels,), dims=f"({in_channels},)")

    layers = [Standardize(mean, std)]
    previous = in_channels
    for width in widths:
        layers += _conv_bn(previous, width, activation, pool=True)
        layers += _conv_bn(width, width, activation, pool=False)
        previous = width
    layers += [nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(previous, num_classes, bias=False)]
    model = nn.Sequential(*layers)
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
        elif isinstance(module, nn.Linear):
            nn.init.kaiming_normal_(module.weight, nonlinearity="linear")
    return model
