"""The one convolution API: the layer op, its gradients, and the signal ops.

Two conventions, named plainly because the field uses both:

* :func:`conv2d` is the deep-learning layer op, a **cross-correlation** on NCHW
  input with OIHW weights: exactly ``torch.nn.functional.conv2d``.
* :func:`convolve` / :func:`correlate` are the signal-processing ops on N-d arrays
  (true convolution flips the kernel: ``rot180`` in 2-D), exactly
  ``scipy.signal.convolve`` / ``scipy.signal.correlate``.

Arguments are validated and canonicalized once into a
:class:`~fftconv._spec.ConvSpec`; the chosen backend receives only that.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import numpy as np

from . import _signal
from ._padding import check_padding_mode, fold_padding, pad_by_mode
from ._spec import LAYOUTS, ConvSpec, _explicit_padding, make_spec, positive_tuple
from .checks import as_array, is_int
from .errors import bad_type, bad_value
from .select import resolve_backend

__all__ = ["conv1d", "conv2d", "conv3d", "conv_backward", "conv2d_backward",
           "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
           "conv_transpose_backward", "convolve", "correlate", "ConvContext",
           "choose_conv_method", "convolve2d", "correlate2d"]

_NEEDS = ("input", "weight", "bias")
_OUT_LAYOUTS = {1: "(N, C_out, OL)", 2: "(N, C_out, OH, OW)", 3: "(N, C_out, OD, OH, OW)"}


def _dask_arg(*values) -> bool:
    """Whether an argument is a dask array, handed to :mod:`fftconv.dask`; dask is not
    imported here (no object can be a dask array before dask is)."""
    module = sys.modules.get("dask.array")
    return module is not None and any(isinstance(v, module.Array) for v in values)


def _arrays(func, rank, x, w, bias, extra=()):
    """Validate the arrays of a rank-``rank`` layer op; return them and their common dtype."""
    x_layout, w_layout = LAYOUTS[rank]
    x = as_array(func, "x", x, ndim=rank + 2, layout=x_layout, arrays_only=True)
    w = as_array(func, "w", w, ndim=rank + 2, layout=w_layout, arrays_only=True)
    arrays = [x, w, *extra]
    if bias is not None:
        bias = as_array(func, "bias", bias, arrays_only=True)
        arrays.append(bias)
    return x, w, bias, np.result_type(*arrays)


def _prepare(func, x, w, bias, stride, padding, dilation, groups, extra=(), rank=2,
             padding_mode="zeros"):
    """Validate arrays and geometry; return arrays in the computation dtype and the spec.

    With a ``padding_mode`` other than ``'zeros'`` the returned ``x`` is already
    padded by that mode and the spec is the unpadded convolution of it (what
    ``torch.nn.ConvNd`` does); ``pads`` (last) is the padding that was applied,
    else ``None``.
    """
    mode = check_padding_mode(func, padding_mode)
    x, w, bias, dtype = _arrays(func, rank, x, w, bias, extra)
    spec = make_spec(func, x.shape, w.shape, stride, padding, dilation, groups, dtype, rank)
    if bias is not None and bias.shape != (spec.c_out,):
        raise bad_value(func, "bias", bias, f"an array of shape (C_out,) = ({spec.c_out},)")
    x, w = (a.astype(dtype, copy=False) for a in (x, w))
    pads = None
    if mode != "zeros" and any(a or b for a, b in spec.padding):
        pads = spec.padding
        x = pad_by_mode(func, x, pads, mode)
        spec = spec.replace(size=x.shape[2:], padding=((0, 0),) * rank)
    return x, w, None if bias is None else bias.astype(dtype, copy=False), spec, pads


@dataclass(frozen=True)
class ConvContext:
    """What a :func:`conv2d` forward hands to its :func:`conv2d_backward`.

    The explicit state of autograd frameworks (``ctx.save_for_backward``):
    ``conv2d(..., return_context=True)`` returns it beside the output, and the
    caller passes it back as ``conv2d_backward(..., context=ctx)``, so the
    backward reuses what the forward computed (the FFT backend's plan, kernel
    spectrum and input spectra) instead of computing it again. Nothing is kept
    anywhere else: dropping the context frees it.

    Attributes
    ----------
    spec : ConvSpec
        The forward's geometry and dtype.
    backend : str
        The backend that ran the forward (``'auto'`` resolved).
    saved : dict
        Private to that backend (:meth:`fftconv.Backend.forward_saving`).
    """

    spec: ConvSpec
    backend: str
    saved: dict = field(default_factory=dict, repr=False, compare=False)


def _conv(func, rank, x, w, bias, stride, padding, dilation, groups, backend,
          return_context, padding_mode):
    """The forward of conv1d/conv2d/conv3d (one body for every rank)."""
    if not isinstance(return_context, bool):
        raise bad_type(func, "return_context", return_context, "a bool")
    x, w, bias, spec, pads = _prepare(func, x, w, bias, stride, padding, dilation, groups,
                                      rank=rank, padding_mode=padding_mode)
    chosen = resolve_backend(func, backend, spec)
    cyclic = _cyclic_spec(chosen, spec, pads, padding_mode)
    if cyclic is not None:       # the DFT is circular already: no padding at all
        y, saved = chosen.forward_circular(_unpadded(x, cyclic), w, cyclic,
                                           save=return_context)
    elif return_context:
        y, saved = chosen.forward_saving(x, w, spec)
    else:
        y = chosen.forward(x, w, spec)
    if bias is not None:
        y += bias.reshape((-1,) + (1,) * rank)
    return (y, ConvContext(spec, chosen.name, saved)) if return_context else y


def _cyclic_spec(backend, spec: ConvSpec, pads, padding_mode) -> ConvSpec | None:
    """The layer with its padding read as circular, when ``backend`` computes it as
    one cyclic convolution without padding (the FFT backend's ``circular``), else
    ``None``. ``spec`` is the unpadded convolution of the padded input."""
    if padding_mode != "circular" or pads is None or not hasattr(backend, "forward_circular"):
        return None
    size = tuple(n - a - b for n, (a, b) in zip(spec.size, pads))
    layer = spec.replace(size=size, padding=pads)
    return layer if backend.circular(layer) is None else None


def _unpadded(x: np.ndarray, layer: ConvSpec) -> np.ndarray:
    """The input inside the padding of ``x`` (a view)."""
    return x[(slice(None), slice(None), *(slice(a, a + n) for (a, _), n in
                                          zip(layer.padding, layer.size)))]


def conv2d(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1, backend=None,
           return_context=False, padding_mode="zeros"):
    """2-D cross-correlation layer op (``torch.nn.functional.conv2d`` semantics).

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
        Input batch. float32 and float64 are kept; integers become float64.
    w : ndarray, shape (C_out, C_in / groups, kh, kw)
        Filters.
    bias : ndarray, shape (C_out,), optional
    stride : int or (int, int)
        Step between windows, ``>= 1``.
    padding : int, (int, int), ((int, int), (int, int)), 'valid' or 'same'
        Zeros added around the input: all sides, ``(pad_h, pad_w)`` for both sides
        of each axis, or ``((top, bottom), (left, right))``. ``'same'`` keeps
        ``H × W`` (stride 1 only) with the odd pad at the bottom/right.
    dilation : int or (int, int)
        Spacing between kernel taps, ``>= 1`` (1 means none).
    groups : int
        Input and output channels are split into ``groups`` independent blocks;
        ``groups == C_in`` is a depthwise convolution.
    backend : str, optional
        ``'direct'``, ``'im2col'``, ... or ``'auto'``. Default: the innermost
        :func:`set_backend` choice, else ``'auto'``.
    return_context : bool
        Also return the :class:`ConvContext` that :func:`conv2d_backward`
        reuses (training); default ``False`` (inference keeps nothing).
    padding_mode : {'zeros', 'reflect', 'replicate', 'circular'}
        What the ``padding`` is filled with, as ``torch.nn.Conv2d``'s argument:
        zeros, the mirror image without the edge, copies of the edge, or the
        other end of the axis (periodic). 'reflect' needs each pad smaller than
        its axis, 'circular' at most its axis (PyTorch's limits).

    Returns
    -------
    y : ndarray, shape (N, C_out, OH, OW)
        ``OH = floor((H + pad_top + pad_bottom - dilation·(kh - 1) - 1) / stride) + 1``,
        likewise ``OW``. dtype: the common dtype of the inputs.
    context : ConvContext
        Only with ``return_context=True``.

    Raises
    ------
    TypeError
        Non-array input or an unsupported dtype (bool, float16, complex, ...).
    ValueError
        Wrong ndim, empty arrays, channel mismatch, groups not dividing the
        channels, a kernel larger than the padded input, stride or dilation
        below 1, negative padding, ``'same'`` with stride > 1, unknown backend.
    NotImplementedError
        If the explicitly named backend cannot compute this geometry.

    Notes
    -----
    ``y[n, o, i, j] = bias[o] + Σ_{c, p, q} x̃[n, g·C_in/groups + c, i·s_h + p·d_h,
    j·s_w + q·d_w] · w[o, c, p, q]`` where ``x̃`` is the zero-padded input and
    ``g = o // (C_out / groups)`` the group of output channel ``o``. This is a
    cross-correlation: the kernel is *not* flipped (``convolve`` flips it).

    Examples
    --------
    >>> import numpy as np
    >>> import fftconv
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> w = np.ones((1, 1, 2, 2))
    >>> fftconv.conv2d(x, w, stride=2)
    array([[[[10., 18.],
             [42., 50.]]]])
    """
    if _dask_arg(x, w, bias):
        return _conv2d_on_dask(x, w, bias, stride, padding, dilation, groups, backend,
                               return_context, padding_mode)
    return _conv("conv2d", 2, x, w, bias, stride, padding, dilation, groups, backend,
                 return_context, padding_mode)


def _conv2d_on_dask(x, w, bias, stride, padding, dilation, groups, backend, return_context,
                    padding_mode):
    """conv2d of a dask batch: every block is an in-memory conv2d (:mod:`fftconv.dask`)."""
    if return_context:
        raise bad_value("conv2d", "return_context", return_context,
                        "False for a dask array x (inference only)")
    from . import dask as _on_dask
    check_padding_mode("conv2d", padding_mode)

    def run(*args, **kwargs):
        return conv2d(*args, padding_mode=padding_mode, **kwargs)

    def prepare(*args):
        # The checks and the output shape, which every padding mode shares with
        # 'zeros' (and padding a stand-in of the whole batch would allocate it).
        return _prepare(*args)[:4]

    return _on_dask.conv2d(x, w, bias, stride, padding, dilation, groups, backend,
                           run=run, prepare=prepare)


def conv1d(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1, backend=None,
           return_context=False, padding_mode="zeros"):
    """1-D cross-correlation layer op (``torch.nn.functional.conv1d`` semantics).

    Parameters
    ----------
    x : ndarray, shape (N, C_in, L)
        Input batch (signals); float32 and float64 are kept, integers become float64.
    w : ndarray, shape (C_out, C_in / groups, k)
        Filters.
    bias : ndarray, shape (C_out,), optional
    stride, dilation : int or (int,)
        ``>= 1``.
    padding : int, (int,), ((int, int),), 'valid' or 'same'
        Added at both ends, or ``((before, after),)``; ``'same'`` keeps ``L``
        (stride 1) with the odd pad at the end.
    groups, backend, return_context, padding_mode
        As in :func:`conv2d`.

    Returns
    -------
    y : ndarray, shape (N, C_out, OL)
        ``OL = floor((L + pad_before + pad_after - dilation·(k - 1) - 1) / stride) + 1``.
    context : ConvContext
        Only with ``return_context=True``.

    See Also
    --------
    conv2d, conv3d : the same op over 2 and 3 spatial axes.
    conv_backward : its gradients.
    torch.nn.functional.conv1d, torch.nn.Conv1d : what it computes exactly.
    scipy.signal.correlate : the signal op (``correlate(x[n, c], w[o, c], 'valid')``
        summed over ``c`` is ``y[n, o]`` at stride 1 without padding).

    Notes
    -----
    ``y[n, o, i] = bias[o] + Σ_{c, p} x̃[n, g·C_in/groups + c, i·s + p·d] · w[o, c, p]``
    with ``x̃`` the padded input. Long kernels (audio filters of hundreds of
    taps) are where the ``'fft'`` backend wins: its cost grows with
    ``L log L``, not with ``L·k``.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> x = np.arange(6.0).reshape(1, 1, 6)
    >>> fftconv.conv1d(x, np.ones((1, 1, 3)), stride=2)
    array([[[3., 9.]]])
    """
    return _conv("conv1d", 1, x, w, bias, stride, padding, dilation, groups, backend,
                 return_context, padding_mode)


def conv3d(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1, backend=None,
           return_context=False, padding_mode="zeros"):
    """3-D cross-correlation layer op (``torch.nn.functional.conv3d`` semantics).

    Parameters
    ----------
    x : ndarray, shape (N, C_in, D, H, W)
        Input batch (volumes, or video clips with ``D`` frames).
    w : ndarray, shape (C_out, C_in / groups, kd, kh, kw)
    bias : ndarray, shape (C_out,), optional
    stride, dilation : int or (int, int, int)
    padding : int, 3 ints, 3 (before, after) pairs, 'valid' or 'same'
    groups, backend, return_context, padding_mode
        As in :func:`conv2d`.

    Returns
    -------
    y : ndarray, shape (N, C_out, OD, OH, OW)
        Each output length as in :func:`conv1d`, per axis.
    context : ConvContext
        Only with ``return_context=True``.

    See Also
    --------
    conv1d, conv2d : fewer spatial axes.
    conv_backward : its gradients.
    torch.nn.functional.conv3d, torch.nn.Conv3d : what it computes exactly.
    scipy.signal.correlate : the signal op.

    Notes
    -----
    ``y[n, o, i, j, l] = bias[o] + Σ_{c, p, q, r} x̃[n, g·C_in/groups + c,
    i·s_d + p·d_d, j·s_h + q·d_h, l·s_w + r·d_w] · w[o, c, p, q, r]``.
    The ``'fft'`` backend transforms all three axes at once, so its cost grows
    with the volume, not with the volume times ``kd·kh·kw``.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> x = np.ones((1, 2, 4, 4, 4))
    >>> fftconv.conv3d(x, np.ones((3, 2, 3, 3, 3)), padding=1).shape
    (1, 3, 4, 4, 4)
    """
    return _conv("conv3d", 3, x, w, bias, stride, padding, dilation, groups, backend,
                 return_context, padding_mode)


# -- transposed convolution ------------------------------------------------------------

def _transpose_spec(func, rank, x, w, stride, padding, output_padding, groups, dilation,
                    dtype) -> tuple:
    """``(spec, out)``: the convolution whose input gradient is this transposed
    convolution, and the transposed convolution's output lengths.

    ``x`` ``(N, C_in, *L)`` plays the convolution's output gradient and ``w``
    ``(C_in, C_out/groups, *k)`` its weight (``C_in`` output channels); the
    convolution's input has the transposed output's lengths
    ``(L - 1)·s - pad_before - pad_after + d·(k - 1) + output_padding + 1``.
    """
    stride = positive_tuple(func, "stride", stride, rank)
    dilation = positive_tuple(func, "dilation", dilation, rank)
    if isinstance(padding, str):
        raise bad_value(func, "padding", padding,
                        "explicit padding (an int, ints or (before, after) pairs per axis; "
                        "transposed convolutions take no 'same' or 'valid', as in PyTorch)")
    pads = _explicit_padding(func, padding, rank)
    allowed = f"a non-negative int or {rank} of them, each smaller than the stride or the dilation"
    if is_int(output_padding):
        extra = (int(output_padding),) * rank
    elif isinstance(output_padding, (tuple, list)) and len(output_padding) == rank \
            and all(map(is_int, output_padding)):
        extra = tuple(int(v) for v in output_padding)
    else:
        raise bad_type(func, "output_padding", output_padding, allowed)
    if any(e < 0 or (e >= s and e >= d) for e, s, d in zip(extra, stride, dilation)):
        raise bad_value(func, "output_padding", output_padding,
                        f"{allowed} (stride={stride}, dilation={dilation})")
    if not is_int(groups) or groups < 1:
        raise bad_type(func, "groups", groups, "a positive int") if not is_int(groups) else \
            bad_value(func, "groups", groups, "a positive int")
    n, c_in, *length = x.shape
    if w.shape[0] != c_in or c_in % groups:
        raise bad_value(func, "w", w,
                        f"of shape (C_in={c_in}, C_out/groups, *kernel) with groups={groups} "
                        f"dividing C_in")
    c_out = w.shape[1] * groups
    out = tuple((l - 1) * s - a - b + d * (k - 1) + e + 1 for l, s, (a, b), d, k, e in
                zip(length, stride, pads, dilation, w.shape[2:], extra))
    if min(out) < 1:
        raise bad_value(func, "padding", padding,
                        f"padding that leaves a non-empty output (the output lengths would "
                        f"be {out})")
    spec = make_spec(func, (n, c_out, *out), w.shape, stride, pads, dilation, groups, dtype,
                     rank)
    return spec, out


def _grow_to(a: np.ndarray, shape) -> np.ndarray:
    """``a`` zero-padded at the end of each spatial axis to ``shape`` (output padding
    beyond the stride, ``output_padding >= stride``, leaves the convolution more
    outputs than the transposed input has: their gradients are zero)."""
    if a.shape == tuple(shape):
        return a
    return np.pad(a, [(0, t - s) for s, t in zip(a.shape, shape)])


def _conv_transpose(func, rank, x, w, bias, stride, padding, output_padding, groups,
                    dilation, backend):
    x, w, bias, dtype = _arrays(func, rank, x, w, bias)
    spec, _ = _transpose_spec(func, rank, x, w, stride, padding, output_padding, groups,
                              dilation, dtype)
    if bias is not None and bias.shape != (spec.c_in,):
        raise bad_value(func, "bias", bias, f"an array of shape (C_out,) = ({spec.c_in},)")
    x, w = (a.astype(dtype, copy=False) for a in (x, w))
    runner = resolve_backend(func, backend, spec)
    y = runner.grad_input(_grow_to(x, spec.output_shape), w, spec)
    if bias is not None:
        y += bias.astype(dtype, copy=False).reshape((-1,) + (1,) * rank)
    return y


_TRANSPOSE_DOC = """{rank}-D transposed convolution (``torch.nn.functional.conv_transpose{rank}d``).

    The adjoint of :func:`conv{rank}d` in its input ("deconvolution", the
    fractionally strided convolution of decoders and upsampling layers): each
    input entry scatters ``w`` times itself onto a window of the output.

    Parameters
    ----------
    x : ndarray, shape {x_layout}
    w : ndarray, shape (C_in, C_out / groups, {k_names})
        PyTorch's layout for transposed convolutions (in-channels first).
    bias : ndarray, shape (C_out,), optional
    stride, dilation : int or {rank} ints
        Of the convolution this is the adjoint of, ``>= 1``.
    padding : int, {rank} ints or {rank} (before, after) pairs
        Removed from the output's ends (the forward convolution's padding).
    output_padding : int or {rank} ints
        Added to the output's far end along each axis, to choose among the
        input lengths a strided convolution maps to the same output; each must
        be smaller than the stride or the dilation (PyTorch's rule).
    groups : int
        Divides ``C_in``; ``C_out = w.shape[1] · groups``.
    backend : str, optional
        Runs on that backend's input gradient of the convolution.

    Returns
    -------
    y : ndarray, shape {y_layout}
        Along each axis ``(L - 1)·stride - pad_before - pad_after +
        dilation·(k - 1) + output_padding + 1``.

    Raises
    ------
    TypeError, ValueError
        Bad arrays or geometry; an ``output_padding`` not smaller than the
        stride or the dilation; padding leaving an empty output.

    See Also
    --------
    conv{rank}d : the convolution it is the adjoint of.
    conv_transpose_backward : its gradients.
    torch.nn.functional.conv_transpose{rank}d, torch.nn.ConvTranspose{rank}d

    Notes
    -----
    ``y = ∂/∂x̂ ⟨conv{rank}d(x̂, w), x⟩``: exactly ``conv_backward``'s input
    gradient with ``x`` in the role of the output gradient, so every backend
    that has that gradient computes it (the FFT backend by its spectra).

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> x = np.ones((1, 1{ones}))
    >>> fftconv.conv_transpose{rank}d(x, np.ones((1, 1{kernel})), stride=2).shape
    {example_shape}
    """


def conv_transpose1d(x, w, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1, backend=None):
    return _conv_transpose("conv_transpose1d", 1, x, w, bias, stride, padding,
                           output_padding, groups, dilation, backend)


def conv_transpose2d(x, w, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1, backend=None):
    return _conv_transpose("conv_transpose2d", 2, x, w, bias, stride, padding,
                           output_padding, groups, dilation, backend)


def conv_transpose3d(x, w, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1, backend=None):
    return _conv_transpose("conv_transpose3d", 3, x, w, bias, stride, padding,
                           output_padding, groups, dilation, backend)


for _rank, _fn in ((1, conv_transpose1d), (2, conv_transpose2d), (3, conv_transpose3d)):
    _fn.__doc__ = _TRANSPOSE_DOC.format(
        rank=_rank, x_layout=LAYOUTS[_rank][0], y_layout=_OUT_LAYOUTS[_rank],
        k_names=LAYOUTS[_rank][1].split("groups, ")[1].rstrip(")"),
        ones=", 3" * _rank, kernel=", 2" * _rank,
        example_shape=repr((1, 1) + (6,) * _rank))
del _rank, _fn


def conv_transpose_backward(dy, x, w, stride=1, padding=0, output_padding=0, groups=1,
                            dilation=1, backend=None, needs=("input", "weight", "bias")):
    """Gradients of :func:`conv_transpose1d` / ``2d`` / ``3d`` (rank ``x.ndim - 2``).

    Parameters
    ----------
    dy : ndarray, shape (N, C_out, \\*out)
        Gradient of the loss with respect to the transposed convolution's output.
    x : ndarray, shape (N, C_in, \\*L)
        Its input.
    w : ndarray, shape (C_in, C_out / groups, \\*kernel)
        Its weight.
    stride, padding, output_padding, groups, dilation, backend
        As given to the forward.
    needs : str or iterable of {'input', 'weight', 'bias'}

    Returns
    -------
    dx : ndarray, shape (N, C_in, \\*L) or None
        The forward convolution of ``dy`` with ``w`` (the adjoint of an adjoint).
    dw : ndarray, shape (C_in, C_out / groups, \\*kernel) or None
        The convolution's weight gradient with the roles swapped: ``dy`` as the
        convolution's input, ``x`` as its output gradient.
    db : ndarray, shape (C_out,) or None

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> x, w = np.ones((1, 1, 2)), np.ones((1, 1, 2))
    >>> dy = np.ones((1, 1, 3))
    >>> dx, dw, db = fftconv.conv_transpose_backward(dy, x, w)
    >>> dx[0, 0], dw[0, 0], db
    (array([2., 2.]), array([2., 2.]), array([3.]))
    """
    func = "conv_transpose_backward"
    chosen = _parse_needs(needs, func)
    rank = _rank_of(func, x)
    dy = as_array(func, "dy", dy, ndim=rank + 2, layout=_OUT_LAYOUTS[rank], arrays_only=True)
    x, w, _, dtype = _arrays(func, rank, x, w, None, extra=(dy,))
    spec, out = _transpose_spec(func, rank, x, w, stride, padding, output_padding, groups,
                                dilation, dtype)
    if dy.shape != spec.input_shape:
        raise bad_value(func, "dy", dy,
                        f"of the forward output's shape {_OUT_LAYOUTS[rank]} = "
                        f"{spec.input_shape}")
    dy, x, w = (a.astype(dtype, copy=False) for a in (dy, x, w))
    runner = resolve_backend(func, backend, spec)
    dx = dw = None
    length = x.shape[2:]
    if "input" in chosen:
        y = runner.forward(dy, w, spec)
        dx = np.ascontiguousarray(y[(slice(None), slice(None), *(slice(n) for n in length))])
    if "weight" in chosen:
        dw = runner.grad_weight(_grow_to(x, spec.output_shape), dy, spec)
    db = dy.sum(axis=(0, *range(2, rank + 2))) if "bias" in chosen else None
    return dx, dw, db


def _parse_needs(needs, func="conv2d_backward") -> frozenset:
    items = (needs,) if isinstance(needs, str) else needs
    allowed = "a subset of ('input', 'weight', 'bias')"
    try:
        chosen = frozenset(items)
    except TypeError:
        raise bad_type(func, "needs", needs, allowed) from None
    if not chosen <= set(_NEEDS):
        raise bad_value(func, "needs", needs, allowed)
    return chosen


def _rank_of(func: str, x, extra: int = 2) -> int:
    """The rank of a layer op's array argument ``x``: ``x.ndim - 2`` in 1, 2, 3."""
    ndim = getattr(x, "ndim", None)
    if not isinstance(x, np.ndarray):
        raise bad_type(func, "x", x, "a numpy.ndarray")
    if ndim not in (3, 4, 5):
        raise bad_value(func, "x", x, "a 3-, 4- or 5-d array (N, C, L), (N, C, H, W) or "
                        "(N, C, D, H, W)")
    return ndim - extra


def conv_backward(dy, x, w, stride=1, padding=0, dilation=1, groups=1, backend=None,
                  needs=("input", "weight", "bias"), context=None, padding_mode="zeros"):
    """Gradients of :func:`conv1d`, :func:`conv2d` or :func:`conv3d` (the rank is
    ``x.ndim - 2``) with respect to input, weight and bias.

    Parameters
    ----------
    dy : ndarray, shape (N, C_out, \\*out)
        Gradient of the loss with respect to the forward's output.
    x : ndarray, shape (N, C_in, \\*size)
        The forward input: ``(N, C_in, L)``, ``(N, C_in, H, W)`` or
        ``(N, C_in, D, H, W)``.
    w : ndarray, shape (C_out, C_in / groups, \\*kernel)
        The forward weight.
    stride, padding, dilation, groups, backend, padding_mode
        As given to the forward.
    needs : str or iterable of {'input', 'weight', 'bias'}
        Which gradients to compute; the others are returned as ``None``.
    context : ConvContext, optional
        What the forward returned with ``return_context=True`` (its backend's
        saved work is reused).

    Returns
    -------
    dx : ndarray, shape (N, C_in, \\*size) or None
    dw : ndarray, shape (C_out, C_in / groups, \\*kernel) or None
    db : ndarray, shape (C_out,) or None

    Notes
    -----
    The formulas of :func:`conv2d_backward` along every spatial axis. With
    ``padding_mode`` other than ``'zeros'`` the gradient of the padded input
    is folded back onto ``x`` by the adjoint of the padding (each padded entry's
    gradient is added to the entry it copies), as PyTorch's autograd does.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> x, w, dy = np.ones((1, 1, 4)), np.ones((1, 1, 2)), np.ones((1, 1, 3))
    >>> dx, dw, db = fftconv.conv_backward(dy, x, w)
    >>> dx[0, 0], dw[0, 0], db
    (array([1., 2., 2., 1.]), array([3., 3.]), array([3.]))
    """
    return _conv_backward("conv_backward", _rank_of("conv_backward", x), dy, x, w, stride,
                          padding, dilation, groups, backend, needs, context, padding_mode)


def conv2d_backward(dy, x, w, stride=1, padding=0, dilation=1, groups=1, backend=None,
                    needs=("input", "weight", "bias"), context=None, padding_mode="zeros"):
    """Gradients of :func:`conv2d` with respect to its input, weight and bias.

    Parameters
    ----------
    dy : ndarray, shape (N, C_out, OH, OW)
        Gradient of the loss with respect to ``conv2d``'s output.
    x : ndarray, shape (N, C_in, H, W)
        The forward input.
    w : ndarray, shape (C_out, C_in / groups, kh, kw)
        The forward weight.
    stride, padding, dilation, groups, backend
        As given to :func:`conv2d`.
    needs : str or iterable of {'input', 'weight', 'bias'}
        Which gradients to compute; the others are returned as ``None``.
    context : ConvContext, optional
        What ``conv2d(x, w, ..., return_context=True)`` returned for this
        ``x`` and ``w``: the backward then runs on the forward's backend and
        reuses its work. Its geometry must be this call's.
    padding_mode : {'zeros', 'reflect', 'replicate', 'circular'}
        As given to :func:`conv2d`.

    Returns
    -------
    dx : ndarray, shape (N, C_in, H, W) or None
    dw : ndarray, shape (C_out, C_in / groups, kh, kw) or None
    db : ndarray, shape (C_out,) or None

    Notes
    -----
    The formulas of Bouvrie 2006, in cross-correlation form (``⋆`` = conv2d)::

        dx = (stuff_s(dy) zero-padded by d(k-1)) ⋆_d rot180(w)ᵀ, cropped to x
        dw = x̃ᵀ ⋆_{stride d, dilation s} dyᵀ
        db = Σ_{n, i, j} dy[n, :, i, j]

    ``stuff_s`` inserts ``s - 1`` zeros between the rows and columns of ``dy``.
    Input rows and columns that no window covers (stride > 1 with a remainder)
    receive exactly zero, as in autograd frameworks. Backends may compute the
    same result by other means (col2im, FFT), and are tested to agree.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> x, w = np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2))
    >>> dy = np.ones((1, 1, 2, 2))
    >>> dx, dw, db = fftconv.conv2d_backward(dy, x, w)
    >>> dx[0, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    >>> db
    array([4.])
    """
    return _conv_backward("conv2d_backward", 2, dy, x, w, stride, padding, dilation, groups,
                          backend, needs, context, padding_mode)


def _conv_backward(func, rank, dy, x, w, stride, padding, dilation, groups, backend, needs,
                   context, padding_mode):
    """The backward of every rank (:func:`conv_backward`, :func:`conv2d_backward`)."""
    chosen = _parse_needs(needs, func)
    dy = as_array(func, "dy", dy, ndim=rank + 2, layout=_OUT_LAYOUTS[rank], arrays_only=True)
    size = getattr(x, "shape", (None,) * (rank + 2))[2:]
    x, w, _, spec, pads = _prepare(func, x, w, None, stride, padding, dilation, groups,
                                   extra=(dy,), rank=rank, padding_mode=padding_mode)
    if dy.shape != spec.output_shape:
        raise bad_value(func, "dy", dy,
                        f"of the forward output's shape {_OUT_LAYOUTS[rank]} = "
                        f"{spec.output_shape}")
    dy = dy.astype(spec.dtype, copy=False)
    saved = None
    if context is not None:
        _check_context(context, spec, backend, func)
        backend, saved = context.backend, context.saved
    runner = resolve_backend(func, backend, spec)
    cyclic = _cyclic_spec(runner, spec, pads, padding_mode)
    if not chosen - {"bias"}:
        dx = dw = None
    elif cyclic is not None:     # as the forward: one cyclic convolution, unpadded
        dx, dw = runner.backward_circular(dy, _unpadded(x, cyclic), w, cyclic, chosen,
                                          saved=saved)
    else:
        dx, dw = runner.backward(dy, x, w, spec, chosen, saved=saved)
        if dx is not None and pads is not None:
            dx = fold_padding(dx, pads, size, padding_mode)
    db = dy.sum(axis=(0, *range(2, rank + 2))) if "bias" in chosen else None
    return dx, dw, db


def _check_context(context, spec: ConvSpec, backend, func="conv2d_backward") -> None:
    """``context`` must come from a forward of ``spec`` (and of ``backend``, if named)."""
    if not isinstance(context, ConvContext):
        raise bad_type(func, "context", context,
                       "a ConvContext (from conv2d(..., return_context=True)) or None")
    if context.spec != spec:
        raise bad_value(func, "context", context,
                        f"the context of a forward of this call's geometry, {spec}")
    if backend is not None and backend != context.backend:
        raise bad_value(func, "backend", backend,
                        f"None or {context.backend!r}, the backend of the forward whose "
                        "context is given")


def convolve(in1, in2, mode="full", axes=None, method="auto"):
    """N-d convolution with ``scipy.signal.convolve`` semantics.

    Parameters
    ----------
    in1, in2 : array_like
        Inputs with the same number of dimensions (0-d: their product); bool,
        integer, float (any precision) or complex. Along axes not in ``axes`` the
        sizes must be equal or 1 (broadcast), so a stack of signals is convolved in
        one call.
    mode : {'full', 'same', 'valid'}
        Output size along each convolved axis: ``A + B - 1``; ``A`` (centred);
        ``max(A, B) - min(A, B) + 1``. Along the other axes: the broadcast size,
        in ``'same'`` mode ``in1``'s (as ``scipy.signal.fftconvolve``).
    axes : int or sequence of int, optional
        Axes to convolve over (default: all).
    method : {'auto', 'direct', 'fft'}
        Shift-and-accumulate, the convolution theorem, or
        :func:`choose_conv_method`'s choice (exact inputs stay exact; else the
        cheaper by estimate).

    Returns
    -------
    out : ndarray
        dtype ``numpy.result_type(in1, in2)`` on every method, as scipy: integer
        inputs give integers (the FFT result rounded; both methods wrap on
        overflow as integer arithmetic does), float16 stays float16. An empty
        input gives an empty result (size 0 along the convolved axes).

    Notes
    -----
    ``out[n] = Σ_k in1[k] · in2[n - k]`` (the kernel is flipped: ``rot180`` in
    2-D). The FFT method computes in float32 for inputs of single precision or
    less and in float64 otherwise (integers, longdouble): extended precision is
    exact only with ``method='direct'``, which ``'auto'`` then takes.

    See Also
    --------
    scipy.signal.convolve, scipy.signal.fftconvolve, correlate, convolve2d

    Examples
    --------
    >>> import fftconv
    >>> fftconv.convolve([1.0, 2.0, 3.0], [0.0, 1.0, 0.5])
    array([0. , 1. , 2.5, 4. , 1.5])
    >>> fftconv.convolve([1, 2, 3], [0, 1, 2], method="fft")    # integers stay integers
    array([0, 1, 4, 7, 6])
    """
    if _dask_arg(in1, in2):
        from . import dask as _on_dask
        return _on_dask.signal_op("convolve", in1, in2, mode, axes, method, flip=False,
                                  run=_convolve)
    a, b, axes = _signal.check_signal_args("convolve", in1, in2, mode, axes, method)
    return _convolve(a, b, mode, axes, method)


def _convolve(a, b, mode, axes, method):
    # Full convolution is commutative and the 'valid' crop symmetric in (a, b), so
    # which input is larger never matters here; 'same' follows a's shape.
    if a.ndim == 0:                  # two 0-d inputs (the checks made b alike): a product
        return a * b                 # a 0-d result, as scipy.signal's
    if a.size == 0 or b.size == 0:
        return _signal.empty_result(a, b, axes)
    if mode == "same":
        b = _signal.same_on_other_axes(a, b, axes)
    dtype = np.result_type(a, b)
    method, reduction = _choose(a, b, axes, mode) if method == "auto" else (method, None)
    if method == "direct":
        out = _signal.crop_to_mode(_signal.direct_full(a, b, axes), a.shape, b.shape, axes,
                                   mode)
        return np.ascontiguousarray(out.astype(dtype, copy=False))
    out = _signal.fft_convolve(reduction or _reduction(a, b, axes, mode))
    return np.ascontiguousarray(_signal.to_result_dtype(out, dtype))


def _reduction(a, b, axes, mode):
    """The FFT method's form of the op, in its working precision."""
    working = _signal.fft_working_dtype(a, b)
    return _signal._Reduction.of(_signal.fft_input(a, working), _signal.fft_input(b, working),
                                 axes, mode)


def _choose(a, b, axes, mode):
    """``(method, reduction)``: 'direct' (and None) when exactness needs it or the
    estimate rates it faster, else 'fft' and the FFT method's reduction, built once
    for the estimate and the run."""
    if _signal.exact_needs_direct(a, b):
        return "direct", None
    reduction = _reduction(a, b, axes, mode)
    if _signal.choose_method(a, b, axes, reduction) == "fft":
        return "fft", reduction
    return "direct", None


def choose_conv_method(in1, in2, mode="full", measure=False):
    """The method :func:`convolve` and :func:`correlate` take with ``method='auto'``.

    ``scipy.signal.choose_conv_method``'s signature and return values.

    Parameters
    ----------
    in1, in2 : array_like
        As in :func:`convolve` (all axes convolved).
    mode : {'full', 'same', 'valid'}
    measure : bool
        Time both methods on these inputs (each the fastest of a few runs) instead
        of estimating, and return the times too.

    Returns
    -------
    method : {'direct', 'fft'}
    times : dict
        Only with ``measure=True``: seconds per method, ``{'fft': …, 'direct': …}``.

    Notes
    -----
    As scipy's chooser, exact inputs stay exact: 'direct' for bool inputs, for
    extended precision (longdouble, which the FFT path computes in float64) and
    for integers whose largest possible sum ``max|in1|·max|in2|·min(size)``
    exceeds ``2**52 - 1`` (float64 would round it). Otherwise the fitted cost
    model of the direct and FFT backends decides (``fftconv calibrate``), not
    scipy's constants.

    See Also
    --------
    scipy.signal.choose_conv_method

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> fftconv.choose_conv_method(np.ones(8), np.ones(6))
    'direct'
    >>> fftconv.choose_conv_method(np.array([2 ** 51]), np.array([2 ** 51]))
    'direct'
    """
    if not isinstance(measure, bool):
        raise bad_type("choose_conv_method", "measure", measure, "a bool")
    a, b, axes = _signal.check_signal_args("choose_conv_method", in1, in2, mode, None, "auto")
    if measure:
        import time
        times = {}
        for method in ("fft", "direct"):
            best = float("inf")
            for _ in range(3):
                start = time.perf_counter()
                _convolve(a, b, mode, axes, method)
                best = min(best, time.perf_counter() - start)
            times[method] = best
        return ("fft" if times["fft"] < times["direct"] else "direct"), times
    if a.ndim == 0 or a.size == 0 or b.size == 0:
        return "direct"
    if mode == "same":
        b = _signal.same_on_other_axes(a, b, axes)
    return _choose(a, b, axes, mode)[0]


def correlate(in1, in2, mode="full", axes=None, method="auto"):
    """N-d cross-correlation with ``scipy.signal.correlate`` semantics.

    Parameters
    ----------
    in1, in2, mode, axes, method
        As in :func:`convolve`.

    Returns
    -------
    out : ndarray
        Same sizes and dtype rules as :func:`convolve`.

    Notes
    -----
    ``out[k] = Σ_n in1[n + k] · conj(in2[n])``, computed as
    ``convolve(in1, conj(in2[::-1, ...]))`` with ``in2`` reversed along ``axes``.
    Lag zero sits at index ``B - 1`` of the full output.

    See Also
    --------
    scipy.signal.correlate, convolve, correlate2d

    Examples
    --------
    >>> import fftconv
    >>> fftconv.correlate([1.0, 2.0, 3.0], [0.0, 1.0, 0.5], mode="valid")
    array([3.5])
    """
    if _dask_arg(in1, in2):
        from . import dask as _on_dask
        return _on_dask.signal_op("correlate", in1, in2, mode, axes, method, flip=True,
                                  run=_convolve)
    a, b, axes = _signal.check_signal_args("correlate", in1, in2, mode, axes, method)
    b = np.conj(np.flip(b, axis=axes)) if np.iscomplexobj(b) else np.flip(b, axis=axes)
    return _convolve(a, b, mode, axes, method)


BOUNDARIES = ("fill", "wrap", "symm")
_PAD_MODES = {"fill": "constant", "wrap": "wrap", "symm": "symmetric"}


def convolve2d(in1, in2, mode="full", boundary="fill", fillvalue=0, method="auto"):
    """2-D convolution with a boundary condition, exactly ``scipy.signal.convolve2d``.

    Parameters
    ----------
    in1, in2 : array_like, 2-D
        Image and kernel (dtypes as in :func:`convolve`).
    mode : {'full', 'same', 'valid'}
        As in :func:`convolve`; ``'same'`` has ``in1``'s shape.
    boundary : {'fill', 'wrap', 'symm'}
        How ``in1`` extends beyond its edges: ``fillvalue`` everywhere
        (``'fill'``), periodically (``'wrap'``: circular convolution), or mirrored
        with the edge sample repeated (``'symm'``: ``… b a | a b c | c b …``),
        as often as the kernel reaches. ``'valid'`` never reads beyond the edges.
    fillvalue : scalar
        The value outside ``in1`` with ``boundary='fill'``, cast to the result
        dtype (a complex value for a real result is an error).
    method : {'auto', 'direct', 'fft'}
        As in :func:`convolve`: the boundary is applied on the FFT path too.

    Returns
    -------
    out : ndarray, 2-D
        ``(M + K - 1, N + L - 1)``, ``(M, N)`` or the valid size, for ``in1`` of
        shape ``(M, N)`` and ``in2`` of shape ``(K, L)``; dtype as :func:`convolve`.

    Notes
    -----
    ``in1`` is extended by ``K - 1`` rows and ``L - 1`` columns on every side by
    the boundary rule (``numpy.pad`` modes ``'constant'``, ``'wrap'``,
    ``'symmetric'``) and the extension convolved with ``in2`` in ``'valid'`` mode:
    that is the full convolution of the extended image, cut to ``mode``.

    See Also
    --------
    scipy.signal.convolve2d, convolve, correlate2d

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> a = np.array([[1, 2, 3], [3, 4, 5]])
    >>> fftconv.convolve2d(a, np.ones((1, 2), int), mode="same", boundary="wrap")
    array([[4, 3, 5],
           [8, 7, 9]])
    """
    return _conv2d_boundary("convolve2d", in1, in2, mode, boundary, fillvalue, method, False)


def correlate2d(in1, in2, mode="full", boundary="fill", fillvalue=0, method="auto"):
    """2-D cross-correlation with a boundary condition, exactly ``scipy.signal.correlate2d``.

    Parameters
    ----------
    in1, in2, mode, boundary, fillvalue, method
        As in :func:`convolve2d`.

    Returns
    -------
    out : ndarray, 2-D
        As :func:`convolve2d`.

    Notes
    -----
    ``convolve2d(in1, conj(in2[::-1, ::-1]))``, as :func:`correlate` is to
    :func:`convolve`, except where ``'same'`` starts: at index ``K // 2`` of the
    full result per axis (``convolve2d``: ``(K - 1) // 2``), as in scipy, so for an
    even kernel size ``correlate2d`` and :func:`correlate` differ by one sample there.

    See Also
    --------
    scipy.signal.correlate2d, correlate, convolve2d

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> fftconv.correlate2d(np.eye(3), np.array([[1.0, 2.0]]), mode="valid")
    array([[1., 0.],
           [2., 1.],
           [0., 2.]])
    """
    return _conv2d_boundary("correlate2d", in1, in2, mode, boundary, fillvalue, method, True)


def _conv2d_boundary(func, in1, in2, mode, boundary, fillvalue, method, correlation):
    a, b, axes = _signal.check_signal_args(func, in1, in2, mode, None, method)
    if a.ndim != 2:
        raise bad_value(func, "in1", a, "a 2-D array (and in2 too)")
    if not isinstance(boundary, str) or boundary not in BOUNDARIES:
        raise bad_value(func, "boundary", boundary, "one of 'fill', 'wrap', 'symm'")
    dtype = np.result_type(a, b)
    fill = np.asarray(fillvalue)
    if fill.size != 1 or fill.dtype.kind not in "biufc":
        raise bad_value(func, "fillvalue", fillvalue, "a number (or an array of one number)")
    if fill.dtype.kind == "c" and dtype.kind != "c":
        raise bad_value(func, "fillvalue", fillvalue,
                        f"a real number for a result of dtype {dtype} (a complex value "
                        "cannot be cast to it)")
    if correlation:
        b = np.conj(np.flip(b)) if np.iscomplexobj(b) else np.flip(b)
    if mode == "valid" or a.size == 0 or b.size == 0:
        return _convolve(a, b, mode, axes, method)
    # the full convolution of in1 extended by the boundary rule, cut to the mode
    pad = [(k - 1, k - 1) for k in b.shape]
    options = {"constant_values": fill.reshape(()).astype(dtype)} if boundary == "fill" else {}
    extended = np.pad(a.astype(dtype, copy=False), pad, mode=_PAD_MODES[boundary], **options)
    full = _convolve(extended, b, "valid", axes, method)
    if mode == "full":
        return full
    # 'same': in1's size; convolve2d's window starts at (K - 1) // 2 of the full
    # result, correlate2d's at K // 2 (scipy's rule: they differ for even K)
    starts = [k // 2 if correlation else (k - 1) // 2 for k in b.shape]
    return np.ascontiguousarray(full[tuple(slice(s, s + n) for s, n in zip(starts, a.shape))])
