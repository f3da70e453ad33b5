"""Timing backends side by side: medians of repeats, in one process, as ratios.

:func:`run_layer_bench` times every backend (and optional peers such as PyTorch)
on a list of layer shapes and :func:`format_table` prints milliseconds and the
speed relative to the fastest entry of each row. Used by ``fftconv bench`` and
``fftconv demo``; the asv suite in ``benchmarks/`` measures the same calls.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ._spec import make_spec
from .api import conv2d, conv2d_backward
from .backends import available_backends
from .errors import bad_value

__all__ = ["Layer", "DEFAULT_LAYERS", "parse_layer", "time_call", "run_layer_bench",
           "format_table", "torch_peer"]


@dataclass(frozen=True)
class Layer:
    """A conv2d layer to benchmark: input ``(n, c, h, w)``, ``o`` filters of ``k×k``."""

    name: str
    n: int
    c: int
    h: int
    w: int
    o: int
    k: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1
    groups: int = 1

    @property
    def kwargs(self) -> dict:
        return dict(stride=self.stride, padding=self.padding, dilation=self.dilation,
                    groups=self.groups)

    def spec(self, dtype):
        return make_spec("bench", (self.n, self.c, self.h, self.w),
                         (self.o, self.c // self.groups, self.k, self.k), dtype=dtype,
                         **self.kwargs)

    def describe(self) -> str:
        extra = "".join(f" {key}={value}" for key, value in
                        (("s", self.stride), ("p", self.padding), ("d", self.dilation),
                         ("g", self.groups)) if value != (0 if key == "p" else 1))
        return f"{self.n}x{self.c}x{self.h}x{self.w} -> {self.o}@{self.k}x{self.k}{extra}"


#: A small table of typical layers (LeNet, ResNet-like, pointwise, depthwise, large kernel).
DEFAULT_LAYERS = (
    Layer("lenet-c1", 32, 1, 32, 32, 6, 5),
    Layer("lenet-c3", 32, 6, 14, 14, 16, 5),
    Layer("resnet-3x3", 8, 64, 28, 28, 64, 3, padding=1),
    Layer("pointwise", 8, 128, 28, 28, 128, 1),
    Layer("depthwise", 8, 64, 28, 28, 64, 3, padding=1, groups=64),
    Layer("large-kernel", 4, 8, 64, 64, 8, 11),
)

_LAYER_KEYS = {"N": "n", "C": "c", "H": "h", "W": "w", "O": "o", "K": "k", "S": "stride",
               "P": "padding", "D": "dilation", "G": "groups"}


def parse_layer(text: str) -> Layer:
    """Parse ``'N=32,C=64,H=56,W=56,O=64,K=3,P=1'`` (S, P, D, G optional).

    Examples
    --------
    >>> parse_layer("N=1,C=3,H=8,W=8,O=4,K=3").describe()
    '1x3x8x8 -> 4@3x3'
    """
    allowed = "comma-separated KEY=INT with keys N, C, H, W, O, K and optionally S, P, D, G"
    values = {}
    for item in text.split(","):
        key, _, value = item.partition("=")
        key = key.strip().upper()
        if key not in _LAYER_KEYS or not value.strip().isdigit():
            raise bad_value("parse_layer", "text", text, allowed)
        values[_LAYER_KEYS[key]] = int(value)
    if not {"n", "c", "h", "w", "o", "k"} <= values.keys():
        raise bad_value("parse_layer", "text", text, allowed)
    return Layer(name="custom", **values)


def time_call(fn, repeats: int = 5, warmup: int = 1) -> float:
    """Median wall-clock seconds of ``fn()`` over ``repeats`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def torch_peer(threads: int | None = None):
    """``(forward, forward_backward)`` factories timing ``torch.nn.functional.conv2d``,
    or ``None`` when PyTorch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    if threads:
        torch.set_num_threads(threads)

    def make(layer: Layer, x: np.ndarray, w: np.ndarray, backward: bool):
        tx = torch.from_numpy(x).requires_grad_(backward)
        tw = torch.from_numpy(w).requires_grad_(backward)

        def forward():
            with torch.no_grad():
                torch.nn.functional.conv2d(tx, tw, **layer.kwargs)

        def forward_backward():
            y = torch.nn.functional.conv2d(tx, tw, **layer.kwargs)
            y.backward(torch.ones_like(y))
        return forward_backward if backward else forward
    return make


@dataclass
class BenchRow:
    """Median seconds of each backend / peer for one layer and pass."""

    layer: Layer
    passname: str
    seconds: dict = field(default_factory=dict)


def run_layer_bench(layers=DEFAULT_LAYERS, backends=None, dtype="float32", repeats=5,
                    backward=False, threads=None, peers=("torch",), progress=None):
    """Time every backend on every layer (forward, and forward+backward if asked).

    Parameters
    ----------
    layers : sequence of Layer
    backends : sequence of str, optional
        Default: every registered backend.
    dtype : {'float32', 'float64'}
    repeats : int
        Timed runs per entry; the median is reported.
    backward : bool
        Also time forward + all three gradients.
    threads : int, optional
        BLAS / FFT / PyTorch threads (default: the libraries' own default).
    peers : sequence of str
        External references to time as well when installed (``'torch'``).

    Returns
    -------
    list of BenchRow
    """
    from threadpoolctl import threadpool_limits

    backends = list(backends or available_backends())
    torch_make = torch_peer(threads) if "torch" in peers else None
    rng = np.random.default_rng(0)
    rows = []
    with threadpool_limits(limits=threads):
        for layer in layers:
            x = rng.standard_normal((layer.n, layer.c, layer.h, layer.w)).astype(dtype)
            w = rng.standard_normal((layer.o, layer.c // layer.groups, layer.k,
                                     layer.k)).astype(dtype)
            dy = rng.standard_normal(layer.spec(dtype).output_shape).astype(dtype)
            for passname in ("forward", "forward+backward") if backward else ("forward",):
                row = BenchRow(layer, passname)
                for name in backends:
                    def call(name=name):
                        conv2d(x, w, backend=name, **layer.kwargs)
                        if passname != "forward":
                            conv2d_backward(dy, x, w, backend=name, **layer.kwargs)
                    row.seconds[name] = time_call(call, repeats)
                    if progress:
                        progress()
                if torch_make is not None:
                    row.seconds["torch"] = time_call(
                        torch_make(layer, x, w, passname != "forward"), repeats)
                rows.append(row)
    return rows


def format_table(rows) -> str:
    """Plain-text table: median ms per entry and, in brackets, time / fastest."""
    names = list(dict.fromkeys(name for row in rows for name in row.seconds))
    header = ["layer", "pass"] + names
    lines = []
    for row in rows:
        best = min(row.seconds.values())
        cells = [f"{row.seconds[n] * 1e3:.2f} ({row.seconds[n] / best:.2f}x)"
                 if n in row.seconds else "-" for n in names]
        lines.append([f"{row.layer.name}: {row.layer.describe()}", row.passname] + cells)
    widths = [max(len(str(r[i])) for r in [header] + lines) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" if i < 2 else f"{{:>{w}}}" for i, w in enumerate(widths))
    out = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*line) for line in lines]
    out.append("median ms of repeats (time relative to the fastest in the row)")
    return "\n".join(out)
