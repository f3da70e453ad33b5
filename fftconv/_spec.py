"""Canonical convolution geometry, validated once before dispatch.

User arguments (``stride=2``, ``padding='same'``, ``padding=((1, 0), (2, 2))``, ...)
are parsed here into an immutable :class:`ConvSpec`. Backends receive only a
``ConvSpec`` and never re-parse user input; every message for bad geometry or bad
arrays is written in this module (through :mod:`fftconv.errors`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .checks import int_tuple, is_int, positive_pair
from .errors import bad_type, bad_value

__all__ = ["ConvSpec", "make_spec", "conv_output_size"]

Pair = tuple[int, int]


def conv_output_size(size: int, kernel: int, stride: int, pad_before: int, pad_after: int,
                     dilation: int) -> int:
    """Output length of a strided, dilated, padded cross-correlation along one axis.

    ``floor((size + pad_before + pad_after - dilation*(kernel-1) - 1) / stride) + 1``
    (CS231n's ``(W - F + 2P)/S + 1`` with dilation and asymmetric padding).
    The result is < 1 when the dilated kernel does not fit the padded input.
    """
    span = dilation * (kernel - 1) + 1
    return (size + pad_before + pad_after - span) // stride + 1


def _pairs_default(rank: int) -> tuple:
    return ((0, 0),) * rank


def _two_d(name: str, source: str, axis: int, doc: str) -> property:
    """A rank-2 name for entry ``axis`` of the per-axis tuple ``source`` (one call
    per read: the 2-D backends read these in their loops)."""
    def get(self):
        values = getattr(self, source)
        if len(values) == 2:
            return values[axis]
        return self._axis2(name, values, axis)           # raises the clear error
    get.__name__ = name
    return property(get, doc=doc)


@dataclass(frozen=True, init=False)
class ConvSpec:
    """Immutable geometry of one convolution layer call over ``rank`` spatial axes.

    Shapes follow PyTorch: input ``(n, c_in, *size)``, weight
    ``(c_out, c_in // groups, *kernel)``, output ``(n, c_out, *out_size)``;
    ``stride``, ``dilation`` have one entry per spatial axis and ``padding`` one
    ``(before, after)`` pair per axis. ``dtype`` is the computation dtype
    (float32 or float64).

    A rank-2 spec (``conv2d``) also answers the 2-D names that the 2-D backends
    use: ``h, w`` (``size``), ``kh, kw`` (``kernel``), ``out_h, out_w``,
    ``padded_h, padded_w``, ``span_h, span_w``, with ``padding`` read as
    ``((top, bottom), (left, right))``; on other ranks these raise
    ``AttributeError`` (a 2-D code path never sees a 1-D or 3-D layer silently).

    Construction: ``ConvSpec(n=, c_in=, size=, c_out=, kernel=, stride=, padding=,
    dilation=, groups=, dtype=)`` for any rank, or the 2-D form
    ``ConvSpec(n, c_in, h, w, c_out, kh, kw, stride, padding, dilation, groups,
    dtype)`` (positional or by keyword). Validation is :func:`make_spec`'s job.
    """

    n: int
    c_in: int
    size: tuple
    c_out: int
    kernel: tuple
    stride: tuple
    padding: tuple
    dilation: tuple
    groups: int
    dtype: np.dtype

    def __init__(self, n, c_in, h=None, w=None, c_out=None, kh=None, kw=None, stride=None,
                 padding=None, dilation=None, groups=1, dtype=np.dtype(np.float64), *,
                 size=None, kernel=None):
        if size is None:                                  # the 2-D form
            size, kernel = (int(h), int(w)), (int(kh), int(kw))
        size, kernel = tuple(int(s) for s in size), tuple(int(k) for k in kernel)
        rank = len(size)
        stride = (1,) * rank if stride is None else tuple(int(s) for s in stride)
        dilation = (1,) * rank if dilation is None else tuple(int(d) for d in dilation)
        padding = _pairs_default(rank) if padding is None else \
            tuple((int(a), int(b)) for a, b in padding)
        for name, value in (("n", int(n)), ("c_in", int(c_in)), ("size", size),
                            ("c_out", int(c_out)), ("kernel", kernel), ("stride", stride),
                            ("padding", padding), ("dilation", dilation),
                            ("groups", int(groups)), ("dtype", np.dtype(dtype))):
            object.__setattr__(self, name, value)
        # derived per-axis sizes, computed once: the 2-D backends read them in
        # their loops (not fields: equality and hashing stay those of the fields)
        object.__setattr__(self, "_out", tuple(
            conv_output_size(n, k, s, a, b, d) for n, k, s, (a, b), d in
            zip(size, kernel, stride, padding, dilation)))
        object.__setattr__(self, "_padded", tuple(n + a + b for n, (a, b) in
                                                  zip(size, padding)))
        object.__setattr__(self, "_span", tuple(d * (k - 1) + 1 for k, d in
                                                zip(kernel, dilation)))

    # -- rank and the 2-D names ---------------------------------------------------
    @property
    def rank(self) -> int:
        """Number of spatial axes (1 for conv1d, 2 for conv2d, 3 for conv3d)."""
        return len(self.size)

    def _axis2(self, name: str, values, axis: int):
        if len(values) != 2:
            raise AttributeError(f"ConvSpec.{name} is defined for rank-2 (conv2d) specs; "
                                 f"this one has rank {self.rank} (use the per-axis tuples)")
        return values[axis]

    h = _two_d("h", "size", 0, "Input height (rank 2).")
    w = _two_d("w", "size", 1, "Input width (rank 2).")
    kh = _two_d("kh", "kernel", 0, "Kernel height (rank 2).")
    kw = _two_d("kw", "kernel", 1, "Kernel width (rank 2).")
    out_h = _two_d("out_h", "_out", 0, "Output height (rank 2).")
    out_w = _two_d("out_w", "_out", 1, "Output width (rank 2).")
    padded_h = _two_d("padded_h", "_padded", 0, "Padded input height (rank 2).")
    padded_w = _two_d("padded_w", "_padded", 1, "Padded input width (rank 2).")
    span_h = _two_d("span_h", "_span", 0,
                    "Height of the dilated kernel, ``dilation*(kh-1) + 1`` (rank 2).")
    span_w = _two_d("span_w", "_span", 1,
                    "Width of the dilated kernel, ``dilation*(kw-1) + 1`` (rank 2).")

    # -- derived sizes (every rank) -----------------------------------------------
    @property
    def out_size(self) -> tuple:
        """Output length along each spatial axis (:func:`conv_output_size`)."""
        return self._out

    @property
    def padded_size(self) -> tuple:
        return self._padded

    @property
    def span(self) -> tuple:
        """Extent of the dilated kernel along each axis, ``dilation*(k-1) + 1``."""
        return self._span

    @property
    def taps(self) -> int:
        """Kernel taps per channel pair, ``prod(kernel)``."""
        return math.prod(self.kernel)

    @property
    def input_shape(self) -> tuple:
        return (self.n, self.c_in, *self.size)

    @property
    def weight_shape(self) -> tuple:
        return (self.c_out, self.c_in // self.groups, *self.kernel)

    @property
    def output_shape(self) -> tuple:
        return (self.n, self.c_out, *self.out_size)

    @property
    def c_in_per_group(self) -> int:
        return self.c_in // self.groups

    @property
    def c_out_per_group(self) -> int:
        return self.c_out // self.groups

    @property
    def macs(self) -> int:
        """Multiply-adds of the forward pass, ``N·prod(out)·C_out·prod(kernel)·C_in/groups``."""
        return (self.n * math.prod(self.out_size) * self.c_out * self.taps
                * self.c_in_per_group)

    def replace(self, **changes) -> "ConvSpec":
        """A copy with some fields changed (no validation: for trusted internal use).

        The 2-D names ``h, w, kh, kw`` are accepted for a rank-2 spec.
        """
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        size, kernel = list(fields["size"]), list(fields["kernel"])
        for name, (target, axis) in (("h", (size, 0)), ("w", (size, 1)),
                                     ("kh", (kernel, 0)), ("kw", (kernel, 1))):
            if name in changes:
                self._axis2(name, target, axis)
                target[axis] = changes.pop(name)
        fields.update(size=tuple(size), kernel=tuple(kernel))
        fields.update(changes)
        return ConvSpec(**fields)

    def __str__(self) -> str:
        return (f"ConvSpec(x={self.input_shape}, w={self.weight_shape}, "
                f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}, "
                f"groups={self.groups}, dtype={self.dtype.name})")


# -- argument parsing ----------------------------------------------------------

_PADDING_ALLOWED = ("a non-negative int, a pair (pad_h, pad_w), "
                    "((top, bottom), (left, right)), 'valid' or 'same'")

#: Layout names of the input and weight per rank, quoted in error messages.
LAYOUTS = {1: ("(N, C_in, L)", "(C_out, C_in/groups, k)"),
           2: ("(N, C_in, H, W)", "(C_out, C_in/groups, kh, kw)"),
           3: ("(N, C_in, D, H, W)", "(C_out, C_in/groups, kd, kh, kw)")}


def _padding_allowed(rank: int) -> str:
    if rank == 2:
        return _PADDING_ALLOWED
    return (f"a non-negative int, a tuple of {rank} ints, a tuple of {rank} "
            "(before, after) pairs, 'valid' or 'same'")


def _explicit_padding(func: str, value, rank: int = 2) -> tuple:
    """Parse an int, ``rank`` ints or ``rank`` pairs; reject negative values."""
    allowed = _padding_allowed(rank)
    if is_int(value):
        pads = ((value, value),) * rank
    elif isinstance(value, (tuple, list)) and len(value) == rank:
        if all(map(is_int, value)):
            pads = tuple((v, v) for v in value)
        elif all(isinstance(v, (tuple, list)) and len(v) == 2 and all(map(is_int, v))
                 for v in value):
            pads = tuple(tuple(v) for v in value)
        else:
            raise bad_type(func, "padding", value, allowed)
    else:
        raise bad_type(func, "padding", value, allowed)
    pads = tuple((int(a), int(b)) for a, b in pads)
    if min(min(p) for p in pads) < 0:
        raise bad_value(func, "padding", value, allowed)
    return pads


def _same_padding(kernel: int, dilation: int) -> Pair:
    """'same' padding for stride 1: total ``dilation*(k-1)``, the odd one at the end.

    This is PyTorch's split (and Qiu's ``P = D(K-1)/2`` when it is even).
    """
    total = dilation * (kernel - 1)
    return (total // 2, total - total // 2)


def positive_tuple(func: str, param: str, value, rank: int) -> tuple:
    """An int or ``rank`` ints, each ``>= 1``; an int ``k`` means ``(k,) * rank``.

    Rank 2 keeps :func:`fftconv.checks.positive_pair`'s messages.
    """
    if rank == 2:
        return positive_pair(func, param, value)
    allowed = f"a positive int or a tuple of {rank} positive ints"
    if is_int(value):
        values = (int(value),) * rank
    elif isinstance(value, (tuple, list)) and len(value) == rank and all(map(is_int, value)):
        values = tuple(int(v) for v in value)
    else:
        raise bad_type(func, param, value, allowed)
    if min(values) < 1:
        raise bad_value(func, param, value, allowed)
    return values


def make_spec(func: str, x_shape, w_shape, stride=1, padding=0, dilation=1, groups=1,
              dtype=np.float64, rank: int = 2) -> ConvSpec:
    """Validate conv1d/conv2d/conv3d arguments and build the canonical :class:`ConvSpec`.

    Parameters
    ----------
    func : str
        Name of the public function, quoted in error messages.
    x_shape, w_shape : tuple of int
        ``(N, C_in, *size)`` and ``(C_out, C_in // groups, *kernel)`` with
        ``rank`` spatial axes (``(N, C_in, H, W)`` and ``(C_out, C_in // groups,
        kh, kw)`` for the default rank 2).
    stride, padding, dilation, groups
        As in :func:`fftconv.conv2d` (one entry per spatial axis).
    dtype : dtype
        Computation dtype.
    rank : {1, 2, 3}
        Number of spatial axes.

    Raises
    ------
    TypeError, ValueError
        With a message naming ``func``, the parameter, the value and what is allowed.

    Examples
    --------
    >>> import fftconv
    >>> spec = fftconv.make_spec("demo", (1, 2, 100), (4, 2, 9), padding="same", rank=1)
    >>> spec.rank, spec.output_shape, spec.padding
    (1, (1, 4, 100), ((4, 4),))
    """
    if rank not in LAYOUTS:
        raise bad_value(func, "rank", rank, "1, 2 or 3")
    x_layout, w_layout = LAYOUTS[rank]
    n, c_in, *size = int_tuple(func, "x", x_shape, rank + 2, x_layout)
    c_out, c_in_g, *kernel = int_tuple(func, "w", w_shape, rank + 2, w_layout)
    stride = positive_tuple(func, "stride", stride, rank)
    dilation = positive_tuple(func, "dilation", dilation, rank)
    if not is_int(groups):
        raise bad_type(func, "groups", groups, "a positive int")
    groups = int(groups)
    if groups < 1 or c_in % groups or c_out % groups:
        raise bad_value(func, "groups", groups,
                        f"a positive int dividing C_in={c_in} and C_out={c_out}")
    if c_in_g * groups != c_in:
        kernel_names = w_layout[w_layout.index("groups") + 8:]
        raise bad_value(func, "w", w_shape,
                        f"of shape (C_out, C_in/groups={c_in // groups}, {kernel_names} "
                        f"for x with C_in={c_in} and groups={groups}")

    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * rank
        elif padding == "same":
            if stride != (1,) * rank:
                raise bad_value(func, "padding", padding,
                                f"explicit padding when stride={stride} > 1 "
                                "('same' needs stride 1, as in PyTorch)")
            pads = tuple(_same_padding(k, d) for k, d in zip(kernel, dilation))
        else:
            raise bad_value(func, "padding", padding, _padding_allowed(rank))
    else:
        pads = _explicit_padding(func, padding, rank)

    spec = ConvSpec(n=n, c_in=c_in, size=size, c_out=c_out, kernel=kernel, stride=stride,
                    padding=pads, dilation=dilation, groups=groups, dtype=np.dtype(dtype))
    if any(s > p for s, p in zip(spec.span, spec.padded_size)):
        raise bad_value(func, "w", w_shape,
                        f"a kernel whose dilated size {spec.span} fits the "
                        f"padded input {spec.padded_size}")
    return spec
