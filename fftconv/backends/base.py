"""The backend interface and the seed-formula gradients every backend inherits.

A backend computes the *bias-free* cross-correlation of :func:`fftconv.conv2d` for a
validated :class:`~fftconv._spec.ConvSpec`. It only has to provide ``forward``: the
gradients default to the formulas of seed 000, each of which is itself a forward
cross-correlation, so they run on the same backend.

Gradient formulas (cross-correlation form, ``⋆`` is ``conv2d`` with the given
stride ``s``, dilation ``d`` and padding ``P``)::

    y  = x ⋆ w
    dx = crop_P( pad(stuff_s(dy), d(k-1)) ⋆_d rot180(wᵀ) )      # 'full' convolution
    dw = pad_P(x)ᵀ ⋆_{stride=d, dilation=s} dyᵀ                 # 'valid' correlation

``stuff_s`` inserts ``s - 1`` zeros between the rows and columns of ``dy`` (seed 000:
stride > 1 is reduced to stride 1 by zero insertion); ``wᵀ`` swaps the in- and
out-channel axes inside each group; ``xᵀ``/``dyᵀ`` swap batch and channel axes so the
batch sum becomes the channel sum of an ordinary convolution. Rows and columns of
``x`` that no window covers (stride > 1 with a remainder) get zero gradient, exactly
as autograd frameworks return.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np

from .._spec import ConvSpec
from ..checks import is_int
from ..errors import bad_type, bad_value
from ._parallel import split_matmul, threads_for

__all__ = ["Backend", "pad_input", "stuff_zeros", "flip_transpose_weight",
           "grad_input_via_forward", "grad_weight_via_forward", "set_memory_budget",
           "get_memory_budget", "DEFAULT_MEMORY_BUDGET", "is_pointwise", "pointwise_forward",
           "POINTWISE_PATH", "tap_slices"]

DEFAULT_MEMORY_BUDGET = 1 << 30
_BUDGET: ContextVar[int] = ContextVar("fftconv_im2col_budget", default=DEFAULT_MEMORY_BUDGET)


def get_memory_budget() -> int:
    """Largest working buffer, in bytes, that a backend builds at once.

    The im2col column matrix and the FFT backend's tile spectra are split into
    chunks (of the batch, or of output rows) to stay within it.
    """
    return _BUDGET.get()


@contextmanager
def set_memory_budget(nbytes: int):
    """Limit backends' working buffers to ``nbytes`` inside the ``with`` block.

    Results do not change; only how much is computed at once.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> x, w = np.ones((8, 3, 32, 32)), np.ones((4, 3, 3, 3))
    >>> with fftconv.set_memory_budget(64 * 1024):    # forces chunked evaluation
    ...     y = fftconv.conv2d(x, w, backend="im2col")
    >>> y.shape
    (8, 4, 30, 30)
    """
    if not is_int(nbytes):
        raise bad_type("set_memory_budget", "nbytes", nbytes, "a positive int (bytes)")
    if nbytes < 1:
        raise bad_value("set_memory_budget", "nbytes", nbytes, "a positive int (bytes)")
    token = _BUDGET.set(int(nbytes))
    try:
        yield int(nbytes)
    finally:
        _BUDGET.reset(token)




def pad_input(x: np.ndarray, padding) -> np.ndarray:
    """Zero-pad the spatial axes of ``(N, C, H, W)`` by ``((top, bottom), (left, right))``."""
    (pt, pb), (pl, pr) = padding
    if pt == pb == pl == pr == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))


def tap_slices(spec: ConvSpec, p: int, q: int, r0: int = 0,
               r1: int | None = None) -> tuple[slice, slice]:
    """Rows and columns of the padded input that kernel offset ``(p, q)`` meets for
    output rows ``[r0, r1)`` (default: all ``OH``) and every output column::

        rows    = p·dh + i·sh   for i in [r0, r1)
        columns = q·dw + j·sw   for j in [0, OW)

    Both the direct backend (one product per offset) and im2col (one copy per
    offset) read the input through these.

    Examples
    --------
    >>> import fftconv
    >>> spec = fftconv.make_spec("s", (1, 1, 9, 9), (1, 1, 3, 3), stride=2)
    >>> tap_slices(spec, 1, 2)
    (slice(1, 8, 2), slice(2, 9, 2))
    """
    r1 = spec.out_h if r1 is None else r1
    (sh, sw), (dh, dw) = spec.stride, spec.dilation
    top, left = p * dh + r0 * sh, q * dw
    return (slice(top, top + (r1 - r0 - 1) * sh + 1, sh),
            slice(left, left + (spec.out_w - 1) * sw + 1, sw))


def is_pointwise(spec: ConvSpec) -> bool:
    """A 1×1 kernel at stride 1 without padding: every output pixel is a mix of the
    channels of one input pixel, and the input itself is the column matrix."""
    return (spec.kh, spec.kw, spec.stride) == (1, 1, (1, 1)) and \
        spec.padding == ((0, 0), (0, 0))


#: Multiply-adds from which :func:`pointwise_forward` splits its product across threads.
POINTWISE_SPLIT_MIN_MACS = 1 << 25

#: What :meth:`Backend.forward_path` names for a pointwise layer in the backends
#: that run :func:`pointwise_forward` (direct and im2col).
POINTWISE_PATH = "pointwise product"


def pointwise_forward(x: np.ndarray, w: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """The forward of a pointwise layer (:func:`is_pointwise`): one product per image
    and group, ``y[n, g] = W_g @ x[n, g]`` with ``x[n, g]`` viewed as a
    ``(C_in/g) × (H·W)`` matrix, written straight into ``(N, C_out, H, W)`` order.

    Shift-and-accumulate (one offset) and im2col (the input is its own column
    matrix) both reduce to this product, so both backends run this function.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
    w : ndarray, shape (C_out, C_in/g, 1, 1)
    spec : ConvSpec
        A pointwise geometry of these shapes.

    Returns
    -------
    ndarray, shape (N, C_out, H, W)
        ``y[n, o, i, j] = Σ_c w[o, c] · x[n, g(o)·C_in/g + c, i, j]``.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> x, w = np.ones((2, 4, 3, 3)), np.full((5, 4, 1, 1), 0.5)
    >>> pointwise_forward(x, w, fftconv.make_spec("s", x.shape, w.shape))[0, :, 0, 0]
    array([2., 2., 2., 2., 2.])
    """
    g, cg, og = spec.groups, spec.c_in_per_group, spec.c_out_per_group
    y = np.empty((spec.n, g, og, spec.h * spec.w), dtype=spec.dtype)
    split_matmul(w.reshape(g, og, cg), x.reshape(spec.n, g, cg, spec.h * spec.w), y,
                 threads_for(spec.macs, POINTWISE_SPLIT_MIN_MACS))
    return y.reshape(spec.output_shape)


def stuff_zeros(dy: np.ndarray, stride) -> np.ndarray:
    """Insert ``stride - 1`` zeros between rows and columns of ``(N, C, OH, OW)``.

    Returns shape ``(N, C, (OH-1)*sh + 1, (OW-1)*sw + 1)``.
    """
    sh, sw = stride
    if sh == sw == 1:
        return dy
    n, c, oh, ow = dy.shape
    out = np.zeros((n, c, (oh - 1) * sh + 1, (ow - 1) * sw + 1), dtype=dy.dtype)
    out[:, :, ::sh, ::sw] = dy
    return out


def flip_transpose_weight(w: np.ndarray, groups: int) -> np.ndarray:
    """``rot180`` of each kernel with in/out channels swapped within each group.

    ``(C_out, C_in/g, kh, kw)`` becomes ``(C_in, C_out/g, kh, kw)``: the weight of
    the adjoint (transposed) convolution.
    """
    c_out, c_in_g, kh, kw = w.shape
    wg = w.reshape(groups, c_out // groups, c_in_g, kh, kw)
    wt = wg.transpose(0, 2, 1, 3, 4)[..., ::-1, ::-1]
    return np.ascontiguousarray(wt).reshape(groups * c_in_g, c_out // groups, kh, kw)


def _split_padding(before: int, after: int) -> tuple[tuple[int, int], slice]:
    """Signed padding → (non-negative padding, crop slice for the negative parts)."""
    start = max(-before, 0)
    stop = -max(-after, 0) or None
    return (max(before, 0), max(after, 0)), slice(start, stop)


def grad_input_via_forward(forward, dy: np.ndarray, w: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """``dx`` of seed 000: full convolution of the zero-stuffed ``dy`` with ``rot180(w)``.

    The 'full' padding ``d(k-1)`` and the forward padding ``P`` combine into one
    signed padding per side, chosen so the output has exactly ``x``'s size:
    ``top = d(kh-1) - pad_top``, ``bottom = H + pad_top - Hz`` where
    ``Hz = (OH-1)·sh + 1``. Negative amounts crop ``dy``'s stuffed rows instead
    (those rows only reach the padding region of ``x``).
    """
    dz = stuff_zeros(dy, spec.stride)
    hz, wz = dz.shape[2:]
    (pt, _), (pl, _) = spec.padding
    pad_h, crop_h = _split_padding(spec.span_h - 1 - pt, spec.h + pt - hz)
    pad_w, crop_w = _split_padding(spec.span_w - 1 - pl, spec.w + pl - wz)
    dz = dz[:, :, crop_h, crop_w]
    adjoint = ConvSpec(n=spec.n, c_in=spec.c_out, h=dz.shape[2], w=dz.shape[3],
                       c_out=spec.c_in, kh=spec.kh, kw=spec.kw, stride=(1, 1),
                       padding=(pad_h, pad_w), dilation=spec.dilation,
                       groups=spec.groups, dtype=spec.dtype)
    return forward(dz, flip_transpose_weight(w, spec.groups), adjoint)


def grad_weight_via_forward(forward, dy: np.ndarray, x: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """``dw`` of seed 000: valid correlation of the padded input with ``dy``.

    Batch and channel axes are swapped so that the sum over the batch becomes the
    channel sum of a grouped convolution with stride ``d`` and dilation ``s``::

        dw[o, c, p, q] = Σ_{n,i,j} xp[n, c, p·d + i·s, q·d + j·s] · dy[n, o, i, j]
    """
    g, cg, og = spec.groups, spec.c_in_per_group, spec.c_out_per_group
    oh, ow = spec.out_h, spec.out_w
    (sh, sw), (dh, dw_) = spec.stride, spec.dilation
    # Only the rows and columns the forward pass read; the rest has zero gradient.
    need_h = (spec.kh - 1) * dh + (oh - 1) * sh + 1
    need_w = (spec.kw - 1) * dw_ + (ow - 1) * sw + 1
    xp = pad_input(x, spec.padding)[:, :, :need_h, :need_w]
    n = spec.n
    xs = xp.reshape(n, g, cg, need_h, need_w).transpose(2, 1, 0, 3, 4)
    xs = xs.reshape(cg, g * n, need_h, need_w)
    ks = dy.reshape(n, g, og, oh, ow).transpose(1, 2, 0, 3, 4).reshape(g * og, n, oh, ow)
    wspec = ConvSpec(n=cg, c_in=g * n, h=need_h, w=need_w, c_out=g * og, kh=oh, kw=ow,
                     stride=(dh, dw_), padding=((0, 0), (0, 0)), dilation=(sh, sw),
                     groups=g, dtype=spec.dtype)
    return np.ascontiguousarray(forward(np.ascontiguousarray(xs), np.ascontiguousarray(ks),
                                        wspec).transpose(1, 0, 2, 3))


class Backend:
    """Base class of a convolution backend (register with :func:`register_backend`).

    Subclasses set ``name`` and implement :meth:`forward` and :meth:`cost`; they
    may override :meth:`supports`, :meth:`grad_input` and :meth:`grad_weight`.
    All arrays are C-contiguous-agnostic numpy arrays in ``spec.dtype``.
    """

    name: str = ""

    def supports(self, spec: ConvSpec) -> bool:
        """Whether this backend can compute ``spec`` (default: every geometry)."""
        return True

    def cost(self, spec: ConvSpec) -> float:
        """Estimated seconds for the forward pass of ``spec`` (used by ``'auto'``).

        The built-in backends use the fitted model of :mod:`fftconv.select`; a new
        backend overrides this.
        """
        from ..select import estimate
        return estimate(self.name, spec)

    def forward(self, x: np.ndarray, w: np.ndarray, spec: ConvSpec) -> np.ndarray:
        """Bias-free cross-correlation: ``(N, C_in, H, W), (C_out, C_in/g, kh, kw)
        → (N, C_out, OH, OW)``."""
        raise NotImplementedError

    def forward_path(self, spec: ConvSpec) -> str:
        """A name for the code :meth:`forward` runs on ``spec``.

        Backends that return the same name for a geometry run the same
        computation on it (direct and im2col on a pointwise layer both run
        :func:`pointwise_forward`). Autotuning and ``fftconv bench`` time such a
        path once and credit the time to each of its backends: two timings of one
        computation differ only by the machine's noise, and naming a winner
        between them would report that noise as a difference of backends.
        Default: the backend's own name.
        """
        return self.name

    def grad_input(self, dy: np.ndarray, w: np.ndarray, spec: ConvSpec) -> np.ndarray:
        """Gradient with respect to the input, shape ``(N, C_in, H, W)``."""
        return grad_input_via_forward(self.forward, dy, w, spec)

    def grad_weight(self, dy: np.ndarray, x: np.ndarray, spec: ConvSpec) -> np.ndarray:
        """Gradient with respect to the weight, shape ``(C_out, C_in/g, kh, kw)``."""
        return grad_weight_via_forward(self.forward, dy, x, spec)

    def backward(self, dy, x, w, spec: ConvSpec, needs) -> tuple:
        """``(dx, dw)`` for the gradients named in ``needs`` (others ``None``).

        Override to share work between the two (the FFT backend transforms ``dy``
        once for both).
        """
        dx = self.grad_input(dy, w, spec) if "input" in needs else None
        dw = self.grad_weight(dy, x, spec) if "weight" in needs else None
        return dx, dw

    def __repr__(self) -> str:
        return f"<fftconv backend {self.name!r}>"
