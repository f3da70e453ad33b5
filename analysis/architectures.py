"""Layer tables of the networks the seeds count: LeNet-5, VGG-16, seed 004's bottleneck.

These are descriptions for :func:`analysis.complexity.network_cost` and
:func:`analysis.complexity.receptive_field` (shapes and hyperparameters only, no
weights); the trainer in ``fftconv.nn`` builds runnable models separately.

``MODELS`` maps the names accepted by ``fftconv cost`` to the networks.
"""

from __future__ import annotations

from fftconv.errors import bad_type, bad_value

from .complexity import RBF, Conv, Linear, Network, Pool

__all__ = ["LENET5_C3_INPUTS", "LENET5_C3_TABLE", "LENET5", "VGG16", "CONV3X3_256",
           "BOTTLENECK_256", "MODELS", "get_model"]

#: S2 maps read by each of LeNet-5's 16 C3 maps (LeCun et al. 1998, Table I): six
#: contiguous triples, six contiguous quadruples, three non-contiguous quadruples, all six.
LENET5_C3_INPUTS = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)

#: The same as a ``(16, 6)`` connection table: ``LENET5_C3_TABLE[o][c]`` is True when
#: C3 map ``o`` reads S2 map ``c`` (60 of the 96 pairs).
LENET5_C3_TABLE = tuple(tuple(c in inputs for c in range(6)) for inputs in LENET5_C3_INPUTS)

#: LeNet-5 (seed 002; LeCun, Bottou, Bengio and Haffner 1998) on a 32×32 image.
#: Parameters: C1 156, S2 12, C3 1,516, S4 32, C5 48,120, F6 10,164 (60,000 trainable)
#: and 840 hand-set RBF output parameters. C1 has 122,304 connections.
LENET5 = Network(
    name="LeNet-5 (LeCun et al. 1998)",
    input_shape=(1, 32, 32),
    layers=(
        Conv(6, 5, name="C1"),
        Pool(2, kind="sum", trainable=True, name="S2"),
        Conv(16, 5, table=LENET5_C3_TABLE, name="C3"),
        Pool(2, kind="sum", trainable=True, name="S4"),
        Conv(120, 5, name="C5"),
        Linear(84, name="F6"),
        RBF(10, name="output"),
    ),
)


def _vgg16() -> Network:
    layers = []
    for block, (width, convs) in enumerate(((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)),
                                           start=1):
        layers += [Conv(width, 3, padding=1, name=f"conv{block}_{i}")
                   for i in range(1, convs + 1)]
        layers.append(Pool(2, name=f"pool{block}"))
    layers += [Linear(4096, name="fc6"), Linear(4096, name="fc7"), Linear(1000, name="fc8")]
    return Network(layers, (3, 224, 224), name="VGG-16 (Simonyan and Zisserman 2015)")


#: VGG-16, configuration D (seed 003's table): 3×3 convolutions with padding 1, 2×2 max
#: pooling, three FC layers. 138,344,128 weights (138,357,544 with biases).
VGG16 = _vgg16()

#: Seed 004: one 3×3 convolution from 256 to 256 channels on 100×100.
CONV3X3_256 = Network([Conv(256, 3, padding=1, name="conv3x3")], (256, 100, 100),
                      name="seed 004: 3x3 conv, 256 -> 256 on 100x100")

#: Seed 004: the same with a 1×1 convolution to 64 channels first.
BOTTLENECK_256 = Network([Conv(64, 1, name="reduce1x1"), Conv(256, 3, padding=1, name="conv3x3")],
                         (256, 100, 100),
                         name="seed 004: 1x1 conv to 64, then 3x3 conv to 256 on 100x100")

#: Networks by the name ``fftconv cost`` accepts.
MODELS = {
    "lenet5": LENET5,
    "vgg16": VGG16,
    "conv3x3-256": CONV3X3_256,
    "bottleneck-256": BOTTLENECK_256,
}


def get_model(name):
    """The :class:`~analysis.complexity.Network` registered as ``name`` in ``MODELS``.

    Parameters
    ----------
    name : str
        ``'lenet5'``, ``'vgg16'``, ``'conv3x3-256'`` or ``'bottleneck-256'``.

    Returns
    -------
    Network

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
