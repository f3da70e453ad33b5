"""What a convolution costs: output sizes, receptive fields, parameters, FLOPs, memory.

The classic texts teach convolution by counting: LeNet-5's parameters and connections
(LeCun et al. 1998), CS231n's output-size rule and VGG-16 memory table, and the
time / space complexity of a layer with the 1×1 bottleneck (Qiu, *Neural Networks and
Deep Learning*). This module
makes those counts exact and reusable:

* :func:`output_shape` and :func:`fit_padding`: the output of a layer, and what to
  do when its windows do not tile the input (CS231n: ``W=10, F=3, P=0, S=2``);
* :func:`receptive_field`: size, jump and start of every layer's receptive field;
* :func:`layer_cost`: parameters, multiply-adds, FLOPs, activation memory, and the
  memory of the im2col column matrix and of the FFT spectra for one conv layer;
* :func:`network_cost`: the same for a whole :mod:`fftconv.nn` model, as a
  printable table.

Networks are described once, as :mod:`fftconv.nn` models (a
:class:`~fftconv.nn.Sequential` of layers, with its ``input_shape``); big ones are
built shape-only (``allocate=False``: parameters with shapes and no arrays), and
:func:`fftconv.nn.summary` counts the same models. Geometry comes from each layer's
``conv_spec``, i.e. :func:`fftconv.make_spec` (the one output-size rule of the
project); only the tiling remainder and the receptive-field recurrence are computed
here. LeNet-5, VGG-16 and Qiu's bottleneck are built in
:mod:`analysis.architectures`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import fftconv
from fftconv import fftlib, nn
from fftconv.checks import int_tuple, is_int, positive_int
from fftconv.errors import bad_type, bad_value
from fftconv.text import format_bytes

__all__ = ["FIT_MODES", "output_shape", "fit_padding", "ReceptiveField", "receptive_field",
           "LayerCost", "layer_cost", "NetworkCost", "network_cost"]

#: What to do when the windows do not tile the padded input (see :func:`output_shape`).
FIT_MODES = ("exact", "floor", "pad")

_X_LAYOUT = "(N, C_in, H, W)"
_W_LAYOUT = "(C_out, C_in/groups, kh, kw)"


# -- argument checks ------------------------------------------------------------

def _check_fit(func: str, fit) -> str:
    allowed = "one of " + ", ".join(repr(m) for m in FIT_MODES)
    if not isinstance(fit, str):
        raise bad_type(func, "fit", fit, allowed)
    if fit not in FIT_MODES:
        raise bad_value(func, "fit", fit, allowed)
    return fit


def _dtype(func: str, dtype) -> np.dtype:
    allowed = "float32 or float64"
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise bad_type(func, "dtype", dtype, allowed) from None
    if dt not in (np.float32, np.float64):
        raise bad_value(func, "dtype", dtype, allowed)
    return dt


# -- tiling: does the last window end on the last row? --------------------------

def _remainders(spec) -> tuple[int, int]:
    """Rows and columns of the padded input after the last full window, per axis."""
    return ((spec.padded_h - spec.span_h) % spec.stride[0],
            (spec.padded_w - spec.span_w) % spec.stride[1])


def _fitted_padding(spec) -> tuple[tuple[int, int], tuple[int, int]]:
    """``spec.padding`` plus the fewest zeros at the bottom/right that close the last window."""
    (pt, pb), (pl, pr) = spec.padding
    rh, rw = _remainders(spec)
    return ((pt, pb + (-rh) % spec.stride[0]), (pl, pr + (-rw) % spec.stride[1]))


def _apply_fit(func: str, spec, fit: str, padding):
    """Return ``spec`` itself, or re-padded (``'pad'``), or raise (``'exact'``)."""
    remainders = _remainders(spec)
    if fit == "floor" or remainders == (0, 0):
        return spec
    fitted = _fitted_padding(spec)
    if fit == "pad":
        return fftconv.make_spec(func, spec.input_shape, spec.weight_shape, spec.stride,
                                 fitted, spec.dilation, spec.groups, spec.dtype)
    axes = []
    for axis, size, pads, span, stride, rest in zip(
            "HW", (spec.h, spec.w), spec.padding, (spec.span_h, spec.span_w), spec.stride,
            remainders):
        if rest:
            ratio = (size + sum(pads) - span) / stride + 1
            axes.append(f"({axis} + P - span)/S + 1 = ({size} + {sum(pads)} - {span})/{stride}"
                        f" + 1 = {ratio:g}")
    raise bad_value(
        func, "padding", padding,
        "a padding with which the windows tile the padded input exactly (CS231n: "
        "(W - F + 2P)/S + 1 must be an integer), but " + " and ".join(axes)
        + f"; padding={fitted} fits (fit='pad'), and fit='floor' drops the incomplete "
        "last window as conv2d does")


def _spec_from_shapes(func, input_shape, weight_shape, stride, padding, dilation, groups):
    x = int_tuple(func, "input_shape", input_shape, 4, _X_LAYOUT)
    w = int_tuple(func, "weight_shape", weight_shape, 4, _W_LAYOUT)
    return fftconv.make_spec(func, x, w, stride, padding, dilation, groups)


def output_shape(input_shape, weight_shape, stride=1, padding=0, dilation=1, groups=1,
                 fit="exact"):
    """Output shape of :func:`fftconv.conv2d`, checking that the windows tile the input.

    Parameters
    ----------
    input_shape : tuple of int
        ``(N, C_in, H, W)``.
    weight_shape : tuple of int
        ``(C_out, C_in / groups, kh, kw)``.
    stride, padding, dilation, groups
        As in :func:`fftconv.conv2d` (``padding`` may be ``'same'`` or ``'valid'``).
    fit : {'exact', 'floor', 'pad'}
        What to do when the last window does not end on the last row (column) of the
        padded input, i.e. when ``(H + P - D·(kh - 1) - 1) / S`` is not an integer:

        * ``'exact'`` (default): raise ``ValueError`` naming the padding that would fit.
          CS231n calls such hyperparameters invalid.
        * ``'floor'``: drop the incomplete last window, as ``conv2d`` (and every deep
          learning framework) does; the last rows of the input are never read.
        * ``'pad'``: zero-pad the bottom / right by the missing rows and columns
          (:func:`fit_padding`), CS231n's "zero pad the rest to make it fit".

    Returns
    -------
    tuple of int
        ``(N, C_out, OH, OW)`` with
        ``OH = floor((H + pad_top + pad_bottom - dilation·(kh - 1) - 1) / stride) + 1``
        (CS231n's ``(W - F + 2P)/S + 1``), likewise ``OW``; for ``fit='pad'`` with the
        padding of :func:`fit_padding`.

    Raises
    ------
    TypeError, ValueError
        Malformed shapes or geometry (as :func:`fftconv.conv2d`), an unknown ``fit``,
        and with ``fit='exact'`` windows that do not tile the padded input.

    Notes
    -----
    The size rule is the one of :class:`fftconv.ConvSpec`; only the remainder
    ``(H + P - D·(kh - 1) - 1) mod S`` is computed here. A symmetric padding can
    never repair an odd remainder with stride 2 (``2P`` is even), so the padding
    that fits adds the missing zeros at the bottom / right only.

    References: A. Karpathy, CS231n notes "Convolutional Neural Networks", section
    "Spatial arrangement" (CS231n); V. Dumoulin and F. Visin, "A guide to
    convolution arithmetic for deep learning", arXiv:1603.07285 (2016).

    Examples
    --------
    CS231n's examples: a 7×7 input with a 3×3 filter gives 5×5 at stride 1 and
    3×3 at stride 2; ``W=10, F=3, P=0, S=2`` does not tile.

    >>> output_shape((1, 3, 7, 7), (8, 3, 3, 3))
    (1, 8, 5, 5)
    >>> output_shape((1, 3, 7, 7), (8, 3, 3, 3), stride=2)
    (1, 8, 3, 3)
    >>> output_shape((1, 1, 10, 10), (1, 1, 3, 3), stride=2, fit="floor")
    (1, 1, 4, 4)
    >>> output_shape((1, 1, 10, 10), (1, 1, 3, 3), stride=2, fit="pad")
    (1, 1, 5, 5)
    >>> output_shape((1, 1, 10, 10), (1, 1, 3, 3), stride=2)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: output_shape: parameter 'padding' must be ... padding=((0, 1), (0, 1)) fits ...
    """
    fit = _check_fit("output_shape", fit)
    spec = _spec_from_shapes("output_shape", input_shape, weight_shape, stride, padding,
                             dilation, groups)
    return _apply_fit("output_shape", spec, fit, padding).output_shape


def fit_padding(input_shape, weight_shape, stride=1, padding=0, dilation=1, groups=1):
    """The padding with which the windows of a layer tile its padded input exactly.

    Parameters
    ----------
    input_shape, weight_shape, stride, padding, dilation, groups
        As in :func:`output_shape`.

    Returns
    -------
    tuple
        ``((top, bottom), (left, right))``: the given padding plus the fewest zeros at
        the bottom and right for which ``(H + P - D·(kh - 1) - 1)`` is a multiple of
        the stride along both axes (unchanged if it already is).

    Notes
    -----
    With ``r = (H + P - D·(kh - 1) - 1) mod S`` rows left after the last full window,
    ``(S - r) mod S`` more zero rows complete one more window. The alternative,
    cropping ``r`` rows, is what ``fit='floor'`` in :func:`output_shape` amounts to.

    Examples
    --------
    >>> fit_padding((1, 1, 10, 10), (1, 1, 3, 3), stride=2)
    ((0, 1), (0, 1))
    >>> fit_padding((1, 3, 224, 224), (96, 3, 11, 11), stride=4)   # AlexNet's 224 vs 227
    ((0, 3), (0, 3))
    >>> fit_padding((1, 3, 227, 227), (96, 3, 11, 11), stride=4)
    ((0, 0), (0, 0))
    """
    spec = _spec_from_shapes("fit_padding", input_shape, weight_shape, stride, padding,
                             dilation, groups)
    return _fitted_padding(spec)


# -- walking an fftconv.nn model -------------------------------------------------

#: Layers that get a row, by the kind of the row.
_KINDS = ((nn.Conv2d, "conv"), (nn.MaxPool2d, "pool"), (nn.AvgPool2d, "pool"),
          (nn.Subsample2d, "pool"), (nn.Linear, "linear"), (nn.RBF, "rbf"))
#: Element-wise layers: their outputs are taken in place, so they get no row.
_IN_PLACE = (nn.ReLU, nn.Sigmoid, nn.Tanh, nn.Dropout)
_PREFIX = {"conv": "conv", "pool": "pool", "linear": "fc", "rbf": "rbf"}
_MODEL = ("an fftconv.nn model (a Sequential or a list of layers) of Conv2d, MaxPool2d, "
          "AvgPool2d, Subsample2d, Linear, RBF, Flatten and element-wise layers "
          "(ReLU, Sigmoid, Tanh, Dropout)")


def _kind(layer) -> str | None:
    for cls, kind in _KINDS:
        if isinstance(layer, cls):
            return kind
    return None


def _leaves(func: str, model) -> list:
    """``(name, layer)`` in the order they run; ``name`` is ``''`` where none is given.

    A Sequential names its layers (dotted for nested ones); a list or a lone layer
    leaves the naming to :func:`_walk` (``conv1``, ``pool1``, ``fc1``, ...).
    """
    if isinstance(model, nn.Module):
        return [(name, m) for name, m in model.named_modules()
                if next(m.children(), None) is None]
    if isinstance(model, (list, tuple)) and model:
        leaves = []
        for layer in model:
            if not isinstance(layer, nn.Module):
                raise bad_type(func, "model", layer, _MODEL)
            leaves += [("", m) for _, m in _leaves(func, layer)]
        return leaves
    raise bad_type(func, "model", model, _MODEL)


def _input_shape(func: str, model, input_shape) -> tuple:
    """One input's shape without the batch axis: ``input_shape``, else the model's own."""
    allowed = "a (C, H, W) or (F,) tuple of positive ints"
    if input_shape is None:
        input_shape = getattr(model, "input_shape", None)
        if input_shape is None:
            raise bad_value(func, "input_shape", input_shape,
                            allowed + " (the model has no input_shape)")
    if not isinstance(input_shape, (tuple, list)):
        raise bad_type(func, "input_shape", input_shape, allowed)
    if len(input_shape) not in (1, 3) or not all(is_int(v) and v > 0 for v in input_shape):
        raise bad_value(func, "input_shape", input_shape, allowed)
    return tuple(int(v) for v in input_shape)


def _model_error(where: str, layer, shape, allowed: str) -> ValueError:
    return bad_value(where, "model", f"{type(layer).__name__} on an input of shape {shape}",
                     allowed)


def _layer_spec(where: str, layer, shape, dtype):
    """``layer.conv_spec(shape, dtype)``, its errors prefixed with where the layer is."""
    try:
        return layer.conv_spec(shape, dtype)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{where}: {exc}") from None


@dataclass(frozen=True)
class _Step:
    """One counted layer: its name and kind, the ConvSpec of its windows, its output shape."""

    layer: object
    name: str
    kind: str
    spec: object
    output_shape: tuple


def _walk(func: str, model, input_shape, batch: int, dtype, fit: str) -> list[_Step]:
    """Place every layer of the model: a ConvSpec for its windows, with ``fit`` applied.

    Conv and pooling windows come from the layer's own ``conv_spec`` (the library's
    one output-size rule; pooling is the geometry of a depthwise convolution). An FC
    or RBF layer is the convolution whose kernel is its whole input (CS231n): after
    a Flatten, the ``(C, H, W)`` maps it flattened, so its receptive field is theirs.
    """
    shape = (batch, *input_shape)
    flattened = None                # the (N, C, H, W) a Flatten just turned into (N, F)
    counters: dict = {}
    steps = []
    for name, layer in _leaves(func, model):
        if isinstance(layer, nn.Flatten):
            if len(shape) == 4:
                flattened = shape
            shape = layer.output_shape(shape)
            continue
        if isinstance(layer, _IN_PLACE):
            continue
        kind = _kind(layer)
        if kind is None:
            raise bad_type(func, "model", layer, _MODEL)
        counters[kind] = counters.get(kind, 0) + 1
        name = name or f"{_PREFIX[kind]}{counters[kind]}"
        where = f"{func} ({name})"
        if kind in ("conv", "pool"):
            if len(shape) != 4:
                raise _model_error(where, layer, shape, "a 4-d (N, C, H, W) input for a "
                                   "convolution or pooling layer")
            channels = getattr(layer, "in_channels", getattr(layer, "channels", shape[1]))
            if shape[1] != channels:
                raise _model_error(where, layer, shape,
                                   f"an input with the layer's {channels} channels (axis 1)")
            spec = _layer_spec(where, layer, shape, dtype)
            spec = _apply_fit(where, spec, fit, getattr(layer, "padding", 0))
            out = spec.output_shape
        else:
            if len(shape) != 2:
                raise _model_error(where, layer, shape,
                                   "a 2-d (N, F) input: put a Flatten before the layer")
            if shape[1] != layer.in_features:
                raise _model_error(where, layer, shape, f"an input of the layer's "
                                   f"in_features={layer.in_features} features")
            maps = flattened if flattened is not None else (*shape, 1, 1)
            units = layer.out_features if kind == "linear" else layer.units
            spec = fftconv.make_spec(where, maps, (units, *maps[1:]), dtype=dtype)
            out = layer.output_shape(shape)
        steps.append(_Step(layer, name, kind, spec, out))
        shape, flattened = out, None
    return steps


# -- receptive fields -----------------------------------------------------------

@dataclass(frozen=True)
class ReceptiveField:
    """The input region one output unit of a layer depends on, per axis ``(H, W)``.

    Attributes
    ----------
    name : str
        The layer.
    size : (int, int)
        Extent of the region in input pixels (its bounding box with dilation).
    jump : (int, int)
        Distance in input pixels between neighbouring output units (product of strides).
    start : (int, int)
        Input coordinate of the first row / column seen by output unit ``(0, 0)``;
        negative when it lies in the zero padding.
    """

    name: str
    size: tuple
    jump: tuple
    start: tuple

    @property
    def center(self) -> tuple:
        """Centre of unit ``(0, 0)``'s region, ``start + (size - 1) / 2`` (may be half-integer)."""
        return tuple(s + (r - 1) / 2 for s, r in zip(self.start, self.size))

    def window(self, i: int, j: int) -> tuple:
        """Input rows and columns seen by output unit ``(i, j)``, inclusive.

        Returns ``((first_row, last_row), (first_col, last_col))``, not clipped to the
        image: rows and columns outside it lie in the zero padding.
        """
        return tuple((s + k * jmp, s + k * jmp + r - 1)
                     for s, k, jmp, r in zip(self.start, (i, j), self.jump, self.size))


def _rf_steps(steps) -> list[ReceptiveField]:
    size, jump, start = (1, 1), (1, 1), (0, 0)
    fields = []
    for step in steps:
        spec = step.spec
        spans = (spec.span_h, spec.span_w)
        before = (spec.padding[0][0], spec.padding[1][0])
        size = tuple(r + (k - 1) * j for r, k, j in zip(size, spans, jump))
        start = tuple(s - p * j for s, p, j in zip(start, before, jump))
        jump = tuple(j * s for j, s in zip(jump, spec.stride))
        fields.append(ReceptiveField(step.name, size, jump, start))
    return fields


def receptive_field(model, input_shape=None, fit="exact"):
    """Receptive field of every counted layer: size, jump and start in input pixels.

    Parameters
    ----------
    model : fftconv.nn.Sequential, fftconv.nn.Module or list of them
        The network (shape-only models do; see ``allocate=False``). Element-wise
        layers and ``Flatten`` get no field.
    input_shape : tuple of int, optional
        ``(C, H, W)`` of one image; default ``model.input_shape`` (an FC layer sees
        its whole input, and every layer's windows are checked to fit).
    fit : {'exact', 'floor', 'pad'}
        Tiling policy, as in :func:`output_shape`.

    Returns
    -------
    list of ReceptiveField
        One per layer, in order. Output unit ``(i, j)`` of a layer sees input rows
        ``start + i·jump`` to ``start + i·jump + size - 1`` (likewise columns).

    Notes
    -----
    With ``r₀ = 1, j₀ = 1, s₀ = 0`` and, for layer ``l`` with kernel ``k``,
    dilation ``d``, stride ``S`` and top / left padding ``p``::

        r_l = r_{l-1} + d·(k - 1)·j_{l-1}
        j_l = j_{l-1}·S
        s_l = s_{l-1} - p·j_{l-1}

    Pooling windows count like kernels. With dilation the region has holes; ``size``
    is its bounding box. Reference: CS231n notes: three stacked 3×3
    convolutions see 7×7; F. Yu and V. Koltun, "Multi-scale context aggregation by
    dilated convolutions", ICLR 2016, for the growth with dilation; A. Araujo,
    W. Norris and J. Sim, "Computing receptive fields of convolutional neural
    networks", Distill (2019).

    Examples
    --------
    >>> from fftconv import fftlib, nn
    >>> stack = [nn.Conv2d(16, 16, 3, padding=1, allocate=False) for _ in range(3)]
    >>> [rf.size for rf in receptive_field(stack, input_shape=(16, 32, 32))]
    [(3, 3), (5, 5), (7, 7)]
    >>> net = [nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 8, 3)]
    >>> rf = receptive_field(net, (1, 16, 16))[-1]
    >>> rf.name, rf.size, rf.jump, rf.window(1, 0)
    ('conv2', (8, 8), (2, 2), ((2, 9), (0, 7)))
    """
    func = "receptive_field"
    shape = _input_shape(func, model, input_shape)
    fit = _check_fit(func, fit)
    return _rf_steps(_walk(func, model, shape, 1, np.float32, fit))


# -- costs ----------------------------------------------------------------------

@dataclass(frozen=True)
class LayerCost:
    """Counts for one layer (or the input) of a forward pass over a batch.

    Attributes
    ----------
    name, kind : str
        Layer label and ``'input'``, ``'conv'``, ``'pool'``, ``'linear'`` or ``'rbf'``.
    output_shape : tuple of int
        ``(N, C, H, W)``; ``(N, F)`` for FC and RBF layers (the layer's own output).
    weights, biases : int
        Parameters of the layer (independent of the batch).
    macs : int
        Multiply-adds with the weights in the forward pass over the batch.
    flops : int
        Floating-point operations: ``2·macs`` for conv and FC layers (one multiply
        and one add each, biases not counted); see :func:`network_cost` for pooling.
    connections : int
        LeCun's count (LeCun et al. 1998): input-to-output edges including one bias edge per
        output unit, over the batch.
    activations : int
        Values in the output (over the batch).
    itemsize : int
        Bytes per value of the computation dtype.
    im2col_bytes, fft_bytes : int
        Memory of im2col's column matrix and of the FFT spectra (0: not applicable).
    spec : fftconv.ConvSpec or None
        Window geometry of the layer.
    receptive_field : ReceptiveField or None
    """

    name: str
    kind: str
    output_shape: tuple
    weights: int = 0
    biases: int = 0
    macs: int = 0
    flops: int = 0
    connections: int = 0
    activations: int = 0
    itemsize: int = 4
    im2col_bytes: int = 0
    fft_bytes: int = 0
    spec: object = None
    receptive_field: object = None

    @property
    def params(self) -> int:
        """Weights + biases."""
        return self.weights + self.biases

    @property
    def activation_bytes(self) -> int:
        """Memory of the output, ``activations · itemsize``."""
        return self.activations * self.itemsize

    @property
    def space(self) -> int:
        """Qiu's space complexity: parameters + output values."""
        return self.params + self.activations


def _fft_length(n: int) -> int:
    """The transform length the FFT paths of fftconv use (the one ``next_fast_len``)."""
    return fftlib.next_fast_len(n)


def layer_cost(spec, bias=None, table=None, name="conv", input_shape=None):
    """Parameters, multiply-adds, FLOPs and memory of one conv2d layer.

    Parameters
    ----------
    spec : fftconv.ConvSpec or fftconv.nn.Conv2d
        The layer's geometry and dtype, from :func:`fftconv.make_spec`; counts are for
        the whole batch ``spec.n``. Or the layer itself, with ``input_shape``: its
        :meth:`~fftconv.nn.Conv2d.conv_spec`, bias and connection table are used.
    bias : bool, optional
        Whether each output channel has a bias (default: True for a spec; not
        allowed with a layer, which has its own).
    table : array_like of bool, optional
        Connection table ``(C_out, C_in / groups)``: only the marked (output, input)
        map pairs have a kernel (LeNet-5's C3). Default: all pairs (not allowed with a
        layer, which has its own ``connections``).
    name : str
        Label of the returned record.
    input_shape : tuple of int, optional
        ``(N, C_in, H, W)``; required with a layer, not allowed with a spec.

    Returns
    -------
    LayerCost
        With ``T = Σ table`` (``C_out·C_in/groups`` by default):

        * ``weights = T·kh·kw``, ``biases = C_out`` (if ``bias``);
        * ``macs = N·OH·OW·kh·kw·T`` = ``N·OH·OW·C_out·kh·kw·C_in/groups`` (Qiu);
        * ``flops = 2·macs``;
        * ``connections = macs + N·C_out·OH·OW`` (with bias; LeCun et al.'s convention);
        * ``activations = N·C_out·OH·OW``;
        * ``im2col_bytes = N·C_in·kh·kw·OH·OW·itemsize``: the column matrix of every
          image, ``(C_in/groups·kh·kw) × (OH·OW)`` per group (CS231n's ``X_col``);
        * ``fft_bytes = (N·C_in + C_out·C_in/groups + N·C_out)·Fh·(Fw//2 + 1)·2·itemsize``:
          the ``rfft2`` spectra of every input map, kernel and output map at the padded
          input size rounded up to a fast length, ``Fh = next_fast_len(H + P)``.

    Notes
    -----
    The FFT count is for the untiled transform of a 'valid' correlation on the padded
    input: the circular wrap-around lands only in outputs that are discarded, so the
    padded input length suffices (Mathieu, Henaff and LeCun, "Fast training of
    convolutional networks through FFTs", ICLR 2014). A backend that tiles the image
    (overlap-add) needs less. Spectra are complex: twice the real itemsize.

    Time and space complexity as in Qiu Xipeng, *Neural Networks and Deep
    Learning*, ch. 5; im2col as in CS231n and K. Chellapilla, S. Puri and
    P. Simard, "High performance convolutional neural networks for document
    processing" (2006).

    Examples
    --------
    Qiu's example: 3×3 convolution, 256 → 256 channels on 100×100.

    >>> import fftconv
    >>> spec = fftconv.make_spec("demo", (1, 256, 100, 100), (256, 256, 3, 3), padding=1)
    >>> cost = layer_cost(spec)
    >>> cost.macs, cost.params, cost.space
    (5898240000, 590080, 3150080)

    CS231n's im2col example: AlexNet's first layer gives a 363 × 3025 column matrix.

    >>> spec = fftconv.make_spec("demo", (1, 3, 227, 227), (96, 3, 11, 11), stride=4,
    ...                          dtype="float32")
    >>> layer_cost(spec).im2col_bytes == 363 * 3025 * 4
    True

    The same layer as an :mod:`fftconv.nn` layer, built without weights:

    >>> from fftconv import fftlib, nn
    >>> conv1 = nn.Conv2d(3, 96, 11, stride=4, allocate=False)
    >>> layer_cost(conv1, input_shape=(1, 3, 227, 227)).params
    34944
    """
    func = "layer_cost"
    if isinstance(spec, nn.Conv2d):
        layer = spec
        for param, value in (("bias", bias), ("table", table)):
            if value is not None:
                raise bad_value(func, param, value, "None when spec is an fftconv.nn.Conv2d "
                                "(the layer has its own)")
        if input_shape is None:
            raise bad_value(func, "input_shape", input_shape,
                            "an (N, C_in, H, W) tuple when spec is an fftconv.nn.Conv2d")
        spec = layer.conv_spec(int_tuple(func, "input_shape", input_shape, 4, _X_LAYOUT))
        bias = layer.bias is not None
        table = None if layer.mask is None else layer.mask[:, :, 0, 0] != 0
    elif not isinstance(spec, fftconv.ConvSpec):
        raise bad_type(func, "spec", spec,
                       "an fftconv.ConvSpec (see fftconv.make_spec) or an fftconv.nn.Conv2d")
    elif input_shape is not None:
        raise bad_value(func, "input_shape", input_shape,
                        "None when spec is a ConvSpec (it has its input shape)")
    bias = True if bias is None else bias
    if not isinstance(bias, (bool, np.bool_)):
        raise bad_type("layer_cost", "bias", bias, "a bool")
    if table is None:
        pairs = spec.c_out * spec.c_in_per_group
    else:
        mask = np.asarray(table)
        if mask.dtype != bool or mask.shape != (spec.c_out, spec.c_in_per_group):
            raise bad_value("layer_cost", "table", table,
                            f"an array of bools of shape (C_out, C_in/groups) = "
                            f"({spec.c_out}, {spec.c_in_per_group})")
        pairs = int(mask.sum())
    taps = spec.kh * spec.kw
    outputs = spec.n * spec.c_out * spec.out_h * spec.out_w
    positions = spec.n * spec.out_h * spec.out_w
    macs = positions * taps * pairs
    itemsize = spec.dtype.itemsize
    fh, fw = _fft_length(spec.padded_h), _fft_length(spec.padded_w)
    spectra = spec.n * spec.c_in + spec.c_out * spec.c_in_per_group + spec.n * spec.c_out
    return LayerCost(
        name=name, kind="conv", output_shape=spec.output_shape,
        weights=taps * pairs, biases=spec.c_out if bias else 0,
        macs=macs, flops=2 * macs, connections=macs + (outputs if bias else 0),
        activations=outputs, itemsize=itemsize,
        im2col_bytes=positions * spec.c_in * taps * itemsize,
        fft_bytes=spectra * fh * (fw // 2 + 1) * 2 * itemsize,
        spec=spec)


def _pool_cost(step: _Step) -> LayerCost:
    spec, layer = step.spec, step.layer
    outputs = spec.n * spec.c_out * spec.out_h * spec.out_w
    window = spec.kh * spec.kw
    trainable = isinstance(layer, nn.Subsample2d)
    scale = isinstance(layer, nn.AvgPool2d) or trainable
    return LayerCost(
        name=step.name, kind="pool", output_shape=spec.output_shape,
        weights=spec.c_out if trainable else 0, biases=spec.c_out if trainable else 0,
        macs=outputs if trainable else 0,
        flops=outputs * (window - 1) + (outputs if scale else 0) + (outputs if trainable else 0),
        connections=outputs * (window + trainable),
        activations=outputs, itemsize=spec.dtype.itemsize, spec=spec)


def _dense_cost(step: _Step) -> LayerCost:
    spec, layer = step.spec, step.layer
    fan_in = spec.c_in * spec.kh * spec.kw
    outputs = spec.n * spec.c_out
    if step.kind == "linear":
        bias, flops = layer.bias is not None, 2 * spec.macs
    else:
        bias, flops = False, 3 * spec.macs
    return LayerCost(
        name=step.name, kind=step.kind, output_shape=step.output_shape,
        weights=spec.c_out * fan_in, biases=spec.c_out if bias else 0,
        macs=spec.macs, flops=flops, connections=spec.macs + (outputs if bias else 0),
        activations=outputs, itemsize=spec.dtype.itemsize, spec=spec)


def network_cost(model, input_shape=None, batch=1, dtype="float32", fit="exact"):
    """Per-layer and total costs of a network's forward pass: a table for planning.

    Parameters
    ----------
    model : fftconv.nn.Sequential, fftconv.nn.Module or list of them
        The network: :class:`~fftconv.nn.Conv2d`, :class:`~fftconv.nn.MaxPool2d`,
        :class:`~fftconv.nn.AvgPool2d`, :class:`~fftconv.nn.Subsample2d`,
        :class:`~fftconv.nn.Linear` and :class:`~fftconv.nn.RBF` layers get a row;
        ``Flatten`` and element-wise layers (ReLU, Sigmoid, Tanh, Dropout) none. A
        model built shape-only (``allocate=False``) is counted without any weights
        in memory. Rows are named as in the model (``'c1'``), or ``conv1``,
        ``pool1``, ``fc1``, ``rbf1`` for the layers of a list.
    input_shape : tuple of int, optional
        ``(C, H, W)`` of one image; default ``model.input_shape``.
    batch : int
        Images per forward pass ``N`` (parameters do not depend on it).
    dtype : {'float32', 'float64'}
        Computation dtype for the memory columns (CS231n counts 4 bytes per value).
    fit : {'exact', 'floor', 'pad'}
        Tiling policy for every layer, as in :func:`output_shape`.

    Returns
    -------
    NetworkCost
        One :class:`LayerCost` for the input and one per counted layer; ``str()`` of
        it is the table. Its title is ``model.name``.

    Raises
    ------
    TypeError, ValueError
        For a malformed argument, a layer it cannot count, or a layer that does not
        fit its input; the message names the layer (``network_cost (c3): ...``).

    Notes
    -----
    Counting conventions (those of the sources cited below):

    * conv layers: :func:`layer_cost`;
    * FC layers: the conv whose kernel is the whole input (CS231n), so
      ``macs = N·F_in·F_out``, ``weights = F_in·F_out``, ``biases = F_out``;
    * RBF output units: ``F_in`` parameters each, no bias; one multiply-add per term
      of ``Σ (x - w)²`` and a subtraction, ``flops = 3·macs``;
    * pooling: no weights, except LeNet-5's trainable subsampling
      (:class:`~fftconv.nn.Subsample2d`: one coefficient and one bias per map,
      LeCun et al.'s 12 parameters of S2). ``flops`` counts the ``k² - 1`` comparisons or
      additions per output, plus one multiply for mean or trainable pooling and one
      bias addition for trainable pooling; ``macs`` is the coefficient multiply-add
      of trainable pooling; ``connections = outputs·(k² + 1)`` for trainable pooling
      (LeCun's 5,880 for S2), ``outputs·k²`` otherwise;
    * activations: the output of every layer plus the input, as in CS231n's VGG-16
      memory column; ReLU / sigmoid / tanh outputs are taken in place and not
      counted again, nor is the view a Flatten returns.

    Parameters and output shapes are those of :func:`fftconv.nn.summary` for the
    same model (the test suite checks it). ``weights`` alone is CS231n's parameter
    count (VGG-16: 138,344,128); ``params`` adds the biases (LeCun's and Qiu's
    convention). References: Y. LeCun, L. Bottou, Y. Bengio and P. Haffner,
    "Gradient-based learning applied to document recognition", Proc. IEEE 86(11),
    1998; K. Simonyan and A. Zisserman, "Very deep convolutional networks for
    large-scale image recognition", ICLR 2015.

    Examples
    --------
    Qiu's 1×1 bottleneck: 256 → 64 channels before the 3×3 convolution.

    >>> from fftconv import fftlib, nn
    >>> plain = network_cost([nn.Conv2d(256, 256, 3, padding=1, allocate=False)],
    ...                      input_shape=(256, 100, 100))
    >>> reduced = network_cost([nn.Conv2d(256, 64, 1, allocate=False),
    ...                         nn.Conv2d(64, 256, 3, padding=1, allocate=False)],
    ...                        (256, 100, 100))
    >>> plain.macs, reduced.macs
    (5898240000, 1638400000)
    >>> plain.space, reduced.space
    (3150080, 3364160)
    """
    func = "network_cost"
    shape = _input_shape(func, model, input_shape)
    batch = positive_int(func, "batch", batch)
    dt = _dtype(func, dtype)
    fit = _check_fit(func, fit)
    steps = _walk(func, model, shape, batch, dt, fit)
    fields = _rf_steps(steps)
    rows = [LayerCost(name="input", kind="input", output_shape=(batch, *shape),
                      activations=batch * int(np.prod(shape)), itemsize=dt.itemsize)]
    for step, field in zip(steps, fields):
        if step.kind == "conv":
            layer = step.layer
            table = None if layer.mask is None else layer.mask[:, :, 0, 0] != 0
            cost = layer_cost(step.spec, bias=layer.bias is not None, table=table,
                              name=step.name)
        elif step.kind == "pool":
            cost = _pool_cost(step)
        else:
            cost = _dense_cost(step)
        rows.append(_with_field(cost, field))
    return NetworkCost(getattr(model, "name", "") or "", batch, dt.name, tuple(rows))


def _with_field(cost: LayerCost, field: ReceptiveField) -> LayerCost:
    values = {name: getattr(cost, name) for name in cost.__dataclass_fields__}
    values["receptive_field"] = field
    return LayerCost(**values)


# -- the table ------------------------------------------------------------------

def _fmt_pair(pair) -> str:
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}x{pair[1]}"


@dataclass(frozen=True)
class NetworkCost:
    """The result of :func:`network_cost`: one :class:`LayerCost` per row, and totals.

    Attributes
    ----------
    name : str
    batch : int
    dtype : str
    rows : tuple of LayerCost
        The input first, then every counted layer; a row's output column is its
        output shape without the batch axis (``CxHxW``, or ``F`` for FC layers).

    Examples
    --------
    >>> from fftconv import fftlib, nn
    >>> tiny = nn.Sequential({"conv1": nn.Conv2d(1, 2, 3), "pool1": nn.AvgPool2d(2)},
    ...                      input_shape=(1, 6, 6), name="tiny")
    >>> cost = network_cost(tiny)
    >>> cost.row("conv1").macs, cost.params, cost.activations
    (288, 20, 76)
    >>> print(cost)
    tiny: batch 1, float32
    layer  output  weights  params  connections  MACs  activations  act. mem  im2col  FFT spectra  RF/jump
    -----  ------  -------  ------  -----------  ----  -----------  --------  ------  -----------  -------
    input  1x6x6         0       0            0     0           36     144 B       -            -        -
    conv1  2x4x4        18      20          320   288           32     128 B   576 B        960 B      3/1
    pool1  2x2x2         0       0           32     0            8      32 B       -            -      4/2
    parameters: 20 (18 weights + 2 biases)
    multiply-adds: 288; FLOPs: 608
    forward activations (input included): 76 values = 304 B at 4 bytes (x2 with their gradients when training)
    space (parameters + layer outputs): 60 values
    """

    name: str
    batch: int
    dtype: str
    rows: tuple

    def _total(self, attr: str) -> int:
        return sum(getattr(row, attr) for row in self.rows)

    @property
    def weights(self) -> int:
        """Total weights (CS231n's parameter count: biases excluded)."""
        return self._total("weights")

    @property
    def biases(self) -> int:
        return self._total("biases")

    @property
    def params(self) -> int:
        """Total weights + biases."""
        return self._total("params")

    @property
    def macs(self) -> int:
        return self._total("macs")

    @property
    def flops(self) -> int:
        return self._total("flops")

    @property
    def connections(self) -> int:
        return self._total("connections")

    @property
    def activations(self) -> int:
        """Values held by the forward pass: the input and every layer's output."""
        return self._total("activations")

    @property
    def activation_bytes(self) -> int:
        return self._total("activation_bytes")

    @property
    def space(self) -> int:
        """Qiu's space complexity: parameters + layer outputs (input excluded)."""
        return sum(row.space for row in self.rows if row.kind != "input")

    def row(self, name: str) -> LayerCost:
        """The row of the layer called ``name``."""
        for row in self.rows:
            if row.name == name:
                return row
        raise bad_value("NetworkCost.row", "name", name,
                        "one of " + ", ".join(repr(r.name) for r in self.rows))

    @staticmethod
    def _cells(row: LayerCost) -> list:
        rf = row.receptive_field
        return [row.name, "x".join(str(n) for n in row.output_shape[1:]), f"{row.weights:,}", f"{row.params:,}",
                f"{row.connections:,}", f"{row.macs:,}", f"{row.activations:,}",
                format_bytes(row.activation_bytes),
                format_bytes(row.im2col_bytes) if row.im2col_bytes else "-",
                format_bytes(row.fft_bytes) if row.fft_bytes else "-",
                f"{_fmt_pair(rf.size)}/{_fmt_pair(rf.jump)}" if rf else "-"]

    def table(self, backend_costs: bool = False) -> str:
        """The plain-text table; with ``backend_costs``, each backend's estimated time.

        ``backend_costs`` adds, for every conv layer, the forward time of each backend
        estimated by the current selection model (:func:`fftconv.choose_backend`),
        and the backend ``'auto'`` would pick.
        """
        header = ["layer", "output", "weights", "params", "connections", "MACs",
                  "activations", "act. mem", "im2col", "FFT spectra", "RF/jump"]
        body = [self._cells(row) for row in self.rows]
        if backend_costs:
            choices = {row.name: fftconv.choose_backend(row.spec)
                       for row in self.rows if row.kind == "conv"}
            names = list(dict.fromkeys(n for ch in choices.values() for n in ch.costs))
            header += [f"{n} ms" for n in names] + ["auto"]
            for cells, row in zip(body, self.rows):
                choice = choices.get(row.name)
                if choice is None:
                    cells += ["-"] * (len(names) + 1)
                    continue
                cells += [f"{choice.costs[n] * 1e3:.3g}" if n in choice.costs else "-"
                          for n in names]
                cells.append(choice.name)
        widths = [max(len(line[i]) for line in [header] + body) for i in range(len(header))]
        fmt = "  ".join(f"{{:<{w}}}" if i < 2 else f"{{:>{w}}}" for i, w in enumerate(widths))
        itemsize = self.rows[0].itemsize
        lines = [f"{self.name or 'network'}: batch {self.batch}, {self.dtype}",
                 fmt.format(*header), fmt.format(*("-" * w for w in widths))]
        lines += [fmt.format(*line) for line in body]
        lines += [
            f"parameters: {self.params:,} ({self.weights:,} weights + {self.biases:,} biases)",
            f"multiply-adds: {self.macs:,}; FLOPs: {self.flops:,}",
            f"forward activations (input included): {self.activations:,} values = "
            f"{format_bytes(self.activation_bytes)} at {itemsize} bytes "
            f"(x2 with their gradients when training)",
            f"space (parameters + layer outputs): {self.space:,} values",
        ]
        if backend_costs:
            lines.append("backend columns: estimated forward ms from the selection model "
                         "(fftconv.choose_backend), not measurements")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()
