"""The networks of the counting literature, as shape-only ``fftconv.nn`` models: LeNet-5, VGG-16, Qiu's bottleneck.

Each is a :class:`fftconv.nn.Sequential` built with ``allocate=False`` (parameters
with shapes and no arrays: VGG-16's 138M weights are never allocated), carrying its
``input_shape`` and ``name``, for :func:`analysis.complexity.network_cost`,
:func:`analysis.complexity.receptive_field` and :func:`fftconv.nn.summary`. Build
them with ``allocate=True`` (the functions below) to run them.

LeNet-5 is :func:`fftconv.nn.lenet5` itself, with the paper's C3 connection table
(:func:`fftconv.nn.lenet5_connection_table`) and RBF output units.

``MODELS`` maps the names accepted by ``fftconv cost`` to the networks.
"""

from __future__ import annotations

from fftconv import nn
from fftconv.errors import bad_type, bad_value

__all__ = ["lenet5", "vgg16", "conv3x3_256", "bottleneck_256", "LENET5", "VGG16",
           "CONV3X3_256", "BOTTLENECK_256", "MODELS", "get_model"]


def lenet5(allocate: bool = False) -> nn.Sequential:
    """LeNet-5 as LeCun et al. (1998) built it, on a 32×32 image.

    Parameters
    ----------
    allocate : bool
        ``False`` (default): shape-only, for counting.

    Returns
    -------
    fftconv.nn.Sequential
        ``nn.lenet5(partial_connections=True, output='rbf')``. Parameters: C1 156,
        S2 12, C3 1,516, S4 32, C5 48,120, F6 10,164 (60,000 trainable) and 840
        hand-set RBF output parameters. C1 has 122,304 connections.

    Examples
    --------
    >>> net = lenet5()
    >>> net.input_shape, net["c3"].num_parameters(), net.num_parameters()
    ((1, 32, 32), 1516, 60840)
    """
    return nn.lenet5(partial_connections=True, output="rbf", allocate=allocate)


def vgg16(allocate: bool = False) -> nn.Sequential:
    """VGG-16, configuration D (Simonyan and Zisserman 2015; CS231n's table), on 224×224.

    Parameters
    ----------
    allocate : bool
        ``False`` (default): shape-only; allocated, its 138,357,544 parameters take 527.8 MiB in float32.

    Returns
    -------
    fftconv.nn.Sequential
        Thirteen 3×3 convolutions with padding 1 and ReLU (``conv1_1`` ...
        ``conv5_3``), 2×2 max pooling after each block (``pool1`` ... ``pool5``),
        then ``fc6``, ``fc7`` (ReLU, dropout 0.5) and ``fc8``: 138,344,128 weights
        (138,357,544 with biases).

    Examples
    --------
    >>> net = vgg16()
    >>> net["fc6"].weight.shape, net["fc6"].weight.data is None
    ((4096, 25088), True)
    """
    layers = {}
    channels = 3
    for block, (width, convs) in enumerate(((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)),
                                           start=1):
        for i in range(1, convs + 1):
            layers[f"conv{block}_{i}"] = nn.Conv2d(channels, width, 3, padding=1, seed=0,
                                                   allocate=allocate)
            layers[f"relu{block}_{i}"] = nn.ReLU()
            channels = width
        layers[f"pool{block}"] = nn.MaxPool2d(2)
    layers["flatten"] = nn.Flatten()
    features = channels * 7 * 7
    for name, width in (("fc6", 4096), ("fc7", 4096)):
        layers[name] = nn.Linear(features, width, seed=0, allocate=allocate)
        layers[f"relu{name[2:]}"] = nn.ReLU()
        layers[f"drop{name[2:]}"] = nn.Dropout(0.5, seed=0)
        features = width
    layers["fc8"] = nn.Linear(features, 1000, seed=0, allocate=allocate)
    return nn.Sequential(layers, input_shape=(3, 224, 224),
                         name="VGG-16 (Simonyan and Zisserman 2015)")


def conv3x3_256(allocate: bool = False) -> nn.Sequential:
    """Qiu's bottleneck example (*Neural Networks and Deep Learning*, ch. 5): one 3×3 convolution from 256 to 256 channels on 100×100.

    Examples
    --------
    >>> conv3x3_256()["conv3x3"].num_parameters()
    590080
    """
    return nn.Sequential({"conv3x3": nn.Conv2d(256, 256, 3, padding=1, seed=0,
                                               allocate=allocate)},
                         input_shape=(256, 100, 100),
                         name="Qiu's bottleneck example: 3x3 conv, 256 -> 256 on 100x100")


def bottleneck_256(allocate: bool = False) -> nn.Sequential:
    """Qiu's bottleneck example: the same with a 1×1 convolution to 64 channels first.

    Examples
    --------
    >>> [layer.out_channels for layer in bottleneck_256()]
    [64, 256]
    """
    return nn.Sequential({"reduce1x1": nn.Conv2d(256, 64, 1, seed=0, allocate=allocate),
                          "conv3x3": nn.Conv2d(64, 256, 3, padding=1, seed=0,
                                               allocate=allocate)},
                         input_shape=(256, 100, 100),
                         name="Qiu's bottleneck example: 1x1 conv to 64, then 3x3 conv to 256 on 100x100")


#: Shape-only instances of the networks above (nothing in them can be trained or run).
LENET5 = lenet5()
VGG16 = vgg16()
CONV3X3_256 = conv3x3_256()
BOTTLENECK_256 = bottleneck_256()

#: Networks by the name ``fftconv cost`` accepts.
MODELS = {
    "lenet5": LENET5,
    "vgg16": VGG16,
    "conv3x3-256": CONV3X3_256,
    "bottleneck-256": BOTTLENECK_256,
}


def get_model(name):
    """The shape-only network registered as ``name`` in ``MODELS``.

    Parameters
    ----------
    name : str
        ``'lenet5'``, ``'vgg16'``, ``'conv3x3-256'`` or ``'bottleneck-256'``.

    Returns
    -------
    fftconv.nn.Sequential

    Raises
    ------
    TypeError, ValueError
        If ``name`` is not a str or not a registered model.

    Examples
    --------
    >>> get_model("lenet5").input_shape
    (1, 32, 32)
    """
    allowed = "one of " + ", ".join(repr(n) for n in MODELS)
    if not isinstance(name, str):
        raise bad_type("get_model", "name", name, allowed)
    if name not in MODELS:
        raise bad_value("get_model", "name", name, allowed)
    return MODELS[name]
