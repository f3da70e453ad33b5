"""Canonical convolution geometry, validated once before dispatch.

User arguments (``stride=2``, ``padding='same'``, ``padding=((1, 0), (2, 2))``, ...)
are parsed here into an immutable :class:`ConvSpec`. Backends receive only a
``ConvSpec`` and never re-parse user input; every message for bad geometry or bad
arrays is written in this module (through :mod:`fftconv.errors`).
"""

from __future__ import annotations

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


@dataclass(frozen=True)
class ConvSpec:
    """Immutable geometry of one 2-D convolution layer call.

    Shapes follow PyTorch: input ``(n, c_in, h, w)``, weight
    ``(c_out, c_in // groups, kh, kw)``, output ``(n, c_out, out_h, out_w)``.
    ``padding`` is ``((top, bottom), (left, right))``. ``dtype`` is the
    computation dtype (float32 or float64).
    """

    n: int
    c_in: int
    h: int
    w: int
    c_out: int
    kh: int
    kw: int
    stride: Pair = (1, 1)
    padding: tuple[Pair, Pair] = ((0, 0), (0, 0))
    dilation: Pair = (1, 1)
    groups: int = 1
    dtype: np.dtype = np.dtype(np.float64)

    # -- derived sizes ---------------------------------------------------------
    @property
    def out_h(self) -> int:
        (pt, pb), _ = self.padding
        return conv_output_size(self.h, self.kh, self.stride[0], pt, pb, self.dilation[0])

    @property
    def out_w(self) -> int:
        _, (pl, pr) = self.padding
        return conv_output_size(self.w, self.kw, self.stride[1], pl, pr, self.dilation[1])

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        return (self.n, self.c_in, self.h, self.w)

    @property
    def weight_shape(self) -> tuple[int, int, int, int]:
        return (self.c_out, self.c_in // self.groups, self.kh, self.kw)

    @property
    def output_shape(self) -> tuple[int, int, int, int]:
        return (self.n, self.c_out, self.out_h, self.out_w)

    @property
    def padded_h(self) -> int:
        return self.h + sum(self.padding[0])

    @property
    def padded_w(self) -> int:
        return self.w + sum(self.padding[1])

    @property
    def span_h(self) -> int:
        """Height of the dilated kernel, ``dilation*(kh-1) + 1``."""
        return self.dilation[0] * (self.kh - 1) + 1

    @property
    def span_w(self) -> int:
        """Width of the dilated kernel, ``dilation*(kw-1) + 1``."""
        return self.dilation[1] * (self.kw - 1) + 1

    @property
    def c_in_per_group(self) -> int:
        return self.c_in // self.groups

    @property
    def c_out_per_group(self) -> int:
        return self.c_out // self.groups

    @property
    def macs(self) -> int:
        """Multiply-adds of the forward pass, ``N·OH·OW·C_out·KH·KW·C_in/groups``."""
        return (self.n * self.out_h * self.out_w * self.c_out * self.kh * self.kw
                * self.c_in_per_group)

    def replace(self, **changes) -> "ConvSpec":
        """A copy with some fields changed (no validation: for trusted internal use)."""
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        fields.update(changes)
        return ConvSpec(**fields)

    def __str__(self) -> str:
        return (f"ConvSpec(x={self.input_shape}, w={self.weight_shape}, "
                f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}, "
                f"groups={self.groups}, dtype={self.dtype.name})")


# -- argument parsing ----------------------------------------------------------

_PADDING_ALLOWED = ("a non-negative int, a pair (pad_h, pad_w), "
                    "((top, bottom), (left, right)), 'valid' or 'same'")


def _explicit_padding(func: str, value) -> tuple[Pair, Pair]:
    """Parse an int, a pair or a pair of pairs; reject negative values."""
    if is_int(value):
        pads = ((value, value), (value, value))
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        if all(map(is_int, value)):
            pads = ((value[0], value[0]), (value[1], value[1]))
        elif all(isinstance(v, (tuple, list)) and len(v) == 2 and all(map(is_int, v))
                 for v in value):
            pads = (tuple(value[0]), tuple(value[1]))
        else:
            raise bad_type(func, "padding", value, _PADDING_ALLOWED)
    else:
        raise bad_type(func, "padding", value, _PADDING_ALLOWED)
    pads = tuple((int(a), int(b)) for a, b in pads)
    if min(min(p) for p in pads) < 0:
        raise bad_value(func, "padding", value, _PADDING_ALLOWED)
    return pads


def _same_padding(kernel: int, dilation: int) -> Pair:
    """'same' padding for stride 1: total ``dilation*(k-1)``, the odd one at the end.

    This is PyTorch's split (and seed 004's ``P = D(K-1)/2`` when it is even).
    """
    total = dilation * (kernel - 1)
    return (total // 2, total - total // 2)


def make_spec(func: str, x_shape, w_shape, stride=1, padding=0, dilation=1, groups=1,
              dtype=np.float64) -> ConvSpec:
    """Validate conv2d arguments and build the canonical :class:`ConvSpec`.

    Parameters
    ----------
    func : str
        Name of the public function, quoted in error messages.
    x_shape, w_shape : tuple of int
        ``(N, C_in, H, W)`` and ``(C_out, C_in // groups, kh, kw)``.
    stride, padding, dilation, groups
        As in :func:`fftconv.conv2d`.
    dtype : dtype
        Computation dtype.

    Raises
    ------
    TypeError, ValueError
        With a message naming ``func``, the parameter, the value and what is allowed.
    """
    n, c_in, h, w = int_tuple(func, "x", x_shape, 4, "(N, C_in, H, W)")
    c_out, c_in_g, kh, kw = int_tuple(func, "w", w_shape, 4, "(C_out, C_in/groups, kh, kw)")
    stride = positive_pair(func, "stride", stride)
    dilation = positive_pair(func, "dilation", dilation)
    if not is_int(groups):
        raise bad_type(func, "groups", groups, "a positive int")
    groups = int(groups)
    if groups < 1 or c_in % groups or c_out % groups:
        raise bad_value(func, "groups", groups,
                        f"a positive int dividing C_in={c_in} and C_out={c_out}")
    if c_in_g * groups != c_in:
        raise bad_value(func, "w", w_shape,
                        f"of shape (C_out, C_in/groups={c_in // groups}, kh, kw) "
                        f"for x with C_in={c_in} and groups={groups}")

    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0), (0, 0))
        elif padding == "same":
            if stride != (1, 1):
                raise bad_value(func, "padding", padding,
                                f"explicit padding when stride={stride} > 1 "
                                "('same' needs stride 1, as in PyTorch)")
            pads = (_same_padding(kh, dilation[0]), _same_padding(kw, dilation[1]))
        else:
            raise bad_value(func, "padding", padding, _PADDING_ALLOWED)
    else:
        pads = _explicit_padding(func, padding)

    spec = ConvSpec(n, c_in, h, w, c_out, kh, kw, stride, pads, dilation, groups,
                    np.dtype(dtype))
    if spec.span_h > spec.padded_h or spec.span_w > spec.padded_w:
        raise bad_value(func, "w", w_shape,
                        f"a kernel whose dilated size ({spec.span_h}, {spec.span_w}) fits the "
                        f"padded input ({spec.padded_h}, {spec.padded_w})")
    return spec
