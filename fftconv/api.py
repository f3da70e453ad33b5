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
from ._spec import ConvSpec, make_spec
from .checks import as_array
from .errors import bad_type, bad_value
from .select import resolve_backend

__all__ = ["conv2d", "conv2d_backward", "convolve", "correlate", "ConvContext"]

_X_LAYOUT = "(N, C_in, H, W)"
_W_LAYOUT = "(C_out, C_in/groups, kh, kw)"
_NEEDS = ("input", "weight", "bias")


def _dask_arg(*values) -> bool:
    """Whether an argument is a dask array, handed to :mod:`fftconv.dask`; dask is not
    imported here (no object can be a dask array before dask is)."""
    module = sys.modules.get("dask.array")
    return module is not None and any(isinstance(v, module.Array) for v in values)


def _prepare(func, x, w, bias, stride, padding, dilation, groups, extra=()):
    """Validate arrays and geometry; return arrays in the computation dtype and the spec."""
    x = as_array(func, "x", x, ndim=4, layout=_X_LAYOUT, arrays_only=True)
    w = as_array(func, "w", w, ndim=4, layout=_W_LAYOUT, arrays_only=True)
    arrays = [x, w, *extra]
    if bias is not None:
        bias = as_array(func, "bias", bias, arrays_only=True)
        arrays.append(bias)
    dtype = np.result_type(*arrays)
    spec = make_spec(func, x.shape, w.shape, stride, padding, dilation, groups, dtype)
    if bias is not None and bias.shape != (spec.c_out,):
        raise bad_value(func, "bias", bias, f"an array of shape (C_out,) = ({spec.c_out},)")
    cast = [a.astype(dtype, copy=False) for a in (x, w)]
    return cast[0], cast[1], None if bias is None else bias.astype(dtype, copy=False), spec


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


def conv2d(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1, backend=None,
           return_context=False):
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
    if not isinstance(return_context, bool):
        raise bad_type("conv2d", "return_context", return_context, "a bool")
    if _dask_arg(x, w, bias):
        if return_context:
            raise bad_value("conv2d", "return_context", return_context,
                            "False for a dask array x (inference only)")
        from . import dask as _on_dask
        return _on_dask.conv2d(x, w, bias, stride, padding, dilation, groups, backend,
                               run=conv2d, prepare=_prepare)
    x, w, bias, spec = _prepare("conv2d", x, w, bias, stride, padding, dilation, groups)
    chosen = resolve_backend("conv2d", backend, spec)
    if return_context:
        y, saved = chosen.forward_saving(x, w, spec)
    else:
        y = chosen.forward(x, w, spec)
    if bias is not None:
        y += bias[:, None, None]
    return (y, ConvContext(spec, chosen.name, saved)) if return_context else y


def _parse_needs(needs) -> frozenset:
    items = (needs,) if isinstance(needs, str) else needs
    allowed = "a subset of ('input', 'weight', 'bias')"
    try:
        chosen = frozenset(items)
    except TypeError:
        raise bad_type("conv2d_backward", "needs", needs, allowed) from None
    if not chosen <= set(_NEEDS):
        raise bad_value("conv2d_backward", "needs", needs, allowed)
    return chosen


def conv2d_backward(dy, x, w, stride=1, padding=0, dilation=1, groups=1, backend=None,
                    needs=("input", "weight", "bias"), context=None):
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

    Returns
    -------
    dx : ndarray, shape (N, C_in, H, W) or None
    dw : ndarray, shape (C_out, C_in / groups, kh, kw) or None
    db : ndarray, shape (C_out,) or None

    Notes
    -----
    The formulas of seed 000, in cross-correlation form (``⋆`` = conv2d)::

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
    chosen = _parse_needs(needs)
    dy = as_array("conv2d_backward", "dy", dy, ndim=4, layout="(N, C_out, OH, OW)", arrays_only=True)
    x, w, _, spec = _prepare("conv2d_backward", x, w, None, stride, padding, dilation,
                             groups, extra=(dy,))
    if dy.shape != spec.output_shape:
        raise bad_value("conv2d_backward", "dy", dy,
                        f"of the forward output's shape (N, C_out, OH, OW) = {spec.output_shape}")
    dy = dy.astype(spec.dtype, copy=False)
    saved = None
    if context is not None:
        _check_context(context, spec, backend)
        backend, saved = context.backend, context.saved
    runner = resolve_backend("conv2d_backward", backend, spec)
    dx, dw = (runner.backward(dy, x, w, spec, chosen, saved=saved) if chosen - {"bias"}
              else (None, None))
    db = dy.sum(axis=(0, 2, 3)) if "bias" in chosen else None
    return dx, dw, db


def _check_context(context, spec: ConvSpec, backend) -> None:
    """``context`` must come from a forward of ``spec`` (and of ``backend``, if named)."""
    if not isinstance(context, ConvContext):
        raise bad_type("conv2d_backward", "context", context,
                       "a ConvContext (from conv2d(..., return_context=True)) or None")
    if context.spec != spec:
        raise bad_value("conv2d_backward", "context", context,
                        f"the context of a forward of this call's geometry, {spec}")
    if backend is not None and backend != context.backend:
        raise bad_value("conv2d_backward", "backend", backend,
                        f"None or {context.backend!r}, the backend of the forward whose "
                        "context is given")


def convolve(a, b, mode="full", axes=None, method="auto"):
    """N-d convolution with ``scipy.signal.convolve`` semantics.

    Parameters
    ----------
    a, b : array_like
        Inputs with the same number of dimensions; float, complex or integer
        (integers become float64). Along axes not in ``axes`` the sizes must be
        equal or 1 (broadcast), so a stack of signals is convolved in one call.
        The output has the broadcast size there in every mode
        (``scipy.signal.fftconvolve`` in ``'same'`` mode instead crops those axes
        to ``a``'s size, dropping results when ``b`` is the larger one).
    mode : {'full', 'same', 'valid'}
        Output size along each convolved axis: ``A + B - 1``; ``A`` (centred);
        ``max(A, B) - min(A, B) + 1``.
    axes : int or sequence of int, optional
        Axes to convolve over (default: all).
    method : {'auto', 'direct', 'fft'}
        Shift-and-accumulate, the convolution theorem, or the cheaper by estimate.

    Returns
    -------
    out : ndarray
        dtype: the common dtype of the (converted) inputs.

    Notes
    -----
    ``out[n] = Σ_k a[k] · b[n - k]`` (the kernel is flipped: ``rot180`` in 2-D).

    Examples
    --------
    >>> import fftconv
    >>> fftconv.convolve([1.0, 2.0, 3.0], [0.0, 1.0, 0.5])
    array([0. , 1. , 2.5, 4. , 1.5])
    """
    if _dask_arg(a, b):
        from . import dask as _on_dask
        return _on_dask.signal_op("convolve", a, b, mode, axes, method, flip=False,
                                  run=_convolve)
    a, b, axes = _signal.check_signal_args("convolve", a, b, mode, axes, method)
    return _convolve(a, b, mode, axes, method)


def _convolve(a, b, mode, axes, method):
    # Full convolution is commutative and the 'valid' crop symmetric in (a, b), so
    # which input is larger never matters here; 'same' follows a's shape.
    if a.ndim == 0:                  # two 0-d inputs (the checks made b alike): a product
        return a * b                 # a 0-d result, as scipy.signal's
    # the FFT method's form of the op, built once for the estimate and the run
    reduction = _signal._Reduction.of(a, b, axes, mode) if method != "direct" else None
    if method == "auto":
        method = _signal.choose_method(a, b, axes, reduction)
    if method == "direct":
        out = _signal.crop_to_mode(_signal.direct_full(a, b, axes), a.shape, b.shape, axes,
                                   mode)
    else:
        out = _signal.fft_convolve(reduction)
    return np.ascontiguousarray(out)


def correlate(a, b, mode="full", axes=None, method="auto"):
    """N-d cross-correlation with ``scipy.signal.correlate`` semantics.

    Parameters
    ----------
    a, b, mode, axes, method
        As in :func:`convolve`.

    Returns
    -------
    out : ndarray
        Same sizes as :func:`convolve`.

    Notes
    -----
    ``out[k] = Σ_n a[n + k] · conj(b[n])``, computed as
    ``convolve(a, conj(b[::-1, ...]))`` with ``b`` reversed along ``axes``.
    Lag zero sits at index ``B - 1`` of the full output.

    Examples
    --------
    >>> import fftconv
    >>> fftconv.correlate([1.0, 2.0, 3.0], [0.0, 1.0, 0.5], mode="valid")
    array([3.5])
    """
    if _dask_arg(a, b):
        from . import dask as _on_dask
        return _on_dask.signal_op("correlate", a, b, mode, axes, method, flip=True,
                                  run=_convolve)
    a, b, axes = _signal.check_signal_args("correlate", a, b, mode, axes, method)
    b = np.conj(np.flip(b, axis=axes)) if np.iscomplexobj(b) else np.flip(b, axis=axes)
    return _convolve(a, b, mode, axes, method)
