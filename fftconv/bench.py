"""Timing backends side by side: medians of repeats, in one process, as ratios.

* :func:`run_layer_bench` / :func:`format_table`: every backend (and PyTorch when
  installed) on given layers, forward and forward+backward (``fftconv bench --layer``);
  with the ``'bridge'`` peer also each backend called from PyTorch through
  :mod:`fftconv.torch`, and :func:`bridge_overheads` its cost over the numpy call
  (``fftconv bench --layer ... --bridge``).
* :func:`run_sweep` / :func:`format_sweep`: every backend on a sweep of layer shapes
  (:data:`SWEEP_LAYERS`, or :func:`grid_layers`), with the cost model's and
  autotune's choices and how close they come to the fastest (``fftconv bench``);
  :func:`crossover_figure` plots time against kernel size with the crossovers.
* :func:`run_signal_bench`: ``fftconv.convolve`` against ``scipy.signal``
  (``fftconv bench --signal``).

The machine is noisy, so nothing here asserts a time: numbers are medians, and
comparisons are made within one run. The asv suite in ``benchmarks/`` measures
the same calls for tracking across commits.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from .optional import require
from ._spec import make_spec
from .api import conv2d, conv2d_backward
from .backends import available_backends
from .errors import bad_value
from .timing import changing_weights, sample_seconds, time_rounds

__all__ = ["Layer", "DEFAULT_LAYERS", "parse_layer", "time_call", "time_calls",
           "run_layer_bench", "format_table", "torch_peer", "bridge_peer", "bridge_overheads",
           "format_bridge_overheads", "SWEEP_LAYERS", "grid_layers",
           "run_sweep", "sweep_summary", "format_sweep", "crossover_layers", "crossovers",
           "curve_crossovers", "lead_changes", "crossover_figure", "AUTO_MISS", "sweep_payload",
           "write_sweep", "read_sweep"]

#: 'auto' missed a layer when its pick ran more than this factor slower than the fastest.
AUTO_MISS = 1.2


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
    return time_calls({"fn": fn}, repeats, warmup, settle=0)["fn"]


def time_calls(calls: dict, repeats: int = 5, warmup: int = 1, settle: int = 1) -> dict:
    """Median wall-clock seconds of each of ``calls`` (name → function), side by side.

    The functions are timed in interleaved rounds (:func:`fftconv.timing.time_rounds`),
    so a slow spell of a shared machine falls on all of them alike and the
    *ratios* of the medians stay meaningful when absolute times drift; each timed
    run follows ``settle`` untimed runs of the same function (its steady state).

    Examples
    --------
    >>> medians = time_calls({"sum": lambda: sum(range(100)), "noop": lambda: None},
    ...                      repeats=3)
    >>> sorted(medians), all(t >= 0 for t in medians.values())
    (['noop', 'sum'], True)
    """
    return {name: float(np.median(runs))
            for name, runs in time_rounds(calls, repeats, warmup, settle).items()}


def torch_peer(threads: int | None = None):
    """``(forward, forward_backward)`` factories timing ``torch.nn.functional.conv2d``,
    or ``None`` when PyTorch is not installed."""
    from . import optional

    if not optional.available("torch"):
        return None
    import torch
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


#: The column of backend ``name`` called through :mod:`fftconv.torch` (``'bridge'`` peer).
BRIDGE_COLUMN = "{}+bridge"


def bridge_peer(threads: int | None = None):
    """A factory timing :func:`fftconv.torch.conv2d` (a backend called from PyTorch,
    tensors in and out, autograd in the backward), or ``None`` without PyTorch.

    ``make(layer, x, w, dy, backward, backend)`` returns the call: the forward
    under :func:`torch.no_grad`, or forward and ``y.backward(dy)`` with the input
    and weight gradients (reset to ``None`` first, as ``optimizer.zero_grad()``
    does), the same work as the numpy forward+backward of :func:`run_layer_bench`.
    """
    from . import optional

    if not optional.available("torch"):
        return None
    import torch
    import importlib

    bridge = importlib.import_module("fftconv.torch")
    if threads:
        torch.set_num_threads(threads)

    def make(layer: Layer, x: np.ndarray, w: np.ndarray, dy: np.ndarray, backward: bool,
             backend: str):
        tx = torch.from_numpy(x).requires_grad_(backward)
        tw = torch.from_numpy(w).requires_grad_(backward)
        tdy = torch.from_numpy(dy)

        def forward():
            with torch.no_grad():
                bridge.conv2d(tx, tw, backend=backend, **layer.kwargs)

        def forward_backward():
            tx.grad = tw.grad = None
            bridge.conv2d(tx, tw, backend=backend, **layer.kwargs).backward(tdy)
        return forward_backward if backward else forward
    return make


def bridge_overheads(rows) -> list:
    """``(row, backend, ratio)``: the bridge's median time over the numpy call's, for
    every backend of ``rows`` timed both ways (the ``'bridge'`` peer)."""
    return [(row, name, row.seconds[BRIDGE_COLUMN.format(name)] / seconds)
            for row in rows for name, seconds in row.seconds.items()
            if BRIDGE_COLUMN.format(name) in row.seconds]


def format_bridge_overheads(rows) -> str:
    """One line per layer and pass: the bridge's overhead over numpy, per backend."""
    lines = {}
    for row, name, ratio in bridge_overheads(rows):
        key = f"{row.layer.name}: {row.layer.describe()}  {row.passname}"
        lines.setdefault(key, []).append(f"{name} {100 * (ratio - 1):+.1f} %")
    return "\n".join(["fftconv.torch over the numpy call (ratio of medians, same rounds):"]
                      + [f"  {key}: " + ", ".join(items) for key, items in lines.items()])


@dataclass
class BenchRow:
    """Median seconds of each backend / peer for one layer and pass.

    ``repeats`` is the number of timed runs behind each median (``None`` when not
    known, for rows built by hand).
    """

    layer: Layer
    passname: str
    seconds: dict = field(default_factory=dict)
    repeats: int | None = None


def run_layer_bench(layers=DEFAULT_LAYERS, backends=None, dtype="float32", repeats=5,
                    backward=False, threads=None, peers=("torch",), progress=None,
                    verbose="auto"):
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
        Also time the forward and the input and weight gradients, as in training:
        the forward keeps its :class:`~fftconv.ConvContext` and the backward
        reuses it (the layers have no bias).
    threads : int, optional
        BLAS / FFT / PyTorch threads (default: the libraries' own default).
    peers : sequence of str
        References to time as well when PyTorch is installed: ``'torch'``
        (``torch.nn.functional.conv2d``) and ``'bridge'`` (each backend through
        :func:`fftconv.torch.conv2d`, column ``'<backend>+bridge'``; see
        :func:`bridge_overheads`).
    progress : callable, optional
        Called once per backend after each layer and pass (for a caller's own bar).
    verbose : {0, 1, 2, 'auto'}
        Progress on standard error per layer and pass
        (:func:`fftconv.optional.progress`): 0 silent, 1 a bar on a terminal and
        one line per step otherwise, 2 one line per step.

    Returns
    -------
    list of BenchRow
    """
    from threadpoolctl import threadpool_limits

    from .optional import progress as reporter

    backends = list(backends or available_backends())
    torch_make = torch_peer(threads) if "torch" in peers else None
    bridge_make = bridge_peer(threads) if "bridge" in peers else None
    rng = np.random.default_rng(0)
    rows = []
    passes = ("forward", "forward+backward") if backward else ("forward",)
    steps = reporter(len(layers) * len(passes), desc="layer", unit="pass", verbose=verbose,
                     func="run_layer_bench")
    with threadpool_limits(limits=threads), steps:
        for layer in layers:
            x = rng.standard_normal((layer.n, layer.c, layer.h, layer.w)).astype(dtype)
            w = rng.standard_normal((layer.o, layer.c // layer.groups, layer.k,
                                     layer.k)).astype(dtype)
            dy = rng.standard_normal(layer.spec(dtype).output_shape).astype(dtype)
            for passname in passes:
                calls = {}
                for name in backends:
                    def call(name=name):
                        if passname == "forward":
                            conv2d(x, w, backend=name, **layer.kwargs)
                            return
                        _, context = conv2d(x, w, backend=name, return_context=True,
                                            **layer.kwargs)
                        conv2d_backward(dy, x, w, backend=name, needs=("input", "weight"),
                                        context=context, **layer.kwargs)
                    calls[name] = call
                    if bridge_make is not None:
                        calls[BRIDGE_COLUMN.format(name)] = bridge_make(
                            layer, x, w, dy, passname != "forward", name)
                if torch_make is not None:
                    calls["torch"] = torch_make(layer, x, w, passname != "forward")
                rows.append(BenchRow(layer, passname, time_calls(calls, repeats), repeats))
                steps.update(1, f"{layer.name} {passname}: {_fastest(rows[-1].seconds)}")
                if progress:
                    for _ in backends:
                        progress()
    return rows


def _fastest(seconds: dict) -> str:
    """``'fastest fft 1.23 ms'``: the progress line's detail for one timed row."""
    name = min(seconds, key=seconds.get)
    return f"fastest {name} {seconds[name] * 1e3:.3g} ms"


def format_table(rows) -> str:
    """Plain-text table: median ms per entry and, in brackets, time / fastest.

    The last line says what the cells are, with the rows' repeat count
    (``_table_footer``).
    """
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
    out.append(_table_footer(rows))
    return "\n".join(out)


def _table_footer(rows) -> str:
    """The sentence under :func:`format_table`: what a cell's two numbers are.

    Examples
    --------
    >>> row = BenchRow(Layer("tiny", 1, 1, 6, 6, 1, 3), "forward", {"fft": 1e-3}, 5)
    >>> _table_footer([row]).split("; ")
    ['Each cell: the median of 5 repeats, in ms', 'in brackets, that time ÷ the fastest in its row.']
    >>> _table_footer([dataclasses.replace(row, repeats=None)]).split("; ")[0]
    'Each cell: the median of the repeats, in ms'
    """
    from .text import plural

    counts = {row.repeats for row in rows}
    # one known count is stated; rows built by hand or mixed counts are not
    runs = (plural(counts.pop(), "repeat") if len(counts) == 1 and None not in counts
            else "the repeats")
    return (f"Each cell: the median of {runs}, in ms; in brackets, that time ÷ the fastest "
            "in its row.")


# -- the backend sweep: which backend wins where, and does 'auto' know? ---------------

def _sweep(n, c, h, o, k, **kw):
    return Layer(f"{n}x{c}x{h}x{h}/{o}@{k}", n, c, h, h, o, k, **kw)


#: 36 layer shapes spanning 1×1 to 31×31 kernels, 8×8 to 512×512 images and 1 to 256
#: channels (typical CNN layers, large-kernel filters and single-image filtering),
#: each small enough that every backend can be timed.
SWEEP_LAYERS = (
    _sweep(8, 1, 8, 4, 3), _sweep(8, 16, 8, 16, 1), _sweep(8, 256, 8, 256, 3, padding=1),
    _sweep(16, 64, 16, 64, 3, padding=1), _sweep(16, 128, 16, 128, 1),
    _sweep(8, 256, 16, 256, 3, padding=1), _sweep(4, 4, 16, 4, 7),
    _sweep(32, 1, 32, 6, 5), _sweep(32, 6, 14, 16, 5), _sweep(8, 64, 32, 64, 3, padding=1),
    _sweep(8, 64, 32, 64, 5, padding=2), _sweep(4, 16, 32, 16, 9),
    _sweep(4, 16, 32, 16, 15), _sweep(2, 256, 32, 256, 1),
    _sweep(4, 32, 64, 32, 3, padding=1), _sweep(4, 32, 64, 32, 7), _sweep(4, 16, 64, 16, 11),
    _sweep(4, 8, 64, 8, 21), _sweep(2, 4, 64, 4, 31), _sweep(2, 128, 64, 128, 1),
    _sweep(1, 64, 64, 64, 3, padding=1, groups=64), _sweep(2, 16, 128, 16, 3, padding=1),
    _sweep(2, 16, 128, 16, 11), _sweep(2, 4, 128, 4, 21), _sweep(1, 8, 128, 8, 31),
    _sweep(2, 64, 128, 64, 1), _sweep(1, 16, 256, 16, 3, padding=1), _sweep(1, 4, 256, 4, 15),
    _sweep(1, 4, 256, 4, 31), _sweep(1, 1, 256, 1, 9), _sweep(1, 1, 512, 1, 3),
    _sweep(1, 1, 512, 1, 11), _sweep(1, 1, 512, 1, 31), _sweep(1, 4, 512, 4, 5),
    _sweep(1, 3, 224, 64, 7, stride=2, padding=3), _sweep(2, 32, 56, 32, 3, stride=2, padding=1),
)

#: Kernel sizes of the crossover figure, and its two layer families (batch, channels, image).
CROSSOVER_KERNELS = (1, 3, 5, 7, 9, 11, 15, 19, 23, 27, 31)
CROSSOVER_FAMILIES = ((4, 16, 64), (1, 4, 256))


def grid_layers(kernels, sizes, channels, batch: int = 2) -> list:
    """The Cartesian grid ``kernels × sizes × channels`` (kernels that fit the image)."""
    return [Layer(f"{batch}x{c}x{h}x{h}/{c}@{k}", batch, c, h, h, c, k)
            for k in kernels for h in sizes for c in channels if k <= h]


@dataclass
class SweepRow:
    """Measured seconds per backend for one layer, and what 'auto' chose for it."""

    layer: Layer
    seconds: dict
    auto: str                # the cost model's choice (no autotune)
    tuned: str = ""          # autotune's choice on a second call
    skipped: tuple = ()      # backends not timed (estimated far slower)
    borrowed: tuple = ()     # backends credited with the time of one running the same code
    quartiles: dict = field(default_factory=dict)   # name -> (q1, q3) seconds of the repeats

    def same_code(self, a: str, b: str) -> bool:
        """Whether backends ``a`` and ``b`` run the same code on this layer, as the
        backends say (:func:`fftconv.backends.same_code`), not as the timings suggest."""
        from .backends import available_backends, same_code
        known = available_backends()
        if a == b:
            return True
        if a not in known or b not in known:
            return False
        return len(same_code(self.layer.spec("float32"), [a, b])) == 1

    @property
    def fastest(self) -> str:
        return min(self.seconds, key=self.seconds.get)

    def ratio(self, name: str) -> float:
        """Measured time of ``name`` over the fastest (inf when it was not timed)."""
        return self.seconds.get(name, float("inf")) / self.seconds[self.fastest]


#: Every backend is timed for at least ``repeats`` rounds and this many seconds;
#: a near tie is then timed longer (:func:`fftconv.timing.median_seconds`).
SWEEP_SECONDS = 0.2


def run_sweep(layers=SWEEP_LAYERS, dtype="float32", repeats=5, threads=None,
              autotune_check=True, max_estimate_ratio=None, progress=None, verbose="auto"):
    """Time every backend on every layer, and check the choices of ``'auto'``.

    Parameters
    ----------
    layers : sequence of Layer
    dtype : {'float32', 'float64'}
    repeats : int
        Timed runs per backend and layer, at least (median reported): short
        layers run more rounds, to fill :data:`SWEEP_SECONDS`; backends within
        :data:`~fftconv.timing.NEAR_TIE` of the fastest get ``2·repeats`` more, over
        at least :data:`~fftconv.timing.NEAR_TIE_SECONDS`
        (:func:`~fftconv.timing.median_seconds`, the rule autotuning follows too).
    threads : int, optional
        BLAS and FFT threads.
    autotune_check : bool
        Also autotune each layer twice and record the second call's choice.
    max_estimate_ratio : float, optional
        Do not time a backend whose *estimated* time exceeds this multiple of the
        best estimate (for large exploratory grids); such entries are reported as
        skipped, never as measured.
    verbose : {0, 1, 2, 'auto'}
        Progress on standard error, one step per layer
        (:func:`fftconv.optional.progress`): 0 silent; 1 (``'auto'``) a bar on a
        terminal, one line per layer otherwise (``sweep 3/36: <layer>: fastest
        fft 1.2 ms, auto fft, time 0.61 s``); 2 one line per layer always.
    progress : bool, optional
        The older name of ``verbose`` (``False`` is 0, ``True`` is 1); when given,
        it wins.

    Returns
    -------
    list of SweepRow
    """
    from threadpoolctl import threadpool_limits

    from .optional import progress as reporter
    from .backends import same_code
    from .fftlib import get_fft_engine, set_fft_engine
    from .select import choose_backend

    rng = np.random.default_rng(0)
    engine = get_fft_engine()
    rows = []
    if progress is not None:
        verbose = int(bool(progress))
    bar = reporter(len(layers), desc="sweep", unit="layer", verbose=verbose,
                   func="run_sweep")
    with threadpool_limits(limits=threads), \
            set_fft_engine(engine.name, threads=threads or engine.threads,
                           planner_effort=getattr(engine, "planner_effort", None)):
        for layer in layers:
            spec = layer.spec(dtype)
            choice = choose_backend(spec)
            best = min(choice.costs.values())
            x = rng.standard_normal(spec.input_shape).astype(dtype)
            w = rng.standard_normal(spec.weight_shape).astype(dtype)
            skipped = [name for name in choice.costs
                       if max_estimate_ratio and choice.costs[name] > max_estimate_ratio * best]
            # backends that run the same code on this layer are timed once
            groups = same_code(spec, [name for name in choice.costs if name not in skipped])
            calls = {}
            for first, *_ in groups:
                # new weights every run, as in training (no kernel-spectrum reuse)
                ws = changing_weights(w)
                calls[first] = (lambda name=first, ws=ws:
                                conv2d(x, next(ws), backend=name, **layer.kwargs))
            runs = sample_seconds(calls, repeats, min_seconds=SWEEP_SECONDS)
            timed = {name: float(np.median(t)) for name, t in runs.items()}
            spread = {name: tuple(float(q) for q in np.percentile(t, [25, 75]))
                      for name, t in runs.items()}
            row = SweepRow(layer, {name: timed[group[0]] for group in groups for name in group},
                           choice.name, skipped=tuple(skipped),
                           borrowed=tuple(name for group in groups for name in group[1:]),
                           quartiles={name: spread[group[0]] for group in groups
                                      for name in group})
            if autotune_check:
                choose_backend(spec, autotune=True)                  # first call: times
                row.tuned = choose_backend(spec, autotune=True).name  # second: remembered
            rows.append(row)
            bar.update(1, f"{layer.name}: {_fastest(row.seconds)}, auto {row.auto}")
    bar.close()
    return rows


def sweep_summary(rows, auto_tolerance=AUTO_MISS, tuned_tolerance=1.05) -> dict:
    """How often 'auto' (and autotune) picked a backend close to the fastest measured."""
    n = len(rows)
    auto_ok = sum(row.ratio(row.auto) <= auto_tolerance for row in rows)
    tuned = [row for row in rows if row.tuned]
    tuned_ok = sum(row.ratio(row.tuned) <= tuned_tolerance for row in tuned)
    return {"layers": n, "auto_within": auto_ok, "auto_tolerance": auto_tolerance,
            "tuned_layers": len(tuned), "tuned_within": tuned_ok,
            "tuned_tolerance": tuned_tolerance}


def _sweep_cell(row: SweepRow, name: str) -> str:
    """One backend's entry in :func:`format_sweep`'s table: its median in ms (``=``
    when borrowed from a backend running the same code), ``skip`` when the estimate
    ruled it out, ``n/a`` when it does not apply (winograd at stride 2, or on a
    31×31 kernel)."""
    if name in row.seconds:
        return f"{row.seconds[name] * 1e3:.2f}" + ("=" if name in row.borrowed else "")
    return "skip" if name in row.skipped else "n/a"


def format_sweep(rows) -> str:
    """Table of median ms per backend, the fastest, auto's pick and its ratio."""
    names = list(dict.fromkeys(n for row in rows for n in (*row.seconds, *row.skipped)))
    header = ["layer"] + names + ["fastest", "auto", "auto/best", "tuned", "tuned/best"]
    lines = []
    for row in rows:
        cells = [f"{row.layer.describe()}"]
        for n in names:
            cells.append(_sweep_cell(row, n))
        miss = "!" if row.ratio(row.auto) > AUTO_MISS else ""
        cells += [row.fastest, row.auto, f"{row.ratio(row.auto):.2f}{miss}",
                  row.tuned or "-", f"{row.ratio(row.tuned):.2f}" if row.tuned else "-"]
        lines.append(cells)
    widths = [max(len(r[i]) for r in [header] + lines) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    out = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*line) for line in lines]
    s = sweep_summary(rows)
    out.append("median ms per backend; 'skip' = not timed (estimated far slower); "
               "'n/a' = does not apply to the layer (winograd: stride or dilation > 1, "
               "or more than 7 taps per axis); "
               "'=' = the same code as a backend to its left, timed once; "
               f"'!' = auto > {AUTO_MISS}x slower than the fastest")
    out.append(f"auto (cost model) within {s['auto_tolerance']}x of the fastest: "
               f"{s['auto_within']}/{s['layers']} layers "
               f"({100 * s['auto_within'] / max(s['layers'], 1):.0f}%)")
    if s["tuned_layers"]:
        out.append(f"autotune (second call) within {s['tuned_tolerance']}x of the fastest: "
                   f"{s['tuned_within']}/{s['tuned_layers']} layers "
                   f"({100 * s['tuned_within'] / s['tuned_layers']:.0f}%)")
    return "\n".join(out)


# -- sweep.json: the sweep's rows, medians and quartiles, written and read back -----------

_LAYER_FIELDS = tuple(f.name for f in dataclasses.fields(Layer))


def _sweep_schema():
    from . import jsonfiles

    count = jsonfiles.where(int, lambda n: n >= 0, "an int >= 0")
    seconds = jsonfiles.where(float, lambda t: t > 0, "a time > 0")
    quartiles = jsonfiles.where([seconds], lambda q: len(q) == 2 and q[0] <= q[1],
                                "[q1, q3] seconds with q1 <= q3")
    row = {"layer": str,
           "geometry": {name: (str if name == "name" else count) for name in _LAYER_FIELDS},
           "seconds": {str: seconds}, "quartiles": {str: quartiles}, "auto": str,
           "tuned": str, "skipped": [str], "borrowed": [str],
           jsonfiles.optional("family"): [count]}
    return {"dtype": str, "threads": (count, None), "rows": [row]}


def _row_record(row: SweepRow, family=None) -> dict:
    record = {"layer": row.layer.describe(), "geometry": dataclasses.asdict(row.layer),
              "seconds": dict(row.seconds),
              "quartiles": {name: list(q) for name, q in row.quartiles.items()},
              "auto": row.auto, "tuned": row.tuned, "skipped": list(row.skipped),
              "borrowed": list(row.borrowed)}
    if family is not None:
        record["family"] = [int(v) for v in family]
    return record


def sweep_payload(rows, curves=(), dtype="float32", threads=None) -> dict:
    """What ``sweep.json`` holds: every row of a sweep and of its crossover curves.

    Parameters
    ----------
    rows : sequence of SweepRow
        The sweep (:func:`run_sweep`).
    curves : sequence of ((int, int, int), sequence of SweepRow)
        Crossover curves: the family ``(batch, channels, image)`` of
        :func:`crossover_layers` and its rows.
    dtype : str
    threads : int or None

    Returns
    -------
    dict
        ``{"dtype", "threads", "rows": [...]}``; each row has ``layer`` (its
        :meth:`Layer.describe`), ``geometry`` (the :class:`Layer` fields),
        ``seconds`` (median per backend), ``quartiles`` (``[q1, q3]`` seconds of
        the repeats per backend, the band of :func:`crossover_figure`),
        ``auto``, ``tuned``, ``skipped``, ``borrowed``, and ``family`` for the
        rows of a curve.
    """
    record = [_row_record(row) for row in rows]
    for family, series in curves:
        record += [_row_record(row, family) for row in series]
    return {"dtype": str(dtype), "threads": threads, "rows": record}


def write_sweep(path, rows, curves=(), dtype="float32", threads=None):
    """Write :func:`sweep_payload` as JSON to ``path`` (atomically); return ``path``.

    :func:`read_sweep` reads it back into the same :class:`SweepRow` objects.
    """
    from . import jsonfiles

    jsonfiles.write_atomic(path, sweep_payload(rows, curves, dtype, threads),
                           schema=_sweep_schema(), root="sweep")
    return path


def read_sweep(path) -> dict:
    """Read a ``sweep.json`` written by :func:`write_sweep` (``fftconv bench``, the demo).

    Returns
    -------
    dict
        ``{"dtype": str, "threads": int or None, "rows": [SweepRow],
        "curves": [((batch, channels, image), [SweepRow])]}``: the sweep's rows,
        then each crossover curve in the order written, with medians and quartiles
        as measured, so :func:`crossover_figure` redraws the figure from the file.

    Raises
    ------
    fftconv.jsonfiles.JSONFileError
        (a ``ValueError``) naming the file and the key of the first entry that is
        not what :func:`write_sweep` writes.
    """
    from . import jsonfiles

    payload = jsonfiles.load(path, _sweep_schema(), root="sweep")
    rows, curves = [], {}
    for item in payload["rows"]:
        row = SweepRow(Layer(**item["geometry"]), item["seconds"], item["auto"],
                       tuned=item["tuned"], skipped=tuple(item["skipped"]),
                       borrowed=tuple(item["borrowed"]),
                       quartiles={name: tuple(q) for name, q in item["quartiles"].items()})
        if "family" in item:
            curves.setdefault(tuple(item["family"]), []).append(row)
        else:
            rows.append(row)
    return {"dtype": payload["dtype"], "threads": payload["threads"], "rows": rows,
            "curves": list(curves.items())}


def crossover_layers(family, kernels=CROSSOVER_KERNELS) -> list:
    """The layers of one crossover curve: ``(batch, channels, image)`` × kernel sizes."""
    n, c, h = family
    return [Layer(f"{n}x{c}x{h}x{h}/{c}@{k}", n, c, h, h, c, k) for k in kernels if k <= h]


def crossovers(ks, times_a, times_b, same=None) -> list:
    """Kernel sizes where backend a and b swap places (linear interpolation in log time).

    Parameters
    ----------
    ks : sequence of float
        Kernel sizes, increasing.
    times_a, times_b : sequence of float
        Seconds of each backend at each size.
    same : sequence of bool, optional
        Where the two backends run the same code (:meth:`SweepRow.same_code`):
        those points are neither ahead nor behind and are left out, so one
        computation timed once never makes a crossover.

    Returns
    -------
    list of float
        A sign change of ``log t_a − log t_b`` between neighbours is interpolated;
        an exact tie between a lead and a lag is the crossing itself.
    """
    keep = [i for i in range(len(ks)) if not (same is not None and same[i])]
    d = [(ks[i], math.log(times_a[i]) - math.log(times_b[i])) for i in keep]
    points = []
    nonzero = [j for j, (_, v) in enumerate(d) if v != 0]
    for j0, j1 in zip(nonzero, nonzero[1:]):
        (k0, d0), (k1, d1) = d[j0], d[j1]
        if d0 * d1 > 0:
            continue
        if j1 == j0 + 1:
            points.append(k0 + (k1 - k0) * d0 / (d0 - d1))
        else:                                   # ties in between: the middle one
            points.append(float(d[(j0 + j1) // 2][0]))
    return points


def curve_crossovers(rows) -> list:
    """``(a, b, k)``: every crossover of two backends over one curve's rows, skipping
    the sizes where they run the same code (the figure and the demo's table)."""
    names = list(dict.fromkeys(name for row in rows for name in row.seconds))
    out = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            both = [r for r in rows if a in r.seconds and b in r.seconds]
            for k in crossovers([r.layer.k for r in both], [r.seconds[a] for r in both],
                                [r.seconds[b] for r in both],
                                [r.same_code(a, b) for r in both]):
                out.append((a, b, k))
    return sorted(out, key=lambda item: item[2])


def crossover_figure(curves):
    """Time of each backend against kernel size, crossovers marked, auto's picks ringed.

    Parameters
    ----------
    curves : list of (str, list of SweepRow)
        A title and the rows of one :func:`crossover_layers` family.

    Returns
    -------
    matplotlib.figure.Figure
        Per backend (colours of :func:`fftconv.style.backend_colour`) the median
        time and a band from the first to the third quartile of the repeats;
        hollow markers where a backend runs the same code as another (timed
        once); dotted, labelled lines where the fastest backend changes
        (:func:`lead_changes`) and ticks on the axis at the other crossovers of
        :func:`curve_crossovers` (never between two backends running the same
        code); one legend outside the axes; rings at
        ``'auto'``'s pick, a triangle where it ran more than :data:`AUTO_MISS`
        times slower than the fastest.
    """
    from .style import (GUIDE_GREY, HOLLOW, LABEL_BOX, NOTE_GREY, OUTLINE_COLOUR,
                        PAPER_COLOUR, backend_colour)
    Figure = require("matplotlib.figure", "plots", "crossover_figure").Figure

    # at least 7.5 in wide: the legend below, three entries a row, must fit
    fig = Figure(figsize=(max(6 * len(curves), 7.5), 5.6), layout="constrained")
    axes = fig.subplots(1, len(curves), squeeze=False)[0]
    for ax, (title, rows) in zip(axes, curves):
        ks = [row.layer.k for row in rows]
        # every backend timed on any row, each drawn over the rows it applies to
        # (Winograd's kernels stop at 7 taps)
        names = list(dict.fromkeys(name for row in rows for name in row.seconds))
        for index, name in enumerate(names):
            mine = [row for row in rows if name in row.seconds]
            colour = backend_colour(name, index)
            x = [row.layer.k for row in mine]
            ax.plot(x, [row.seconds[name] * 1e3 for row in mine], marker="o", color=colour,
                    label=name)
            spread = [row for row in mine if name in row.quartiles]
            if spread:
                ax.fill_between([row.layer.k for row in spread],
                                [row.quartiles[name][0] * 1e3 for row in spread],
                                [row.quartiles[name][1] * 1e3 for row in spread],
                                color=colour, alpha=0.2, lw=0)
            shared = [row for row in mine if name in row.borrowed]
            if shared:
                ax.scatter([row.layer.k for row in shared],
                           [row.seconds[name] * 1e3 for row in shared], s=36,
                           facecolors=PAPER_COLOUR, edgecolors=colour, zorder=4)
        changes, others = lead_changes(rows)
        for level, (below, above, k) in enumerate(changes):
            ax.axvline(k, color=GUIDE_GREY, lw=0.9, ls=":")
            # staggered heights, so lead changes close together stay readable
            ax.annotate(f"{below}→{above}\nk≈{k:.1f}", (k, 0.02 + 0.11 * (level % 3)),
                        xycoords=("data", "axes fraction"), fontsize=8, ha="center",
                        va="bottom", color=NOTE_GREY, bbox=dict(LABEL_BOX))
        if others:
            # the other swaps (behind the lead) as ticks on the axis; the table lists them
            ax.plot([k for _, _, k in others], [0.0] * len(others), linestyle="none",
                    marker="|", markersize=10, color=GUIDE_GREY, clip_on=False,
                    transform=ax.get_xaxis_transform(), zorder=5,
                    label="other crossovers (behind the fastest)")
        picked = [row for row in rows if row.auto in row.seconds]
        ax.scatter([row.layer.k for row in picked], [row.seconds[row.auto] * 1e3
                                                     for row in picked], s=160,
                   facecolors=HOLLOW, edgecolors=OUTLINE_COLOUR, lw=1.2, label="auto's choice",
                   zorder=3)
        missed = [row for row in picked if row.ratio(row.auto) > AUTO_MISS]
        if missed:
            ax.scatter([row.layer.k for row in missed],
                       [row.seconds[row.auto] * 1e3 for row in missed], marker="^", s=70,
                       color=backend_colour("auto"), zorder=5,
                       label=f"auto > {AUTO_MISS:g}× slower")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.set_xlabel("kernel size k (k × k)")
        ax.set_ylabel("forward time (ms)")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    # one legend outside the data, the union of every panel's entries
    handles = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    fig.legend(handles.values(), handles.keys(), loc="outside lower center", fontsize=9,
               ncols=min(len(handles), 3 * len(curves)), title="lines: medians; bands: "
               "first to third quartile of the repeats", title_fontsize=9)
    return fig


def lead_changes(rows):
    """Split :func:`curve_crossovers` into changes of the fastest backend and the rest.

    Returns
    -------
    changes : list of (str, str, float)
        ``(faster below, faster above, k)`` for each crossover of the two backends
        that are fastest on either side of it (the fastest of the neighbouring
        rows, with the backends running its code), smallest ``k`` first: where
        the lowest line of :func:`crossover_figure` changes.
    others : list of (str, str, float)
        The remaining ``(a, b, k)`` crossovers, behind the fastest.
    """
    def leaders(row):
        best = row.fastest
        return {best} | {n for n in row.seconds if row.same_code(best, n)}

    changes, others = [], []
    for a, b, k in curve_crossovers(rows):
        both = [r for r in rows if a in r.seconds and b in r.seconds and not r.same_code(a, b)]
        below = [r for r in both if r.layer.k < k][-1:]
        above = [r for r in both if r.layer.k > k][:1]
        if below and above:
            slow, fast = leaders(below[0]), leaders(above[0])
            first = min((a, b), key=below[0].seconds.get)
            second = b if first == a else a
            if first in slow and second in fast:
                changes.append((first, second, k))
                continue
        others.append((a, b, k))
    return changes, others


# -- single-image signal convolution against scipy ----------------------------------

def parse_signal_case(text: str) -> tuple:
    """``'1024x1024:63x63'`` → ``((1024, 1024), (63, 63))``."""
    allowed = "IMAGE:KERNEL with sizes like 1024x1024:63x63"
    try:
        image, kernel = (tuple(int(v) for v in part.split("x")) for part in text.split(":"))
    except ValueError:
        raise bad_value("parse_signal_case", "text", text, allowed) from None
    if len(image) != len(kernel) or min(image + kernel) < 1:
        raise bad_value("parse_signal_case", "text", text, allowed)
    return image, kernel


def run_signal_bench(cases, dtype="float32", repeats=5, threads=2, mode="full",
                     verbose="auto"):
    """``fftconv.convolve`` against ``scipy.signal.fftconvolve`` and ``oaconvolve``.

    scipy runs inside ``scipy.fft.set_workers(threads)``; fftconv with its current
    engine at ``threads`` threads. Returns a list of BenchRow (one per case).
    ``verbose`` reports one step per case, as in :func:`run_sweep`.
    """
    from .optional import progress as reporter

    import scipy.fft
    import scipy.signal

    from .api import convolve
    from .fftlib import get_fft_engine, set_fft_engine

    rng = np.random.default_rng(0)
    engine = get_fft_engine()
    rows = []
    steps = reporter(len(cases), desc="case", unit="case", verbose=verbose,
                     func="run_signal_bench")
    with set_fft_engine(engine.name, threads=threads,
                        planner_effort=getattr(engine, "planner_effort", None)), steps:
        for image, kernel in cases:
            a = rng.standard_normal(image).astype(dtype)
            b = rng.standard_normal(kernel).astype(dtype)
            label = Layer("x".join(map(str, image)) + " * " + "x".join(map(str, kernel)),
                          1, 1, image[0], image[-1], 1, kernel[0])
            # scipy.fft's workers setting does not reach fftconv's engine, whose
            # thread count is explicit.
            with scipy.fft.set_workers(threads):
                seconds = time_calls({
                    "fftconv": lambda: convolve(a, b, mode=mode, method="fft"),
                    "scipy.fftconvolve": lambda: scipy.signal.fftconvolve(a, b, mode=mode),
                    "scipy.oaconvolve": lambda: scipy.signal.oaconvolve(a, b, mode=mode),
                }, repeats)
            rows.append(BenchRow(label, f"convolve {mode}", seconds, repeats))
            steps.update(1, f"{label.name}: {_fastest(seconds)}")
    return rows
