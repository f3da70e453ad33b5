"""The backend interface and the seed-formula gradients every backend inherits.

A backend computes the *bias-free* cross-correlation of :func:`fftconv.conv2d` for a
validated :class:`~fftconv._spec.ConvSpec`. It only has to provide ``forward``: the
gradients default to the formulas of Bouvrie 2006, each of which is itself a forward
cross-correlation, so they run on the same backend.

Gradient formulas (cross-correlation form, ``⋆`` is ``conv2d`` with the given
stride ``s``, dilation ``d`` and padding ``P``)::

    y  = x ⋆ w
    dx = crop_P( pad(stuff_s(dy), d(k-1)) ⋆_d rot180(wᵀ) )      # 'full' convolution
    dw = pad_P(x)ᵀ ⋆_{stride=d, dilation=s} dyᵀ                 # 'valid' correlation

``stuff_s`` inserts ``s - 1`` zeros between the rows and columns of ``dy`` (Bouvrie 2006:
stride > 1 is reduced to stride 1 by zero insertion); ``wᵀ`` swaps the in- and
out-channel axes inside each group; ``xᵀ``/``dyᵀ`` swap batch and channel axes so the
batch sum becomes the channel sum of an ordinary convolution. Rows and columns of
``x`` that no window covers (stride > 1 with a remainder) get zero gradient, exactly
as autograd frameworks return.
"""

from __future__ import annotations

import math
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar

import numpy as np

from .. import constants as _constants
from .._spec import ConvSpec
from ..checks import is_int
from ..errors import bad_type, bad_value
from ._parallel import split_matmul, threads_for

__all__ = ["Backend", "DEFAULT_CONSTANTS", "estimate_seconds", "gemm_work", "K_HALF", "pad_input", "stuff_zeros", "flip_transpose_weight",
           "grad_input_via_forward", "grad_weight_via_forward", "grad_input_spec",
           "grad_weight_spec", "add_features", "set_memory_budget",
           "get_memory_budget", "DEFAULT_MEMORY_BUDGET", "is_pointwise", "pointwise_forward",
           "POINTWISE_PATH", "tap_slices", "tap_window"]

DEFAULT_MEMORY_BUDGET = 1 << 30
_BUDGET: ContextVar[int] = ContextVar("fftconv_im2col_budget", default=DEFAULT_MEMORY_BUDGET)


def get_memory_budget() -> int:
    """Largest working buffer, in bytes, that a backend builds at once.

    The im2col column matrix, the direct backend's bands and the FFT backend's
    tile spectra are split into chunks (of the batch, or of output rows) to stay
    within it; a layer whose smallest chunk does not fit on any backend is
    refused with a ``MemoryError`` naming the bytes it needs
    (:meth:`fftconv.Backend.working_set`). Copies of the inputs (zero padding)
    and the output are not counted.
    """
    return _BUDGET.get()


@contextmanager
def set_memory_budget(nbytes: int):
    """Limit backends' working buffers to ``nbytes`` inside the ``with`` block.

    Results do not change; only how much is computed at once. A backend whose
    smallest chunk is larger than ``nbytes`` is not used (``'auto'`` picks
    another; none left, or a backend named explicitly: ``MemoryError``).

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
    """Zero-pad the spatial axes of ``(N, C, *size)`` by one ``(before, after)`` pair
    per axis (``((top, bottom), (left, right))`` in 2-D)."""
    if not any(a or b for a, b in padding):
        return x
    return np.pad(x, ((0, 0), (0, 0), *padding))


def tap_window(spec: ConvSpec, offset) -> tuple:
    """The slices of the padded input that kernel offset ``offset`` (one index per
    spatial axis) meets for every output position, any rank::

        index along axis a = offset[a]·dilation[a] + i·stride[a],   i in [0, out[a])

    The rank-generic form of :func:`tap_slices`.

    Examples
    --------
    >>> import fftconv
    >>> spec = fftconv.make_spec("s", (1, 1, 9), (1, 1, 3), stride=2, rank=1)
    >>> tap_window(spec, (2,))
    (slice(2, 9, 2),)
    """
    return tuple(slice(p * d, p * d + (o - 1) * s + 1, s) for p, d, o, s in
                 zip(offset, spec.dilation, spec.out_size, spec.stride))


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
    rank = spec.rank
    return spec.kernel == (1,) * rank and spec.stride == (1,) * rank and \
        spec.padding == ((0, 0),) * rank


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
    points = math.prod(spec.size)
    y = np.empty((spec.n, g, og, points), dtype=spec.dtype)
    split_matmul(w.reshape(g, og, cg), x.reshape(spec.n, g, cg, points), y,
                 threads_for(spec.macs, POINTWISE_SPLIT_MIN_MACS))
    return y.reshape(spec.output_shape)


def stuff_zeros(dy: np.ndarray, stride) -> np.ndarray:
    """Insert ``stride - 1`` zeros between the entries of each spatial axis of
    ``(N, C, *out)`` (rows and columns of ``(N, C, OH, OW)`` in 2-D).

    Returns shape ``(N, C, *((out - 1)·stride + 1))``.
    """
    if all(s == 1 for s in stride):
        return dy
    shape = dy.shape[:2] + tuple((o - 1) * s + 1 for o, s in zip(dy.shape[2:], stride))
    out = np.zeros(shape, dtype=dy.dtype)
    out[(slice(None), slice(None), *(slice(None, None, s) for s in stride))] = dy
    return out


def flip_transpose_weight(w: np.ndarray, groups: int) -> np.ndarray:
    """Each kernel reversed along every spatial axis (``rot180`` in 2-D) with in/out
    channels swapped within each group.

    ``(C_out, C_in/g, *k)`` becomes ``(C_in, C_out/g, *k)``: the weight of
    the adjoint (transposed) convolution.
    """
    c_out, c_in_g, *kernel = w.shape
    wg = w.reshape(groups, c_out // groups, c_in_g, *kernel).swapaxes(1, 2)
    wt = wg[(Ellipsis, *(slice(None, None, -1) for _ in kernel))]
    return np.ascontiguousarray(wt).reshape(groups * c_in_g, c_out // groups, *kernel)


def _split_padding(before: int, after: int) -> tuple[tuple[int, int], slice]:
    """Signed padding → (non-negative padding, crop slice for the negative parts)."""
    start = max(-before, 0)
    stop = -max(-after, 0) or None
    return (max(before, 0), max(after, 0)), slice(start, stop)


def _adjoint_geometry(spec: ConvSpec) -> tuple:
    """``(ConvSpec, crops)`` of the forward that :func:`grad_input_via_forward` runs:
    the full convolution of the zero-stuffed ``dy`` (cropped by ``crops``)."""
    zlens = tuple((o - 1) * s + 1 for o, s in zip(spec.out_size, spec.stride))
    pads, crops = zip(*(_split_padding(span - 1 - before, size + before - zlen)
                        for span, (before, _), size, zlen in
                        zip(spec.span, spec.padding, spec.size, zlens)))
    size = tuple(len(range(*crop.indices(zlen))) for crop, zlen in zip(crops, zlens))
    adjoint = ConvSpec(n=spec.n, c_in=spec.c_out, size=size, c_out=spec.c_in,
                       kernel=spec.kernel, stride=(1,) * spec.rank, padding=pads,
                       dilation=spec.dilation, groups=spec.groups, dtype=spec.dtype)
    return adjoint, crops


def grad_input_spec(spec: ConvSpec) -> ConvSpec:
    """The geometry of the forward :func:`grad_input_via_forward` runs for ``spec``
    (what the seed formula's ``dx`` costs on a backend without a backward of its own)."""
    return _adjoint_geometry(spec)[0]


def grad_weight_spec(spec: ConvSpec) -> ConvSpec:
    """The geometry of the forward :func:`grad_weight_via_forward` runs for ``spec``:
    ``C_in/g`` images of ``g·N`` channels, the output maps ``dy`` as kernels."""
    g = spec.groups
    need = tuple((k - 1) * d + (o - 1) * s + 1 for k, d, o, s in
                 zip(spec.kernel, spec.dilation, spec.out_size, spec.stride))
    return ConvSpec(n=spec.c_in_per_group, c_in=g * spec.n, size=need,
                    c_out=g * spec.c_out_per_group, kernel=spec.out_size,
                    stride=spec.dilation, padding=((0, 0),) * spec.rank,
                    dilation=spec.stride, groups=g, dtype=spec.dtype)


def grad_input_via_forward(forward, dy: np.ndarray, w: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """``dx`` of Bouvrie 2006: full convolution of the zero-stuffed ``dy`` with ``rot180(w)``.

    The 'full' padding ``d(k-1)`` and the forward padding ``P`` combine into one
    signed padding per side, chosen so the output has exactly ``x``'s size:
    ``top = d(kh-1) - pad_top``, ``bottom = H + pad_top - Hz`` where
    ``Hz = (OH-1)·sh + 1``. Negative amounts crop ``dy``'s stuffed rows instead
    (those rows only reach the padding region of ``x``).
    """
    adjoint, crops = _adjoint_geometry(spec)
    dz = stuff_zeros(dy, spec.stride)[(slice(None), slice(None), *crops)]
    return forward(dz, flip_transpose_weight(w, spec.groups), adjoint)


def grad_weight_via_forward(forward, dy: np.ndarray, x: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """``dw`` of Bouvrie 2006: valid correlation of the padded input with ``dy``.

    Batch and channel axes are swapped so that the sum over the batch becomes the
    channel sum of a grouped convolution with stride ``d`` and dilation ``s``::

        dw[o, c, p, q] = Σ_{n,i,j} xp[n, c, p·d + i·s, q·d + j·s] · dy[n, o, i, j]
    """
    g, cg, og = spec.groups, spec.c_in_per_group, spec.c_out_per_group
    out = spec.out_size
    spatial = tuple(range(3, 3 + spec.rank))
    # Only the rows and columns the forward pass read; the rest has zero gradient.
    need = tuple((k - 1) * d + (o - 1) * s + 1 for k, d, o, s in
                 zip(spec.kernel, spec.dilation, out, spec.stride))
    xp = pad_input(x, spec.padding)[(slice(None), slice(None), *(slice(n) for n in need))]
    n = spec.n
    xs = xp.reshape(n, g, cg, *need).transpose(2, 1, 0, *spatial)
    xs = xs.reshape(cg, g * n, *need)
    ks = dy.reshape(n, g, og, *out).transpose(1, 2, 0, *spatial).reshape(g * og, n, *out)
    wspec = grad_weight_spec(spec)
    return np.ascontiguousarray(forward(np.ascontiguousarray(xs), np.ascontiguousarray(ks),
                                        wspec).swapaxes(0, 1))


#: What a backend without constants of its own costs until ``fftconv calibrate``
#: fits it: one nanosecond per multiply-add and 0.1 ms per call (a BLAS-backed
#: backend runs tens of multiply-adds per nanosecond, so an uncalibrated
#: backend is chosen by ``'auto'`` only where nothing else is cheap).
DEFAULT_CONSTANTS = {"macs": 1e-9, "call": 1e-4}


class Backend:
    """Base class of a convolution backend (register with :func:`register_backend`).

    A backend describes itself, so the chooser (:mod:`fftconv.select`) needs to
    know nothing about it:

    * :meth:`applies` says whether it computes a geometry, and if not, why;
    * :meth:`features` are the quantities its forward time is proportional to,
      and :attr:`shipped_constants` the seconds per unit of each (fitted to this
      machine by ``fftconv calibrate``); :meth:`cost` is their product;
    * :meth:`forward` computes the bias-free cross-correlation, and
      :meth:`forward_saving` also returns what its :meth:`backward` can reuse.

    Only ``name`` and :meth:`forward` are required: the gradients default to the
    seed formulas (each a forward), and the cost to :data:`DEFAULT_CONSTANTS`
    times the default features (multiply-adds and one call). All arrays are
    numpy arrays in ``spec.dtype``.

    Examples
    --------
    A backend of one's own, registered and used at once:

    >>> import numpy as np, fftconv
    >>> from fftconv.backends.direct import conv2d_reference
    >>> @fftconv.register_backend
    ... class Reference(fftconv.Backend):
    ...     name = "reference"
    ...     def applies(self, spec):
    ...         return None if spec.groups == 1 else "groups > 1 are not implemented"
    ...     def forward(self, x, w, spec):
    ...         return conv2d_reference(x, w, spec)
    >>> x, w = np.ones((1, 1, 5, 5)), np.ones((1, 1, 3, 3))
    >>> fftconv.conv2d(x, w, backend="reference")[0, 0, 0]
    array([9., 9., 9.])
    >>> fftconv.unregister_backend("reference")
    """

    name: str = ""

    #: Cost-model constants shipped with the backend, ``{dtype name: {feature:
    #: seconds per unit}}`` for the features of :meth:`features` (a ``'float64'``
    #: entry serves dtypes without their own). Empty: :data:`DEFAULT_CONSTANTS`.
    shipped_constants: dict = {}

    #: Backends naming the same group are calibrated jointly, with one constant
    #: for every feature in :attr:`shared_features` (the same BLAS, say); the
    #: default, ``None``, is a group of its own.
    calibration_group: str | None = None
    shared_features: tuple = ()

    #: The numbers of spatial axes (``ConvSpec.rank``) the backend computes:
    #: 2 (``conv2d``) unless it says more, so a backend written against the 2-D
    #: geometry is never handed a 1-D or 3-D layer (``'auto'`` leaves it out, an
    #: explicit choice is refused with this reason).
    ranks: tuple = (2,)

    # -- what it applies to, and what it costs ------------------------------------
    def applies(self, spec: ConvSpec) -> str | None:
        """``None`` if this backend computes ``spec``, else the reason it does not.

        Default: every geometry.
        """
        return None

    def supports(self, spec: ConvSpec) -> bool:
        """Whether this backend computes ``spec``: its rank is one of :attr:`ranks`
        and :meth:`applies` gives no reason against."""
        return spec.rank in self.ranks and self.applies(spec) is None

    def working_set(self, spec: ConvSpec) -> int:
        """Bytes of the smallest working buffer this backend must build at once for
        ``spec``: one unit of the chunks it splits its work into to stay within
        :func:`get_memory_budget` (inputs and outputs not counted).

        ``'auto'`` leaves out, and an explicit choice refuses at once, a backend
        whose smallest unit does not fit the budget (O(1) in the layer's size, so
        an impossible layer is refused before anything is allocated). Default 0.
        """
        return 0

    def features(self, spec: ConvSpec) -> dict:
        """The quantities the forward time of ``spec`` is a weighted sum of.

        Default: ``{'macs': multiply-adds, 'call': 1}``, priced by
        :data:`DEFAULT_CONSTANTS` until calibrated.
        """
        return {"macs": float(spec.macs), "call": 1.0}

    def weights(self, dtype) -> dict:
        """Seconds per unit of each feature for ``dtype``: this machine's fitted
        constants (``fftconv calibrate``) if there are any, else the shipped ones,
        else :data:`DEFAULT_CONSTANTS`."""
        name = np.dtype(dtype).name
        for table in (_constants.fitted().get(self.name, {}), self.shipped_constants):
            weights = table.get(name, table.get("float64"))
            if weights:
                return weights
        return DEFAULT_CONSTANTS

    def cost(self, spec: ConvSpec) -> float:
        """Estimated seconds of the forward of ``spec``: ``Σ_k weights[k] · features[k]``.

        Features without a constant (a backend with features of its own that
        was never calibrated) are priced by :data:`DEFAULT_CONSTANTS` on the
        default features instead, so an estimate is always there.
        """
        return estimate_seconds(self.features(spec), self.weights(spec.dtype),
                                fallback=Backend.features(self, spec))

    def backward_features(self, spec: ConvSpec) -> dict:
        """The quantities the time of :meth:`backward` (both gradients, after a
        :meth:`forward_saving`) is a weighted sum of, in the units of
        :meth:`features`, so that the same constants price them.

        Default: the seed formulas' two forwards, the features of
        :func:`grad_input_spec` plus those of :func:`grad_weight_spec`. A backend
        whose :meth:`backward` is its own (sharing transforms with the forward,
        say) says what that costs instead.
        """
        return add_features(self.features(grad_input_spec(spec)),
                            self.features(grad_weight_spec(spec)))

    def backward_cost(self, spec: ConvSpec) -> float:
        """Estimated seconds of :meth:`backward` for ``spec`` (both gradients):
        ``Σ_k weights[k] · backward_features[k]``, with the constants of
        :meth:`cost` (uncalibrated features: the default price of the seed
        formulas' multiply-adds and calls)."""
        return estimate_seconds(self.backward_features(spec), self.weights(spec.dtype),
                                fallback={"macs": 2.0 * spec.macs, "call": 2.0})

    def training_cost(self, spec: ConvSpec) -> float:
        """Estimated seconds of a training step's convolution: :meth:`cost` plus
        :meth:`backward_cost`, what ``'auto'`` compares when it prices the
        backward (:func:`fftconv.choose_backend` with ``backward=True``)."""
        return self.cost(spec) + self.backward_cost(spec)

    def context_key(self):
        """What, besides the geometry and the constants, :meth:`cost` depends on in
        the current context (a hashable; default ``None``). ``'auto'`` memoizes
        its choices per geometry and this key."""
        return None

    # -- calibration --------------------------------------------------------------
    def calibration_cases(self, spec: ConvSpec) -> list:
        """``(setting, features)`` pairs to time ``spec`` at when calibrating.

        Default: one case, the backend as it runs (setting ``None``). A backend
        with a free parameter the cost model decides (the FFT tile size) offers
        several, so the fit sees what the parameter costs.
        """
        return [(None, self.features(spec))]

    def calibration_setting(self, setting):
        """A context manager that runs the backend at ``setting`` (default: as it is)."""
        return nullcontext()

    # -- computing ----------------------------------------------------------------
    def forward(self, x: np.ndarray, w: np.ndarray, spec: ConvSpec) -> np.ndarray:
        """Bias-free cross-correlation: ``(N, C_in, H, W), (C_out, C_in/g, kh, kw)
        → (N, C_out, OH, OW)``."""
        raise NotImplementedError

    def forward_saving(self, x: np.ndarray, w: np.ndarray, spec: ConvSpec) -> tuple:
        """``(y, saved)``: the forward and what its :meth:`backward` can reuse.

        ``saved`` is a dict private to the backend (default: empty); the caller
        hands it back to :meth:`backward` unchanged, in a
        :class:`~fftconv.ConvContext`. Nothing is kept anywhere else.
        """
        return self.forward(x, w, spec), {}

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

    def backward(self, dy, x, w, spec: ConvSpec, needs, saved=None) -> tuple:
        """``(dx, dw)`` for the gradients named in ``needs`` (others ``None``).

        ``saved`` is what :meth:`forward_saving` returned for this ``x`` and
        ``w``, or ``None``. Override to share work between the two gradients or
        to reuse the forward's (the FFT backend transforms ``dy`` once for both
        and takes the input's and kernel's spectra from ``saved``).
        """
        dx = self.grad_input(dy, w, spec) if "input" in needs else None
        dw = self.grad_weight(dy, x, spec) if "weight" in needs else None
        return dx, dw

    def __repr__(self) -> str:
        return f"<fftconv backend {self.name!r}>"


#: GEMM inner size at which BLAS reaches half its peak rate (see :func:`gemm_work`).
K_HALF = 24.0


def gemm_work(macs: int, inner: int) -> float:
    """Multiply-adds of a GEMM weighted by its inner size: ``macs·(K + K½)/K``.

    Small inner dimensions cannot keep the BLAS kernels busy; the weight makes
    a product of inner size ``K½`` (:data:`K_HALF`) cost twice its multiply-adds.
    """
    return macs * (inner + K_HALF) / inner


def add_features(*tables: dict, scale: float = 1.0) -> dict:
    """The feature tables added key by key (a key missing from one counts 0),
    times ``scale``.

    Examples
    --------
    >>> add_features({"gemm": 1.0, "call": 1.0}, {"gemm": 2.0, "bytes": 4.0})
    {'gemm': 3.0, 'call': 1.0, 'bytes': 4.0}
    """
    total: dict = {}
    for table in tables:
        for key, value in table.items():
            total[key] = total.get(key, 0.0) + float(value)
    return {key: scale * value for key, value in total.items()}


def estimate_seconds(features: dict, weights: dict, fallback: dict | None = None) -> float:
    """``Σ_k weights[k] · features[k]``; with a feature lacking its weight, the same
    sum over ``fallback`` features priced by :data:`DEFAULT_CONSTANTS`."""
    if features.keys() <= weights.keys():
        return float(sum(weights[k] * v for k, v in features.items()))
    fallback = fallback if fallback is not None else {}
    return float(sum(DEFAULT_CONSTANTS.get(k, 0.0) * v for k, v in fallback.items()))
