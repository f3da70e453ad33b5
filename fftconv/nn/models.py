"""Ready-made networks: the classic LeNet-5 and a small modern variant.

Every model is a :class:`~fftconv.nn.Sequential` with named layers and an
``architecture`` attribute ``{"name": ..., "kwargs": {...}}`` (JSON-ready), which
checkpoints record so :func:`~fftconv.nn.load_checkpoint` can rebuild the model.
"""

from __future__ import annotations

import numbers

from ..errors import bad_type, bad_value
from .init import as_generator
from .layers import (RBF, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU, Sequential,
                     Subsample2d, Tanh, lenet5_connection_table)
from .module import check_float_dtype
from .spectral import SpectralConv2d

__all__ = ["lenet5", "lenet5_modern", "MODELS", "build_model"]

#: LeCun et al. (1998), Appendix A: ``f(a) = 1.7159 tanh(2a/3)``.
LECUN_TANH = (1.7159, 2.0 / 3.0)


def _check_count(func, name, value):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise bad_type(func, name, value, "a positive int")
    if value < 1:
        raise bad_value(func, name, value, "a positive int")
    return int(value)


#: Output layers of :func:`lenet5`.
LENET5_OUTPUTS = ("linear", "rbf")


def _check_bool(func, name, value):
    if not isinstance(value, bool):
        raise bad_type(func, name, value, "a bool")
    return value


#: Ways a model's conv layers store their filters (``parametrization=``).
PARAMETRIZATIONS = {"spatial": Conv2d, "spectral": SpectralConv2d}


def _conv_class(func, parametrization):
    if not isinstance(parametrization, str) or parametrization not in PARAMETRIZATIONS:
        raise bad_value(func, "parametrization", parametrization,
                        f"one of {', '.join(map(repr, PARAMETRIZATIONS))}")
    return PARAMETRIZATIONS[parametrization]


def lenet5(partial_connections: bool = False, in_channels: int = 1, num_classes: int = 10,
           dtype="float32", seed=0, backend=None, output="linear",
           allocate=True, parametrization="spatial") -> Sequential:
    """LeNet-5 (LeCun et al. 1998) for ``32×32`` images.

    Parameters
    ----------
    partial_connections : bool
        Use the original C3 connection table (:func:`lenet5_connection_table`,
        1,516 parameters) instead of full connections (2,416).
    in_channels : int
        Input channels (1 for grey digits).
    num_classes : int
        Output scores (logits).
    dtype : {'float32', 'float64'}
    seed : int or numpy.random.Generator
        Initialisation seed.
    backend : str, optional
        Convolution backend of every conv layer (default: the global choice).
    output : {'linear', 'rbf'}
        The output layer: a :class:`Linear` layer giving logits (default, for
        training with a softmax cross-entropy loss), or the paper's Euclidean
        :class:`RBF` units (840 parameters, outputs are penalties).
    allocate : bool
        ``False`` builds the model shape-only (no weight arrays), for counting.
    parametrization : {'spatial', 'spectral'}
        How the conv layers store and train their filters: :class:`Conv2d`, or
        :class:`SpectralConv2d` (their DFT; Rippel et al. 2015). Both draw the
        same initial filters from the same ``seed``.

    Returns
    -------
    Sequential
        Input ``(N, in_channels, 32, 32)`` (its ``input_shape`` is
        ``(in_channels, 32, 32)``), output ``(N, num_classes)``.

    Notes
    -----
    Layers, as in LeCun et al. 1998: C1 6@28×28 (5×5, 156 parameters, 122,304
    connections), S2 6@14×14 (trainable subsampling: window sum × coefficient +
    bias), C3 16@10×10, S4 16@5×5, C5 120@1×1, F6 84, output 10. Every layer up
    to F6 is followed by LeCun's scaled tanh ``1.7159·tanh(2a/3)``. With
    ``partial_connections=True, output='rbf'`` it is the paper's network: 60,000
    trainable parameters and 840 of the RBF centres. By default the RBF units are
    replaced by a linear layer whose logits feed a softmax cross-entropy loss, as
    in modern reproductions.

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv import nn
    >>> net = nn.lenet5()
    >>> net(np.zeros((2, 1, 32, 32), np.float32)).shape
    (2, 10)
    >>> nn.lenet5(partial_connections=True)["c3"].num_parameters()
    1516
    >>> paper = nn.lenet5(partial_connections=True, output="rbf", allocate=False)
    >>> paper.num_parameters(), paper["output"]
    (60840, RBF(84, 10))
    """
    func = "lenet5"
    in_channels = _check_count(func, "in_channels", in_channels)
    num_classes = _check_count(func, "num_classes", num_classes)
    dt = check_float_dtype(func, dtype)
    rng = as_generator(func, seed)
    if not isinstance(output, str) or output not in LENET5_OUTPUTS:
        raise bad_value(func, "output", output, f"one of {', '.join(map(repr, LENET5_OUTPUTS))}")
    allocate = _check_bool(func, "allocate", allocate)
    table = lenet5_connection_table() if partial_connections else None
    Conv = _conv_class(func, parametrization)
    conv = dict(dtype=dt, seed=rng, backend=backend, allocate=allocate)
    dense = dict(dtype=dt, seed=rng, allocate=allocate)
    if output == "rbf":
        last = RBF(84, num_classes, **dense)
        title = "LeNet-5 (LeCun et al. 1998)"
    else:
        last = Linear(84, num_classes, **dense)
        title = "LeNet-5, linear output (LeCun et al. 1998)"
    net = Sequential({
        "c1": Conv(in_channels, 6, 5, **conv), "c1_act": Tanh(*LECUN_TANH),
        "s2": Subsample2d(6, 2, dtype=dt, allocate=allocate), "s2_act": Tanh(*LECUN_TANH),
        "c3": Conv(6, 16, 5, connections=table, **conv), "c3_act": Tanh(*LECUN_TANH),
        "s4": Subsample2d(16, 2, dtype=dt, allocate=allocate), "s4_act": Tanh(*LECUN_TANH),
        "c5": Conv(16, 120, 5, **conv), "c5_act": Tanh(*LECUN_TANH),
        "flatten": Flatten(),
        "f6": Linear(120, 84, **dense), "f6_act": Tanh(*LECUN_TANH),
        "output": last,
    }, input_shape=(in_channels, 32, 32), name=title)
    kwargs = {"partial_connections": bool(partial_connections), "in_channels": in_channels,
              "num_classes": num_classes, "dtype": dt.name}
    if output != "linear":          # checkpoints of the default model keep their metadata
        kwargs["output"] = output
    if parametrization != "spatial":
        kwargs["parametrization"] = parametrization
    net.architecture = {"name": "lenet5", "kwargs": kwargs}
    return net


def lenet5_modern(in_channels: int = 1, num_classes: int = 10, dropout: float = 0.0,
                  dtype="float32", seed=0, backend=None, allocate=True,
                  parametrization="spatial") -> Sequential:
    """A small modern LeNet: ReLU, max pooling, 'same' padding, He initialisation.

    Parameters
    ----------
    in_channels, num_classes : int
    dropout : float
        Dropout probability before the output layer (0 disables it).
    dtype : {'float32', 'float64'}
    seed : int or numpy.random.Generator
    backend : str, optional
    allocate : bool
        ``False`` builds the model shape-only (no weight arrays), for counting.
    parametrization : {'spatial', 'spectral'}
        How the conv layers store and train their filters: :class:`Conv2d`, or
        :class:`SpectralConv2d` (their DFT; Rippel et al. 2015). Both draw the
        same initial filters from the same ``seed``.

    Returns
    -------
    Sequential
        Input ``(N, in_channels, 32, 32)``, output ``(N, num_classes)``.

    Notes
    -----
    ``c1`` 6@32×32 (5×5, padding 2) → ReLU → 2×2 max-pool → ``c3`` 16@16×16
    (5×5, padding 2) → ReLU → 2×2 max-pool → flatten (1,024) → ``f5`` 120 → ReLU →
    ``f6`` 84 → ReLU → dropout → ``output``. Padding keeps border information
    (CS231n), ReLU and max pooling train faster than saturating units and
    trainable subsampling (Glorot et al. 2011; Scherer et al. 2010).

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv import nn
    >>> nn.lenet5_modern()(np.zeros((1, 1, 32, 32), np.float32)).shape
    (1, 10)
    """
    func = "lenet5_modern"
    in_channels = _check_count(func, "in_channels", in_channels)
    num_classes = _check_count(func, "num_classes", num_classes)
    dt = check_float_dtype(func, dtype)
    rng = as_generator(func, seed)
    allocate = _check_bool(func, "allocate", allocate)
    Conv = _conv_class(func, parametrization)
    conv = dict(dtype=dt, seed=rng, backend=backend, init="he", padding=2, allocate=allocate)
    dense = dict(dtype=dt, seed=rng, allocate=allocate)
    layers = {
        "c1": Conv(in_channels, 6, 5, **conv), "c1_act": ReLU(), "p2": MaxPool2d(2),
        "c3": Conv(6, 16, 5, **conv), "c3_act": ReLU(), "p4": MaxPool2d(2),
        "flatten": Flatten(),
        "f5": Linear(16 * 8 * 8, 120, init="he", **dense), "f5_act": ReLU(),
        "f6": Linear(120, 84, init="he", **dense), "f6_act": ReLU(),
    }
    drop = Dropout(dropout, seed=rng)
    if drop.p:
        layers["dropout"] = drop
    layers["output"] = Linear(84, num_classes, **dense)
    net = Sequential(layers, input_shape=(in_channels, 32, 32),
                     name="LeNet-5, modern variant (ReLU, max pooling, 'same' padding)")
    net.architecture = {"name": "lenet5_modern", "kwargs": {
        "in_channels": in_channels, "num_classes": num_classes, "dropout": drop.p,
        "dtype": dt.name}}
    if parametrization != "spatial":
        net.architecture["kwargs"]["parametrization"] = parametrization
    return net


#: Model builders by name (the ``--model`` choices of ``fftconv train``).
MODELS = {"lenet5": lenet5, "lenet5_modern": lenet5_modern}


def build_model(name: str, **kwargs) -> Sequential:
    """Build a registered model by name (see :data:`MODELS`).

    Examples
    --------
    >>> from fftconv import nn
    >>> nn.build_model("lenet5", seed=1).architecture["name"]
    'lenet5'
    """
    if not isinstance(name, str) or name not in MODELS:
        raise bad_value("build_model", "name", name, f"one of {', '.join(map(repr, MODELS))}")
    return MODELS[name](**kwargs)
