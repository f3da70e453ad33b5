"""Layers: convolution, pooling, LeNet's trainable subsampling, activations, dense.

Every layer implements ``forward`` and ``backward`` by hand (no autograd); the
backward formulas are the ones of Bouvrie 2006 and LeCun et al. 1998 and each is checked
against central finite differences in the test suite. Layers keep their
parameters' dtype: a float32 network computes in float32 throughout.

Pooling layers loop over the ``kh × kw`` window offsets only (as Chainer's
im2col does): each offset is one strided view of the input, so forward and
backward cost ``kh·kw`` whole-array operations whatever the image size.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np
import scipy.special

from .. import choose_backend, conv2d, conv2d_backward, make_spec
from ..backends.registry import current_backend_name
from .._spec import conv_output_size
from ..checks import is_int, positive_int, positive_pair
from ..errors import bad_type, bad_value
from .init import as_generator, check_init, uniform_init
from .module import Module, Parameter, check_float_dtype

__all__ = ["Conv2d", "MaxPool2d", "AvgPool2d", "Subsample2d", "ReLU", "Sigmoid", "Tanh",
           "Flatten", "Linear", "RBF", "Dropout", "Sequential", "lenet5_connection_table"]


# -- argument checks -------------------------------------------------------------

def _check_allocate(func: str, allocate) -> bool:
    if not isinstance(allocate, (bool, np.bool_)):
        raise bad_type(func, "allocate", allocate, "a bool")
    return bool(allocate)


def _parameter(allocate: bool, shape: tuple, dtype, make):
    """``Parameter(make())``, or a shape-only one (``make`` is then never called)."""
    return Parameter(make()) if allocate else Parameter.shape_only(shape, dtype)


def _check_input(func: str, x, ndim: int, layout: str, channels: int | None = None):
    if not isinstance(x, np.ndarray):
        raise bad_type(func, "x", x, "a numpy.ndarray")
    if x.ndim != ndim:
        raise bad_value(func, "x", x, f"a {ndim}-d array {layout}")
    if channels is not None and x.shape[1] != channels:
        raise bad_value(func, "x", x, f"an array with {channels} channels (axis 1)")


def _require_forward(layer: Module, attr: str):
    value = getattr(layer, attr, None)
    if value is None:
        raise RuntimeError(f"{type(layer).__name__}.backward: call forward first")
    return value


# -- convolution -----------------------------------------------------------------

def lenet5_connection_table() -> np.ndarray:
    """LeNet-5's C3 connection table: which S2 maps each C3 map reads.

    Returns
    -------
    table : ndarray of bool, shape (16, 6)
        ``table[o, c]`` is true when C3 map ``o`` reads S2 map ``c``.

    Notes
    -----
    LeCun et al. (1998), Table I: maps 0–5 read three contiguous S2 maps, maps
    6–11 four contiguous ones, maps 12–14 four maps in two contiguous pairs, and
    map 15 all six (contiguity is cyclic). 60 connected pairs of ``5×5`` kernels
    plus 16 biases give C3's 1,516 trainable parameters.

    Examples
    --------
    >>> t = lenet5_connection_table()
    >>> int(t.sum()), [int(c) for c in np.flatnonzero(t[12])]
    (60, [0, 1, 3, 4])
    """
    table = np.zeros((16, 6), dtype=bool)
    for o in range(6):
        table[o, [(o + i) % 6 for i in range(3)]] = True
        table[6 + o, [(o + i) % 6 for i in range(4)]] = True
    for o in range(3):
        table[12 + o, [(o + i) % 6 for i in (0, 1, 3, 4)]] = True
    table[15] = True
    return table


class Conv2d(Module):
    """2-D convolution layer on :func:`fftconv.conv2d`, on any backend.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or (int, int)
    stride, padding, dilation, groups
        As in :func:`fftconv.conv2d`.
    bias : bool
        Learn one additive bias per output map.
    connections : array_like of bool, shape (out_channels, in_channels), optional
        Partial connection table (``groups`` must be 1): output map ``o`` reads
        input map ``c`` only where ``connections[o, c]``. The other kernels are
        held at zero. :func:`lenet5_connection_table` is LeNet-5's C3 table.
    backend : str, optional
        Backend for this layer's forward and backward calls; ``None`` follows
        :func:`fftconv.set_backend` (else ``'auto'``).
    init : {'lecun', 'he'}
        Weights ``U(-b, b)`` with variance ``1/fan_in`` or ``2/fan_in``; biases 0.
    dtype : {float32, float64}
    seed : None, int or numpy.random.Generator
    allocate : bool
        ``False`` builds the layer shape-only: its parameters have shapes and no
        arrays (:meth:`Parameter.shape_only`), so a VGG-sized model can be counted
        (:meth:`conv_spec`, :func:`~fftconv.nn.summary`) without allocating its
        weights; :meth:`forward` then raises ``RuntimeError``.

    Attributes
    ----------
    weight : Parameter, shape (out_channels, in_channels / groups, kh, kw)
    bias : Parameter, shape (out_channels,), or None

    See Also
    --------
    torch.nn.Conv2d : the PyTorch layer with the same parameters and layout.
    fftconv.conv2d : the op it calls.

    Notes
    -----
    Forward ``y = conv2d(x, w) + b`` (a cross-correlation, as in deep-learning
    frameworks); backward by :func:`fftconv.conv2d_backward`, i.e. Bouvrie's
    ``δ^{l-1} = conv2(δ^l, rot180(W), 'full')`` and ``∂E/∂W = conv2(x, δ^l, 'valid')``,
    ``∂E/∂b = Σ δ^l``. With a connection table the weight gradient is masked by
    the table, so unconnected kernels stay exactly zero.

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv import nn
    >>> conv = nn.Conv2d(1, 6, 5, seed=0)
    >>> conv(np.zeros((2, 1, 32, 32), np.float32)).shape
    (2, 6, 28, 28)
    >>> conv.num_parameters()
    156
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, connections=None, backend=None,
                 init="lecun", dtype=np.float32, seed=None, allocate=True):
        super().__init__()
        func = "Conv2d"
        allocate = _check_allocate(func, allocate)
        self.in_channels = positive_int(func, "in_channels", in_channels)
        self.out_channels = positive_int(func, "out_channels", out_channels)
        self.kernel_size = positive_pair(func, "kernel_size", kernel_size)
        self.groups = positive_int(func, "groups", groups)
        kh, kw = self.kernel_size
        # Validate stride / padding / dilation / groups once, with this layer's name,
        # on an input just large enough for any padding.
        probe = make_spec(func, (1, self.in_channels, 1 << 20, 1 << 20),
                              (self.out_channels, self.in_channels // self.groups,
                               kh, kw), stride, padding, dilation, self.groups)
        self.stride, self.padding, self.dilation = stride, padding, dilation
        self._probe = probe
        if backend is not None and not isinstance(backend, str):
            raise bad_type(func, "backend", backend, "None or a backend name (str)")
        self.backend = backend
        dtype = check_float_dtype(func, dtype)
        init = check_init(func, init)

        self.mask = None
        fan_in = self.in_channels // self.groups * kh * kw
        if connections is not None:
            mask = np.asarray(connections)
            if mask.dtype != bool or mask.shape != (self.out_channels, self.in_channels):
                raise bad_value(func, "connections", connections,
                                f"a boolean array of shape (out_channels, in_channels) = "
                                f"({self.out_channels}, {self.in_channels})")
            if self.groups != 1:
                raise bad_value(func, "groups", groups, "1 when a connection table is given")
            if not mask.any(axis=1).all():
                raise bad_value(func, "connections", connections,
                                "a table where every output map reads at least one input")
            self.mask = mask.astype(dtype)[:, :, None, None]
            fan_in = mask.sum(axis=1, keepdims=True)[:, :, None, None] * kh * kw
        rng = as_generator(func, seed)
        shape = (self.out_channels, self.in_channels // self.groups, kh, kw)

        def draw():
            # Unit-fan-in draw scaled per output map: with a connection table each
            # map's fan-in counts only the inputs it reads.
            weight = uniform_init(rng, shape, 1, init, np.float64) / np.sqrt(fan_in)
            if self.mask is not None:
                weight *= self.mask
            return weight.astype(dtype)

        self.weight = _parameter(allocate, shape, dtype, draw)
        self.bias = (_parameter(allocate, (self.out_channels,), dtype,
                                lambda: np.zeros(self.out_channels, dtype)) if bias else None)
        self._x = None
        self._context = None

    def _kwargs(self) -> dict:
        return dict(stride=self.stride, padding=self.padding, dilation=self.dilation,
                    groups=self.groups, backend=self.backend)

    def filters(self) -> np.ndarray:
        """The spatial filters, shape ``(out_channels, in_channels / groups, kh, kw)``.

        Before the connection table is applied. For :class:`Conv2d` they are
        ``weight.data`` itself; a layer that stores its filters another way
        (:class:`SpectralConv2d`) returns them computed.
        """
        return self.weight.data

    def _weight(self) -> np.ndarray:
        w = self.filters()
        return w if self.mask is None else w * self.mask

    def _add_filter_grad(self, grad: np.ndarray) -> None:
        """Accumulate ``∂L/∂filters`` (already masked) into the stored parameter's gradient."""
        self.weight.grad += grad

    def forward(self, x):
        self.check_allocated("Conv2d.forward")
        self._x = x
        bias = None if self.bias is None else self.bias.data
        if not self.training:                  # inference: nothing kept for a backward
            self._context = None
            return conv2d(x, self._weight(), bias, **self._kwargs())
        kwargs, w = self._kwargs(), self._weight()
        if kwargs["backend"] is None and current_backend_name() == "auto":
            kwargs["backend"] = self._training_backend(x, w)
        y, self._context = conv2d(x, w, bias, return_context=True, **kwargs)
        return y

    def _training_backend(self, x, w):
        """What ``'auto'`` runs a training step of this layer on: the backend
        cheapest for the forward *and* the backward
        (:func:`fftconv.choose_backend` with ``backward=True``); ``None`` (plain
        ``'auto'``) for an input :func:`fftconv.conv2d` refuses, so its error is
        the one raised."""
        try:
            spec = make_spec("conv2d", np.shape(x), np.shape(w), stride=self.stride,
                             padding=self.padding, dilation=self.dilation,
                             groups=self.groups, dtype=np.result_type(x, w))
        except (TypeError, ValueError):
            return None
        return choose_backend(spec, backward=True).name

    def backward(self, dy, input_grad=True):
        x = _require_forward(self, "_x")
        needs = ("input", "weight") if input_grad else ("weight",)
        kwargs = self._kwargs()
        if self._context is not None:          # the forward's backend, and its work
            kwargs.update(backend=None, context=self._context)
        dx, dw, _ = conv2d_backward(dy, x, self._weight(), needs=needs, **kwargs)
        self._add_filter_grad(dw if self.mask is None else dw * self.mask)
        if self.bias is not None:
            self.bias.grad += dy.sum(axis=(0, 2, 3))
        return dx

    def conv_spec(self, input_shape, dtype=None):
        """The geometry of this layer on an input: the :class:`fftconv.ConvSpec` of its conv2d.

        Parameters
        ----------
        input_shape : tuple of int
            ``(N, C_in, H, W)``.
        dtype : {float32, float64}, optional
            Computation dtype recorded in the spec (default: the weights' dtype).

        Returns
        -------
        fftconv.ConvSpec
            From :func:`fftconv.make_spec`, the project's one output-size rule:
            ``OH = floor((H + P - dilation·(kh - 1) - 1) / stride) + 1``.

        Raises
        ------
        TypeError, ValueError
            If the input does not fit the layer (channels, a kernel larger than
            the padded input), as :func:`fftconv.conv2d` would.

        Examples
        --------
        >>> from fftconv import nn
        >>> spec = nn.Conv2d(3, 64, 3, padding=1, allocate=False).conv_spec((1, 3, 224, 224))
        >>> spec.output_shape, spec.macs
        ((1, 64, 224, 224), 86704128)
        """
        return make_spec(type(self).__name__, input_shape, self._probe.weight_shape,
                         self.stride, self.padding, self.dilation, self.groups,
                         self.dtype if dtype is None else dtype)

    def output_shape(self, input_shape):
        return self.conv_spec(input_shape).output_shape

    def counts(self, input_shape):
        spec = self.conv_spec(input_shape)
        macs = spec.macs
        if self.mask is not None:       # only connected (out, in) kernel pairs multiply
            macs = macs * int(self.mask.sum()) // self.mask.size
        outputs = int(np.prod(spec.output_shape))
        return macs, macs + (outputs if self.bias is not None else 0)

    def num_parameters(self) -> int:
        """Trainable scalars: connected kernel weights (see ``connections``) and biases."""
        kh, kw = self.kernel_size
        weights = (int(np.prod(self._probe.weight_shape)) if self.mask is None
                   else int(self.mask.sum()) * kh * kw)
        return weights + (0 if self.bias is None else self.bias.size)

    def extra_repr(self):
        spec = self._probe
        parts = [f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"]
        if spec.stride != (1, 1):
            parts.append(f"stride={spec.stride}")
        if spec.padding != ((0, 0), (0, 0)) or isinstance(self.padding, str):
            parts.append(f"padding={self.padding!r}")
        if spec.dilation != (1, 1):
            parts.append(f"dilation={spec.dilation}")
        if self.groups != 1:
            parts.append(f"groups={self.groups}")
        if self.bias is None:
            parts.append("bias=False")
        if self.mask is not None:
            parts.append(f"connections={int(self.mask.sum())}/{self.mask.size}")
        if self.backend is not None:
            parts.append(f"backend={self.backend!r}")
        return ", ".join(parts)


# -- pooling ---------------------------------------------------------------------

class _Pool(Module):
    """Shared geometry of the pooling layers: ``kh × kw`` windows, stride, no padding."""

    def __init__(self, kernel_size, stride=None):
        super().__init__()
        name = type(self).__name__
        self.kernel_size = positive_pair(name, "kernel_size", kernel_size)
        self.stride = self.kernel_size if stride is None else positive_pair(name, "stride", stride)
        self._shape = None

    def output_shape(self, input_shape):
        n, c, h, w = input_shape
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        oh, ow = conv_output_size(h, kh, sh, 0, 0, 1), conv_output_size(w, kw, sw, 0, 0, 1)
        if oh < 1 or ow < 1:
            raise bad_value(type(self).__name__, "x", tuple(input_shape),
                            f"an input of at least the window size {self.kernel_size}")
        return (n, c, oh, ow)

    def conv_spec(self, input_shape, dtype=None):
        """The window geometry on an input, as the :class:`fftconv.ConvSpec` of a depthwise conv.

        Parameters
        ----------
        input_shape : tuple of int
            ``(N, C, H, W)``.
        dtype : {float32, float64}, optional
            Default: the parameters' dtype (float64 for a layer without any).

        Returns
        -------
        fftconv.ConvSpec
            Kernel ``(C, 1, kh, kw)``, ``groups = C``, this layer's stride, no
            padding: every pooling window is one tap pattern of that convolution,
            so its ``output_shape`` is :meth:`output_shape`.

        Examples
        --------
        >>> from fftconv import nn
        >>> nn.MaxPool2d(2).conv_spec((1, 64, 224, 224)).output_shape
        (1, 64, 112, 112)
        """
        n, c, h, w = (int(s) for s in input_shape)
        kh, kw = self.kernel_size
        return make_spec(type(self).__name__, (n, c, h, w), (c, 1, kh, kw), self.stride, 0, 1,
                         c, self.dtype if dtype is None else dtype)

    def _offsets(self, out_hw):
        """``(index, rows, cols)`` of the input view met by each window offset."""
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        oh, ow = out_hw
        for p in range(kh):
            for q in range(kw):
                yield (p * kw + q, slice(p, p + (oh - 1) * sh + 1, sh),
                       slice(q, q + (ow - 1) * sw + 1, sw))

    def _begin(self, x):
        _check_input(type(self).__name__, x, 4, "(N, C, H, W)")
        shape = self.output_shape(x.shape)
        self._shape = x.shape
        return shape

    def _window_sum(self, x, out_shape):
        """``S[n, c, i, j] = Σ_{p,q} x[n, c, i·sh + p, j·sw + q]``."""
        total = np.zeros(out_shape, dtype=x.dtype)
        for _, rows, cols in self._offsets(out_shape[2:]):
            total += x[:, :, rows, cols]
        return total

    def _spread(self, dy, weight_of_offset):
        """``dx[window(i, j) offset t] += weight_of_offset(t) · dy[i, j]`` for every t."""
        dx = np.zeros(self._shape, dtype=dy.dtype)
        for t, rows, cols in self._offsets(dy.shape[2:]):
            dx[:, :, rows, cols] += weight_of_offset(t)
        return dx

    def extra_repr(self):
        text = f"kernel_size={self.kernel_size}"
        if self.stride != self.kernel_size:
            text += f", stride={self.stride}"
        return text


class MaxPool2d(_Pool):
    """Max pooling over ``kh × kw`` windows, recording the switches for backward.

    Parameters
    ----------
    kernel_size : int or (int, int)
    stride : int or (int, int), optional
        Default: ``kernel_size`` (non-overlapping windows).

    Attributes
    ----------
    switches : ndarray of unsigned int, shape (N, C, OH, OW)
        After :meth:`forward`: the offset ``p·kw + q`` of the maximum in each
        window (the first one on ties, like ``numpy.argmax``).

    See Also
    --------
    torch.nn.MaxPool2d : the PyTorch layer.
    skimage.measure.block_reduce : non-overlapping pooling of one image (``func=np.max``).

    Notes
    -----
    ``y[n, c, i, j] = max_{p, q} x[n, c, i·sh + p, j·sw + q]``, with
    ``OH = floor((H - kh) / sh) + 1``. Backward routes each ``dy[i, j]`` to the
    input the switch points to (Bouvrie 2006: the gradient passes only through the
    maximum); overlapping windows add up, inputs no window covers get zero.

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv import nn
    >>> pool = nn.MaxPool2d(2)
    >>> x = np.array([[[[1., 2., 0., 0.], [4., 3., 0., 5.]]]])
    >>> pool(x)
    array([[[[4., 5.]]]])
    >>> pool.backward(np.ones((1, 1, 1, 2)))
    array([[[[0., 0., 0., 0.],
             [1., 0., 0., 1.]]]])
    """

    def __init__(self, kernel_size, stride=None):
        super().__init__(kernel_size, stride)
        self.switches = None

    def forward(self, x):
        out_shape = self._begin(x)
        kh, kw = self.kernel_size
        switches = np.zeros(out_shape, dtype=np.min_scalar_type(kh * kw - 1))
        best = None
        for t, rows, cols in self._offsets(out_shape[2:]):
            view = x[:, :, rows, cols]
            if best is None:
                best = view.copy()
                continue
            better = view > best
            np.copyto(best, view, where=better)
            switches[better] = t
        self.switches = switches
        return best

    def backward(self, dy, input_grad=True):
        switches = _require_forward(self, "switches")
        if not input_grad:
            return None
        return self._spread(dy, lambda t: np.where(switches == t, dy, 0))


class AvgPool2d(_Pool):
    """Average pooling over ``kh × kw`` windows.

    Parameters
    ----------
    kernel_size : int or (int, int)
    stride : int or (int, int), optional
        Default: ``kernel_size``.

    See Also
    --------
    torch.nn.AvgPool2d : the PyTorch layer.
    skimage.measure.block_reduce : non-overlapping pooling of one image (``func=np.mean``).

    Notes
    -----
    ``y[n, c, i, j] = (1 / (kh·kw)) Σ_{p, q} x[n, c, i·sh + p, j·sw + q]``;
    backward spreads ``dy / (kh·kw)`` over each window (Bouvrie's mean pooling,
    ``1/4`` for ``2×2``).

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv import nn
    >>> nn.AvgPool2d(2)(np.arange(8.0).reshape(1, 1, 2, 4))
    array([[[[2.5, 4.5]]]])
    """

    def forward(self, x):
        out_shape = self._begin(x)
        kh, kw = self.kernel_size
        return self._window_sum(x, out_shape) / np.asarray(kh * kw, dtype=x.dtype)

    def backward(self, dy, input_grad=True):
        _require_forward(self, "_shape")
        if not input_grad:
            return None
        share = dy / np.asarray(self.kernel_size[0] * self.kernel_size[1], dtype=dy.dtype)
        return self._spread(dy, lambda t: share)


class Subsample2d(_Pool):
    """LeNet-5's trainable subsampling: window sum × coefficient + bias, per map.

    Parameters
    ----------
    channels : int
        Number of feature maps; each has its own coefficient and bias.
    kernel_size : int or (int, int)
        Window (default ``2``); the stride equals the window (non-overlapping).
    dtype : {float32, float64}
    allocate : bool
        ``False``: shape-only parameters (see :class:`Conv2d`).

    Attributes
    ----------
    weight : Parameter, shape (channels,)
        The multiplicative coefficient ``β`` of each map, initialised to
        ``1/(kh·kw)`` so the layer starts as average pooling.
    bias : Parameter, shape (channels,)
        The additive bias ``b`` of each map, initialised to 0.

    Notes
    -----
    LeCun et al. 1998, with Bouvrie 2006 for the gradients::

        y[n, c] = β_c · down(x[n, c]) + b_c,       down = sum over each window
        ∂E/∂b_c = Σ δ[n, c],   ∂E/∂β_c = Σ δ[n, c] ⊙ down(x[n, c])
        ∂E/∂x[n, c] = β_c · up(δ[n, c]),           up(δ) = δ ⊗ 1_{kh×kw} (Kronecker)

    The squashing function (LeNet's scaled tanh, or a sigmoid) is a separate
    layer. Two parameters per map: S2 has 12, S4 32; each output reads
    ``kh·kw`` inputs and a bias (S2: 5,880 connections).

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv import nn
    >>> s = nn.Subsample2d(1, dtype=np.float64)
    >>> s.weight.data[:] = 2.0
    >>> s(np.ones((1, 1, 2, 2)))
    array([[[[8.]]]])
    """

    def __init__(self, channels, kernel_size=2, dtype=np.float32, allocate=True):
        super().__init__(kernel_size, None)
        self.channels = positive_int("Subsample2d", "channels", channels)
        dtype = check_float_dtype("Subsample2d", dtype)
        allocate = _check_allocate("Subsample2d", allocate)
        kh, kw = self.kernel_size
        shape = (self.channels,)
        self.weight = _parameter(allocate, shape, dtype,
                                 lambda: np.full(shape, 1.0 / (kh * kw), dtype))
        self.bias = _parameter(allocate, shape, dtype, lambda: np.zeros(shape, dtype))
        self._down = None

    def forward(self, x):
        self.check_allocated("Subsample2d.forward")
        _check_input("Subsample2d", x, 4, "(N, C, H, W)", self.channels)
        out_shape = self._begin(x)
        self._down = self._window_sum(x, out_shape)
        return self._down * self.weight.data[:, None, None] + self.bias.data[:, None, None]

    def backward(self, dy, input_grad=True):
        down = _require_forward(self, "_down")
        self.weight.grad += np.einsum("nchw,nchw->c", dy, down)
        self.bias.grad += dy.sum(axis=(0, 2, 3))
        if not input_grad:
            return None
        share = dy * self.weight.data[:, None, None]
        return self._spread(dy, lambda t: share)

    def counts(self, input_shape):
        outputs = int(np.prod(self.output_shape(input_shape)))
        k = self.kernel_size[0] * self.kernel_size[1]
        return outputs * k, outputs * (k + 1)

    def extra_repr(self):
        return f"{self.channels}, kernel_size={self.kernel_size}"


# -- activations -----------------------------------------------------------------

class ReLU(Module):
    """``y = max(x, 0)``; backward passes ``dy`` where ``x > 0``.

    See Also
    --------
    torch.nn.ReLU : the PyTorch layer (its gradient at ``x = 0`` is 0 too).

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv import nn
    >>> nn.ReLU()(np.array([-1.0, 0.0, 2.0]))
    array([0., 0., 2.])
    """

    def __init__(self):
        super().__init__()
        self._positive = None

    def forward(self, x):
        self._positive = x > 0
        return np.where(self._positive, x, np.zeros((), x.dtype))

    def backward(self, dy, input_grad=True):
        positive = _require_forward(self, "_positive")
        return np.where(positive, dy, np.zeros((), dy.dtype)) if input_grad else None


class Sigmoid(Module):
    """``y = 1 / (1 + exp(-x))``; ``dy/dx = y (1 - y)``.

    Computed by ``scipy.special.expit``, which neither overflows nor loses the
    relative accuracy of tiny outputs for very negative ``x``.

    See Also
    --------
    torch.nn.Sigmoid : the PyTorch layer.
    scipy.special.expit : the function this layer evaluates.

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv import nn
    >>> nn.Sigmoid()(np.array([0.0]))
    array([0.5])
    """

    def __init__(self):
        super().__init__()
        self._y = None

    def forward(self, x):
        self._y = scipy.special.expit(x)
        return self._y

    def backward(self, dy, input_grad=True):
        y = _require_forward(self, "_y")
        return dy * y * (1 - y) if input_grad else None


class Tanh(Module):
    """Scaled hyperbolic tangent ``y = A · tanh(S · x)``.

    Parameters
    ----------
    amplitude : float
        ``A`` (default 1).
    slope : float
        ``S`` (default 1).

    See Also
    --------
    torch.nn.Tanh : the PyTorch layer (``amplitude = slope = 1``).
    numpy.tanh : the function, ``A · numpy.tanh(S · x)``.

    Notes
    -----
    ``dy/dx = A·S·(1 - tanh²(S·x))``. LeCun et al. (1998, Appendix A) use
    ``A = 1.7159``, ``S = 2/3``, so that ``f(±1) = ±1`` and the gain is largest
    around the targets.

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv import nn
    >>> nn.Tanh(1.7159, 2 / 3)(np.array([-1.0, 0.0, 1.0])).round(4)
    array([-1.,  0.,  1.])
    """

    def __init__(self, amplitude=1.0, slope=1.0):
        super().__init__()
        for name, value in (("amplitude", amplitude), ("slope", slope)):
            if not isinstance(value, numbers.Real) or isinstance(value, bool):
                raise bad_type("Tanh", name, value, "a positive real number")
            if not value > 0:
                raise bad_value("Tanh", name, value, "a positive real number")
        self.amplitude, self.slope = float(amplitude), float(slope)
        self._t = None

    def forward(self, x):
        self._t = np.tanh(np.asarray(self.slope, x.dtype) * x)
        return self._t * np.asarray(self.amplitude, x.dtype) if self.amplitude != 1 else self._t

    def backward(self, dy, input_grad=True):
        t = _require_forward(self, "_t")
        if not input_grad:
            return None
        return dy * (np.asarray(self.amplitude * self.slope, dy.dtype) * (1 - t * t))

    def extra_repr(self):
        if self.amplitude == self.slope == 1.0:
            return ""
        return f"amplitude={self.amplitude:g}, slope={self.slope:g}"


# -- shape and dense layers ------------------------------------------------------

class Flatten(Module):
    """``(N, d1, d2, ...) → (N, d1·d2·...)``; backward restores the shape.

    See Also
    --------
    torch.nn.Flatten : the PyTorch layer (``start_dim=1``).

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv import nn
    >>> nn.Flatten()(np.zeros((2, 16, 5, 5))).shape
    (2, 400)
    """

    def __init__(self):
        super().__init__()
        self._shape = None

    def forward(self, x):
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dy, input_grad=True):
        shape = _require_forward(self, "_shape")
        return dy.reshape(shape) if input_grad else None

    def output_shape(self, input_shape):
        return (input_shape[0], int(np.prod(input_shape[1:])))


class Linear(Module):
    """Fully connected layer ``y = x Wᵀ + b``.

    Parameters
    ----------
    in_features, out_features : int
    bias : bool
    init : {'lecun', 'he'}
        Weights ``U(-b, b)`` with variance ``1/in_features`` or ``2/in_features``.
    dtype : {float32, float64}
    seed : None, int or numpy.random.Generator
    allocate : bool
        ``False``: shape-only parameters (see :class:`Conv2d`); VGG-16's ``fc6``
        alone would be 102,760,448 weights.

    Attributes
    ----------
    weight : Parameter, shape (out_features, in_features)
    bias : Parameter, shape (out_features,), or None

    See Also
    --------
    torch.nn.Linear : the PyTorch layer (same ``(out_features, in_features)`` weight).

    Notes
    -----
    Input ``(N, in_features)``, output ``(N, out_features)``. Backward:
    ``∂E/∂W = δᵀ x``, ``∂E/∂b = Σ_n δ``, ``∂E/∂x = δ W``.

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv import nn
    >>> nn.Linear(120, 84).num_parameters()      # LeNet-5's F6
    10164
    """

    def __init__(self, in_features, out_features, bias=True, init="lecun",
                 dtype=np.float32, seed=None, allocate=True):
        super().__init__()
        self.in_features = positive_int("Linear", "in_features", in_features)
        self.out_features = positive_int("Linear", "out_features", out_features)
        dtype = check_float_dtype("Linear", dtype)
        init = check_init("Linear", init)
        rng = as_generator("Linear", seed)
        allocate = _check_allocate("Linear", allocate)
        shape = (self.out_features, self.in_features)
        self.weight = _parameter(allocate, shape, dtype,
                                 lambda: uniform_init(rng, shape, self.in_features, init, dtype))
        self.bias = (_parameter(allocate, (self.out_features,), dtype,
                                lambda: np.zeros(self.out_features, dtype)) if bias else None)
        self._x = None

    def forward(self, x):
        self.check_allocated("Linear.forward")
        _check_input("Linear", x, 2, "(N, in_features)")
        if x.shape[1] != self.in_features:
            raise bad_value("Linear", "x", x, f"an array of shape (N, {self.in_features})")
        self._x = x
        y = x @ self.weight.data.T
        if self.bias is not None:
            y += self.bias.data
        return y

    def backward(self, dy, input_grad=True):
        x = _require_forward(self, "_x")
        self.weight.grad += dy.T @ x
        if self.bias is not None:
            self.bias.grad += dy.sum(axis=0)
        return dy @ self.weight.data if input_grad else None

    def output_shape(self, input_shape):
        if len(input_shape) != 2 or input_shape[1] != self.in_features:
            raise bad_value("Linear", "x", tuple(input_shape),
                            f"a shape (N, {self.in_features})")
        return (input_shape[0], self.out_features)

    def counts(self, input_shape):
        n = input_shape[0]
        macs = n * self.in_features * self.out_features
        return macs, macs + (n * self.out_features if self.bias is not None else 0)

    def extra_repr(self):
        return (f"{self.in_features}, {self.out_features}"
                + ("" if self.bias is not None else ", bias=False"))


class RBF(Module):
    """Euclidean radial-basis-function units: LeNet-5's output layer.

    Parameters
    ----------
    in_features : int
        Length of the input vector (84 in LeNet-5: F6's outputs).
    units : int
        Number of RBF units (one per class).
    dtype : {float32, float64}
    seed : None, int or numpy.random.Generator
        Source of the initial centres.
    allocate : bool
        ``False``: shape-only parameters (see :class:`Conv2d`).

    Attributes
    ----------
    weight : Parameter, shape (units, in_features)
        The centre ``w_i`` of each unit, initialised to random ``±1`` entries (the
        paper's centres are ``±1`` bitmaps of the characters).

    Notes
    -----
    Input ``(N, in_features)``, output ``(N, units)``::

        y[n, i] = Σ_j (x[n, j] - w[i, j])²
        ∂E/∂x[n] = 2 Σ_i δ[n, i] (x[n] - w[i]),   ∂E/∂w[i] = -2 Σ_n δ[n, i] (x[n] - w[i])

    Each output is a *penalty*: the squared distance to the unit's centre, small
    for the likely class (use ``-y`` as scores). LeCun et al. (1998, section II.B)
    drew the 7×12 centres by hand and kept them fixed; here they are a
    :class:`Parameter` like any other (leave them out of the optimizer to keep
    them fixed). ``in_features·units`` parameters, no bias: LeNet-5's 840.

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv import nn
    >>> rbf = nn.RBF(2, 1, dtype=np.float64)
    >>> rbf.weight.data[:] = [[1.0, -1.0]]
    >>> rbf(np.array([[1.0, 1.0]]))
    array([[4.]])
    >>> nn.RBF(84, 10).num_parameters()
    840
    """

    def __init__(self, in_features, units, dtype=np.float32, seed=None, allocate=True):
        super().__init__()
        self.in_features = positive_int("RBF", "in_features", in_features)
        self.units = positive_int("RBF", "units", units)
        dtype = check_float_dtype("RBF", dtype)
        rng = as_generator("RBF", seed)
        allocate = _check_allocate("RBF", allocate)
        shape = (self.units, self.in_features)
        self.weight = _parameter(allocate, shape, dtype,
                                 lambda: rng.choice((-1.0, 1.0), size=shape).astype(dtype))
        self._x = None

    def forward(self, x):
        self.check_allocated("RBF.forward")
        _check_input("RBF", x, 2, "(N, in_features)")
        if x.shape[1] != self.in_features:
            raise bad_value("RBF", "x", x, f"an array of shape (N, {self.in_features})")
        self._x = x
        w = self.weight.data
        # |x - w|² = |x|² - 2 x·w + |w|²: one matrix product instead of an (N, units,
        # in_features) difference array.
        y = (x * x).sum(axis=1, keepdims=True) - 2 * (x @ w.T) + (w * w).sum(axis=1)
        return np.maximum(y, np.zeros((), y.dtype))      # rounding can make it negative

    def backward(self, dy, input_grad=True):
        x = _require_forward(self, "_x")
        w = self.weight.data
        two = np.asarray(2, dy.dtype)
        self.weight.grad += two * (dy.sum(axis=0)[:, None] * w - dy.T @ x)
        if not input_grad:
            return None
        return two * (dy.sum(axis=1, keepdims=True) * x - dy @ w)

    def output_shape(self, input_shape):
        if len(input_shape) != 2 or input_shape[1] != self.in_features:
            raise bad_value("RBF", "x", tuple(input_shape), f"a shape (N, {self.in_features})")
        return (input_shape[0], self.units)

    def counts(self, input_shape):
        macs = input_shape[0] * self.in_features * self.units
        return macs, macs

    def extra_repr(self):
        return f"{self.in_features}, {self.units}"


class Dropout(Module):
    """Inverted dropout: zero each input with probability ``p`` while training.

    Parameters
    ----------
    p : float
        Drop probability, ``0 <= p < 1``.
    seed : None, int or numpy.random.Generator
        Source of the masks (reproducible with a fixed seed).

    See Also
    --------
    torch.nn.Dropout : the PyTorch layer (the same inverted scaling; its masks
        come from torch's generator, so they differ).

    Notes
    -----
    Training: ``y = x ⊙ m / (1 - p)`` with ``m ~ Bernoulli(1 - p)``, so the
    expectation of ``y`` is ``x``; backward ``dx = dy ⊙ m / (1 - p)``.
    Evaluation (:meth:`Module.eval`): the identity. Srivastava et al. (2014).

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv import nn
    >>> drop = nn.Dropout(0.5, seed=0)
    >>> sorted(set(drop(np.ones(1000)).tolist()))
    [0.0, 2.0]
    >>> drop.eval()(np.ones(3))
    array([1., 1., 1.])
    """

    def __init__(self, p=0.5, seed=None):
        super().__init__()
        if not isinstance(p, numbers.Real) or isinstance(p, bool):
            raise bad_type("Dropout", "p", p, "a probability 0 <= p < 1")
        if not 0 <= p < 1:
            raise bad_value("Dropout", "p", p, "a probability 0 <= p < 1")
        self.p = float(p)
        self._rng = as_generator("Dropout", seed)
        self._scale = None

    def forward(self, x):
        if not self.training or self.p == 0:
            self._scale = 1
            return x
        keep = self._rng.random(x.shape) >= self.p
        self._scale = keep.astype(x.dtype) / np.asarray(1 - self.p, dtype=x.dtype)
        return x * self._scale

    def backward(self, dy, input_grad=True):
        scale = _require_forward(self, "_scale")
        return dy * scale if input_grad else None

    def extra_repr(self):
        return f"p={self.p:g}"


# -- containers ------------------------------------------------------------------

class Sequential(Module):
    """A chain of modules: ``forward`` runs them in order, ``backward`` in reverse.

    Parameters
    ----------
    *modules : Module, or one mapping of names to Module
        Unnamed modules are called ``'0'``, ``'1'``, ...; a mapping (for example
        a dict) gives each module its name, which prefixes its parameter names
        (``'c1.weight'``).
    input_shape : tuple of int, optional
        Shape of one input without the batch axis, ``(C, H, W)`` (or ``(F,)``),
        when the model is built for one size; counting tools such as
        ``analysis.complexity.network_cost`` read it.
    name : str
        A title for tables (default ``''``).

    Attributes
    ----------
    input_shape : tuple of int or None
    name : str

    See Also
    --------
    torch.nn.Sequential : the PyTorch container.

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv import nn
    >>> net = nn.Sequential({"fc": nn.Linear(4, 3, seed=0), "act": nn.ReLU()})
    >>> list(net.state_dict())
    ['fc.weight', 'fc.bias']
    >>> net(np.zeros((2, 4), np.float32)).shape
    (2, 3)
    >>> net["fc"].out_features, len(net)
    (3, 2)
    """

    input_shape = None
    name = ""

    def __init__(self, *modules, input_shape=None, name=""):
        super().__init__()
        if input_shape is not None:
            if (not isinstance(input_shape, (tuple, list)) or not input_shape
                    or not all(is_int(v) and v > 0 for v in input_shape)):
                raise bad_value("Sequential", "input_shape", input_shape,
                                "None or a non-empty tuple of positive ints such as (1, 32, 32)")
            input_shape = tuple(int(v) for v in input_shape)
        if not isinstance(name, str):
            raise bad_type("Sequential", "name", name, "a str")
        object.__setattr__(self, "input_shape", input_shape)
        object.__setattr__(self, "name", name)
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            items = list(modules[0].items())
        else:
            items = [(str(i), m) for i, m in enumerate(modules)]
        for name, module in items:
            if not isinstance(module, Module):
                raise bad_type("Sequential", "modules", module, "Module instances")
            if (not isinstance(name, str) or not name or "." in name
                    or hasattr(Sequential, name)):
                raise bad_value("Sequential", "modules", name,
                                "names without dots that are not Sequential attributes")
            setattr(self, name, module)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, key):
        if isinstance(key, str):
            return self._modules[key]
        return list(self._modules.values())[key]

    def forward(self, x):
        self.check_allocated("Sequential.forward")
        for module in self._modules.values():
            x = module.forward(x)
        return x

    def backward(self, dy, input_grad=True):
        modules = list(self._modules.values())
        for index in range(len(modules) - 1, -1, -1):
            dy = modules[index].backward(dy, input_grad=input_grad or index > 0)
        return dy

    def output_shape(self, input_shape):
        for module in self._modules.values():
            input_shape = module.output_shape(input_shape)
        return input_shape
