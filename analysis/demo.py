"""The demo: the toolkit's main job on embedded defaults, written up as an HTML report.

:func:`run_demo` runs, in order and on this machine,

1. a benchmark of every registered backend on a small grid of layers, with the
   choice of ``'auto'`` for each and a crossover figure (time against kernel size);
2. LeNet-5 (LeCun et al. 1998, with its C3 connection table) trained on the embedded
   UCI digits with the backend ``'auto'`` picks per layer;
3. the learned first-layer filters read in frequency (:mod:`analysis.spectrum`)
   and as propagators (:mod:`analysis.diffusion`);
4. a template found in a generated scene (:mod:`analysis.matching`), and a
   translation recovered by phase correlation;
5. the cost table of LeNet-5 (what ``fftconv cost lenet5`` prints);
6. learning in the frequency domain (:mod:`analysis.frequency_learning`): how
   much of a map each pooling keeps, and LeNet's filters trained spatially and
   as their spectrum from the same seeds;

and writes every table and figure into one directory (``index.html`` and PNGs
beside it, :mod:`analysis.report`). Nothing is precomputed: every number in the
report comes from the run that wrote it, and the report states the machine,
library versions, seeds and timings. ``fftconv demo`` is the command-line entry
point; ``quick=True`` is a smoke-test size (a tiny grid, one epoch).
"""

from __future__ import annotations

import datetime
import os
import time
from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np

import fftconv
import fftconv.bench
import fftconv.select
from fftconv import nn
from fftconv.errors import bad_type, bad_value
from fftconv.optional import available, progress, require, resolve_verbose
from fftconv.text import plural
from fftconv.nn.plots import training_curves_figure

from . import diffusion, frequency_learning, plots, spectrum
from fftconv.checks import integer, positive
from .architectures import get_model
from .complexity import network_cost
from .environment import environment
from .images import demo_image
from .report import Report

__all__ = ["DemoConfig", "FULL", "QUICK", "DEMO_LAYERS", "make_scene", "run_demo"]

#: The benchmark grid: LeNet-5's layers, a ResNet-style 3×3, a pointwise and a
#: depthwise layer, a large kernel on a small batch, and a single-image filter.
DEMO_LAYERS = fftconv.bench.DEFAULT_LAYERS + (
    fftconv.bench.Layer("image-filter", 1, 1, 256, 256, 1, 31),
)


@dataclass(frozen=True)
class DemoConfig:
    """Sizes of one demo run (:data:`FULL` for ``fftconv demo``, :data:`QUICK` for tests).

    Attributes
    ----------
    layers : tuple of fftconv.bench.Layer
        The benchmark grid.
    repeats : int
        Timed runs per backend and layer (medians are reported).
    crossover_family : (int, int, int)
        ``(batch, channels, image size)`` of the crossover curve.
    crossover_kernels : tuple of int
        Kernel sizes of the crossover curve.
    epochs : int
        LeNet-5 training epochs.
    batch_size : int
    seed : int
        Seeds the data split, initialisation, shuffling, the generated scene
        and the stochastic figure.
    temperature : float or None
        Softmax temperature of the propagator reading. None (default): each
        filter's own :func:`analysis.diffusion.auto_temperature`, half the
        standard deviation of its weights, so the reading does not depend on the
        scale training left the weights at (at a fixed ``T = 1`` weights of a few
        tenths give nearly uniform propagators).
    steps : tuple of int
        Diffusion steps shown.
    autotune_check : bool
        Also record autotune's choice per layer (it times the candidates once
        per geometry and remembers the winner in the user cache directory).
    threads : int or None
        BLAS and FFT threads for the benchmark (default: the libraries' own).
    spectral_seeds : tuple of int
        Seeds of the spatial-vs-spectral parametrization comparison.
    spectral_epochs : int
        Its epochs (Adam, lr 0.001, on the training digits).
    spectral_samples : int or None
        Training digits it uses (default: the whole training part).
    quick : bool
        Marks a smoke-test run in the report.
    verbose : {0, 1, 2}
        Progress of the long steps on standard error, Keras' levels
        (:func:`fftconv.optional.resolve_verbose`): the benchmark per layer,
        training per epoch, the frequency-learning study per run. 0 (the
        default of the library call) is silent; ``fftconv demo`` passes its
        ``--verbose`` (default 1: a bar on a terminal, lines in a log).

    Examples
    --------
    >>> QUICK.epochs, FULL.epochs, replace(FULL, epochs=3).epochs
    (1, 10, 3)
    """

    layers: tuple = DEMO_LAYERS
    repeats: int = 5
    crossover_family: tuple = (4, 16, 64)
    crossover_kernels: tuple = (1, 3, 5, 7, 11, 15, 21, 31)
    epochs: int = 10
    batch_size: int = 32
    seed: int = 0
    temperature: float | None = None
    steps: tuple = (0, 1, 2, 4, 8, 16)
    autotune_check: bool = True
    threads: int | None = None
    spectral_seeds: tuple = (0, 1, 2)
    spectral_epochs: int = 1
    spectral_samples: int | None = None
    quick: bool = False
    verbose: int = 0


#: The default run of ``fftconv demo`` (about a minute on 2 cores).
FULL = DemoConfig()

#: A smoke-test run: two layers, one repeat, a three-point crossover, one epoch.
QUICK = DemoConfig(layers=fftconv.bench.DEFAULT_LAYERS[:2], repeats=1,
                   crossover_family=(1, 4, 32), crossover_kernels=(1, 5, 15), epochs=1,
                   steps=(0, 1, 4), autotune_check=False, spectral_seeds=(0,),
                   spectral_samples=64, quick=True)


# -- captions computed from the results -----------------------------------------------

#: 'auto' counts as a good pick within this factor of the fastest measured time (the
#: tolerance of :func:`fftconv.bench.sweep_summary`; the crossover figure marks misses).
AUTO_TOLERANCE = 1.2


def _fastest(row) -> str:
    """The fastest backend of a row, with the backends that ran the same code: 'direct = im2col'."""
    best = row.fastest
    return " = ".join([best] + [n for n in row.seconds if n != best and row.same_code(best, n)])


def _training_caption(history) -> str:
    """What the training curves show: the test accuracy's course and the final gap."""
    acc, val = history.accuracy, history.val_accuracy
    text = ("Loss and accuracy per epoch on the training part (circles) and the test "
            "part (squares). ")
    if history.epochs == 1:
        return text + (f"One epoch, so each curve is one point: test accuracy "
                       f"{val[0]:.1%}, training accuracy {acc[0]:.1%}; run more epochs "
                       "to see a trend.")
    best = int(np.argmax(val))
    gap = 100 * (acc[-1] - val[-1])
    return text + (
        f"Test accuracy went from {val[0]:.1%} after epoch 1 to {val[-1]:.1%} after "
        f"epoch {history.epochs} (best {val[best]:.1%}, epoch {best + 1}); training "
        f"loss from {history.loss[0]:.3f} to {history.loss[-1]:.3f}. At the end the "
        f"training accuracy is {gap:+.1f} points from the test accuracy: look for the "
        "test curve flattening while the training one still climbs (overfitting).")


def _pooling_winners(curves) -> str:
    """Which pooling reconstructs best at how many output sizes, per set of maps."""
    parts = []
    for name, by_method in curves.items():
        methods = list(by_method)
        means = np.array([by_method[m].mean for m in methods])      # (methods, sizes)
        best = Counter(methods[i] for i in np.argmin(means, axis=0))
        sizes = means.shape[1]
        order = sorted(best.items(), key=lambda kv: -kv[1])
        parts.append(f"on the {name}, " + ", ".join(
            f"{method} pooling at {n} of {plural(sizes, 'size')}" if i == 0 else
            f"{method} at {n}" for i, (method, n) in enumerate(order)))
    return "; ".join(parts)


def _kk(k) -> str:
    return f"{k}×{k}"


def _fastest_by_kernel(curve) -> str:
    """Which backend is fastest over which kernel sizes: 'direct at 1×1, fft from 7×7 up'."""
    runs = []                                         # [name, first k, last k, count]
    for row in curve:
        name = _fastest(row)
        if runs and runs[-1][0] == name:
            runs[-1][2:] = [row.layer.k, runs[-1][3] + 1]
        else:
            runs.append([name, row.layer.k, row.layer.k, 1])
    parts = []
    for i, (name, first, last, count) in enumerate(runs):
        if count == 1:
            parts.append(f"{name} at {_kk(first)}")
        elif i == len(runs) - 1:
            parts.append(f"{name} from {_kk(first)} up")
        else:
            parts.append(f"{name} from {_kk(first)} to {_kk(last)}")
    return ", ".join(parts)


def _auto_misses(rows, label) -> list:
    """'name (auto: fft, 1.45× winograd)' for every row where auto was > AUTO_TOLERANCE slower."""
    return [f"{label(row)} (auto chose {row.auto}, {row.ratio(row.auto):.2f}× {row.fastest})"
            for row in rows if row.ratio(row.auto) > AUTO_TOLERANCE]


def _pair_crossovers(curve) -> list:
    """``[pair, k, faster below k, faster above k]`` for every crossover of
    :func:`fftconv.bench.curve_crossovers` (the figure's definition: sizes where the
    two backends run the same code are left out, they tie by construction)."""
    found = []
    for a, b, k in fftconv.bench.curve_crossovers(curve):
        rows = [r for r in curve if a in r.seconds and b in r.seconds and not r.same_code(a, b)]
        below = [r for r in rows if r.layer.k < k][-1:]
        above = [r for r in rows if r.layer.k > k][:1]
        faster = [min((a, b), key=r[0].seconds.get) if r else "-" for r in (below, above)]
        found.append([f"{a} / {b}", k, *faster])
    return found


def _temperature_text(temperature, temps) -> str:
    """'T = std(w)/2 per filter, 0.071 to 0.094' (auto) or 'T = 0.1 for every filter'."""
    if temperature is not None:
        return f"T = {temperature:g} for every filter"
    return (f"T = std(w) / 2 per filter, from {float(np.min(temps)):.3g} to "
            f"{float(np.max(temps)):.3g}")


def _count_text(counts: dict) -> str:
    """'fft on 3 layers, im2col on 1' from ``{'fft': 3, 'im2col': 1}`` (most first)."""
    items = sorted(counts.items(), key=lambda kv: -kv[1])
    return ", ".join(f"{name} on {plural(n, 'layer')}" if i == 0 else f"{name} on {n}"
                     for i, (name, n) in enumerate(items))


# -- the sections ---------------------------------------------------------------------

def _ms(seconds: float) -> float:
    return seconds * 1e3


def _benchmark(report: Report, cfg: DemoConfig, log) -> tuple:
    section = report.section("Backends on a small grid", "benchmark")
    start = time.perf_counter()
    log(f"benchmark: {plural(len(cfg.layers), 'layer')} x "
        f"{plural(len(fftconv.available_backends()), 'backend')}, "
        f"{plural(cfg.repeats, 'repeat')}")
    rows = fftconv.bench.run_sweep(cfg.layers, dtype="float32", repeats=cfg.repeats,
                                   threads=cfg.threads, autotune_check=cfg.autotune_check,
                                   verbose=cfg.verbose)
    names = list(dict.fromkeys(n for row in rows for n in row.seconds))
    section.paragraph(
        "Every registered backend computes the same float32 forward conv2d on each "
        f"layer; each entry is the median of at least {cfg.repeats} timed runs "
        f"filling at least {fftconv.bench.SWEEP_SECONDS:g} s, after one warm-up, "
        "with fresh weights every run (as in training); backends within "
        f"{fftconv.timing.NEAR_TIE:g}× of the fastest are timed for at least "
        f"{fftconv.timing.NEAR_TIE_SECONDS:g} s more. 'auto' is the cost "
        "model's choice before anything is timed; 'auto / fastest' is its measured "
        "time over the fastest backend's (1.00 is a perfect pick). "
        "`fftconv calibrate` fits the cost model to this machine."
        + (" Where backends run the same code (direct and im2col on a 1×1 layer at "
           "stride 1), it is timed once and both columns show that time."
           if any(row.borrowed for row in rows) else ""))
    header = ["layer", "N×C×H×W → C_out@k×k"] + [f"{n} (ms)" for n in names] + \
        ["fastest", "auto", "auto / fastest"]
    if cfg.autotune_check:
        header += ["autotune", "autotune / fastest"]
    table = []
    for row in rows:
        cells = [row.layer.name, row.layer.describe()]
        cells += [_ms(row.seconds[n]) if n in row.seconds else None for n in names]
        cells += [_fastest(row), row.auto, row.ratio(row.auto)]
        if cfg.autotune_check:
            cells += [row.tuned, row.ratio(row.tuned)]
        table.append(cells)
    formats = [None, None] + [".3g"] * len(names) + [None, None, ".2f"]
    if cfg.autotune_check:
        formats += [None, ".2f"]
    summary = fftconv.bench.sweep_summary(rows, auto_tolerance=AUTO_TOLERANCE)
    misses = _auto_misses(rows, lambda row: row.layer.name)
    section.table(
        header, table,
        "Forward time per backend, median milliseconds (lower is faster). Fastest: "
        f"{_count_text(Counter(_fastest(row) for row in rows))}. 'auto / fastest' above "
        f"{AUTO_TOLERANCE:g} marks a poor pick: "
        + ("; ".join(misses) if misses else "none here") + ".", formats)
    text = (f"'auto' picked a backend within {summary['auto_tolerance']}× of the fastest "
            f"on {summary['auto_within']} of {summary['layers']} layers.")
    if summary["tuned_layers"]:
        text += (f" Autotune was within {summary['tuned_tolerance']}× on "
                 f"{summary['tuned_within']} of {summary['tuned_layers']}; it times the "
                 "candidates once per geometry and remembers the winner across runs "
                 "(autotune.json in the user cache directory), so a winner measured on a "
                 "busy machine stays until that file is removed.")
    section.paragraph(text)

    n, c, h = cfg.crossover_family
    log(f"benchmark: crossover curve N={n}, C={c}, {h}x{h}, k in {cfg.crossover_kernels}")
    curve = fftconv.bench.run_sweep(
        fftconv.bench.crossover_layers(cfg.crossover_family, cfg.crossover_kernels),
        dtype="float32", repeats=cfg.repeats, threads=cfg.threads, autotune_check=False,
        verbose=cfg.verbose)
    title = f"N={n}, C_in=C_out={c}, {h}x{h} image"
    cross = _pair_crossovers(curve)
    changes, others = fftconv.bench.lead_changes(curve)
    curve_misses = _auto_misses(curve, lambda row: _kk(row.layer.k))
    within = len(curve) - len(curve_misses)
    section.figure(
        fftconv.bench.crossover_figure([(title, curve)]),
        f"Forward time against kernel size for one layer family ({title}), log–log: "
        "lines are medians, shaded bands the interquartile range of the repeats. "
        f"Look for where the lowest line changes: fastest is {_fastest_by_kernel(curve)}. "
        + (f"Dotted, labelled lines mark the {plural(len(changes), 'change')} of the "
           f"fastest backend and ticks on the axis the {plural(len(others), 'other crossover')} "
           "behind it (interpolated in log time; backends running the same code never "
           "cross; the table lists them all). "
           if cross else "No two backends swap places on this curve. ")
        + f"Rings mark the backend 'auto' chose; it was within {AUTO_TOLERANCE:g}× of the "
        f"fastest at {within} of {len(curve)} sizes"
        + (f", and triangles mark where it was slower: {'; '.join(curve_misses)}."
           if curve_misses else "."),
        alt="Crossover figure: forward time of each backend against kernel size")
    if cross:
        section.table(["backends", "kernel size where they swap", "faster below",
                       "faster above"], cross,
                      "Measured crossovers on this curve, smallest kernel first (where the "
                      "cost model should switch backends).", [None, ".1f", None, None])
    else:
        section.paragraph("No two backends swapped places on this curve.")
    section.paragraph("Every timing of this section, medians and quartiles of the repeats, "
                      "is in sweep.json beside this page (fftconv.bench.read_sweep reads it "
                      "back; fftconv.bench.crossover_figure redraws the figure from it).")
    section.seconds = time.perf_counter() - start
    return rows, [(cfg.crossover_family, curve)]


def _training(report: Report, cfg: DemoConfig, log) -> dict:
    section = report.section("LeNet-5 trained on the embedded digits", "training")
    start = time.perf_counter()
    x, y = nn.load_digits()
    x_train, x_test, y_train, y_test = nn.train_test_split(x, y, 0.2, seed=cfg.seed)
    model = nn.lenet5(partial_connections=True, seed=cfg.seed)
    log(f"training: LeNet-5, {len(x_train)} train / {len(x_test)} test digits, "
        f"{plural(cfg.epochs, 'epoch')}, backend auto")
    section.paragraph(
        f"The UCI 1,797 handwritten 8×8 digits (shipped with fftconv), resized to 32×32 and split "
        f"{len(x_train)} / {len(x_test)} (train / test, seed {cfg.seed}); LeNet-5 as in "
        "LeCun et al. (1998) with the C3 connection table and scaled-tanh units, a "
        "linear output layer with softmax cross-entropy in place of the RBF units, "
        f"Adam (lr 0.001), batch size {cfg.batch_size}, {plural(cfg.epochs, 'epoch')}, "
        f"initialisation and shuffling seed {cfg.seed}. Every convolution runs on "
        "the backend 'auto' picks for its geometry:")
    choices = []
    shape = (cfg.batch_size, 1, 32, 32)
    for name in ("c1", "c3", "c5"):
        layer = model[name]
        w = layer.weight.data
        spec = fftconv.make_spec("demo", shape, w.shape, dtype=w.dtype)
        choice = fftconv.choose_backend(spec)
        choices.append([name, f"x {shape}, w {w.shape}", choice.name,
                        ", ".join(f"{k} {_ms(v):.3g} ms" for k, v in
                                  sorted(choice.costs.items(), key=lambda kv: kv[1]))])
        n, c, h, w_ = spec.output_shape
        shape = (n, c, h // 2, w_ // 2)              # the 2x2 subsampling that follows
    section.table(["layer", "input and weight", "auto's choice", "estimated forward time"],
                  choices, "The backend of each convolution, by the cost model: "
                  + ", ".join(f"{name} → {choice}" for name, _, choice, _ in choices)
                  + " (estimates fastest first).")
    history = nn.fit(model, x_train, y_train, epochs=cfg.epochs, batch_size=cfg.batch_size,
                     validation_data=(x_test, y_test), seed=cfg.seed, backend="auto",
                     verbose=cfg.verbose)
    scores = nn.evaluate(model, x_test, y_test, backend="auto")
    section.table(["epoch", "train loss", "train accuracy", "test loss", "test accuracy",
                   "seconds"],
                  [[e + 1, history.loss[e], history.accuracy[e], history.val_loss[e],
                    history.val_accuracy[e], history.seconds[e]]
                   for e in range(history.epochs)],
                  "Per epoch: mean training loss and accuracy, held-out loss and accuracy, "
                  "wall-clock seconds of the training steps.",
                  [None, ".4f", ".2%", ".4f", ".2%", ".2f"])
    correct = round(scores["accuracy"] * len(x_test))
    section.paragraph(
        f"Test accuracy {100 * scores['accuracy']:.2f}% ({correct} of {len(x_test)} "
        f"digits), {sum(history.seconds):.1f} s of training "
        f"({sum(history.seconds) / history.epochs:.2f} s per epoch).")
    section.figure(training_curves_figure(history, "LeNet-5 on the digits, backend auto"),
                   _training_caption(history))
    section.preformatted(str(nn.summary(model, (1, 1, 32, 32))),
                         "The trained network, layer by layer (one image):")
    section.seconds = time.perf_counter() - start
    return {"model": model, "history": history, "scores": scores}


def _filters(report: Report, cfg: DemoConfig, model, log) -> None:
    w = np.asarray(model["c1"].weight.data, dtype=np.float64)        # (6, 1, 5, 5)
    labels = [f"c1[{o}]" for o in range(w.shape[0])]
    section = report.section("The learned filters in frequency", "spectrum")
    start = time.perf_counter()
    log("analysis: spectra of the six C1 filters")
    section.paragraph(
        "The six 5×5 filters of C1 after training, each beside its magnitude spectrum "
        "(zero-padded to 64×64, frequencies in cycles per pixel, y up). A filter of "
        "one sign passes low frequencies (a blur); a positive lobe beside a negative "
        "one is a band-pass edge detector whose dominant orientation is the direction "
        "across the edges it responds to.")
    table = spectrum.filter_descriptors(w, 64)
    header, rows, formats = spectrum.descriptor_table(
        labels, {key: value[:, 0] for key, value in table.items()})
    column = {name: i for i, name in enumerate(header)}
    kinds = {}
    for row in rows:
        kinds.setdefault(row[1], []).append(row[0])
    kinds_text = "; ".join(f"{kind}: {', '.join(names)}" for kind, names in kinds.items())
    sel = [row[column["selectivity"]] for row in rows]
    most, least = int(np.nanargmax(sel)), int(np.nanargmin(sel))
    section.table(header, rows,
                  f"Descriptors of each filter's spectrum (analysis.spectrum): {kinds_text}. "
                  "The pass type follows from the two columns marked (rule), the gains at "
                  "DC and at |f| = 0.5 relative to the peak of the radial profile: a band "
                  f"is passed when its gain is at least {spectrum.HALF_POWER_GAIN:.3f} "
                  "(1/√2, −3 dB). K(0) = Σw, the absolute DC gain, is the response to a "
                  "flat image and depends on the filter's scale; it decides nothing.",
                  formats)
    section.figure(plots.filter_spectra_figure(w, 64, labels, ncols=2),
                   "Each learned C1 filter (weights on a diverging scale centred on 0, its own "
                   "±max |w|) beside its magnitude spectrum |K(f)| divided by its own peak "
                   "(DC at the centre, axes in cycles per pixel; one 0–1 colour scale for "
                   "all, so a blur reads as clearly as an edge detector, while the table's "
                   "K(0) gives the absolute gain); the spectrum's title gives the pass type, "
                   "the dominant orientation and g₀, the DC gain relative to the peak that "
                   "the pass type is read from. Look for where the energy sits: a bright "
                   "centre is a "
                   "low-pass filter (a blur), two lobes away from the centre an edge detector "
                   f"for edges across that direction. Here {kinds_text}.")
    section.figure(plots.orientation_rose_figure(w, 64, 36, labels, ncols=3),
                   "Share of each filter's spectral energy per orientation of the wave "
                   "vector. A real filter's spectrum is point-symmetric, so θ and θ + 180° "
                   "carry the same energy and each rose shows 0–180° only; the line marks the "
                   "dominant orientation and 'sel' the orientation selectivity (0: the same "
                   "energy in every direction, 1: all in one). Most selective: "
                   f"{labels[most]} (sel {sel[most]:.2f}, "
                   f"{rows[most][column['orientation (deg)']]:.0f}°); least: "
                   f"{labels[least]} (sel {sel[least]:.2f}).")
    section.seconds = time.perf_counter() - start

    section = report.section("The learned filters as propagators", "diffusion")
    start = time.perf_counter()
    flipped = w[:, 0, ::-1, ::-1]                 # the layer correlates: convolution form
    temps = (np.atleast_1d(diffusion.auto_temperature(flipped)) if cfg.temperature is None
             else np.full(w.shape[0], float(cfg.temperature)))
    t_text = _temperature_text(cfg.temperature, temps)
    log(f"analysis: propagators at {t_text}")
    props = diffusion.softmax_kernel(flipped, cfg.temperature)     # None: per filter
    moments = diffusion.propagator_moments(props)
    section.paragraph(
        "Read as diffusion, the softmax of a kernel p = softmax(w / T) is a propagator, "
        "the probability that a pixel's value moves by each offset in one step; "
        f"repeating the step diffuses an image. Here {t_text}"
        + (" (analysis.diffusion.auto_temperature: a tap one standard deviation above "
           "another is e² ≈ 7.4 times as likely a move, whatever scale training left the "
           "weights at)" if cfg.temperature is None else "")
        + ". The drift is the mean move (x right, y up), D the diffusion coefficient "
        "trace(covariance)/4 per step.")
    rows = []
    for o in range(w.shape[0]):
        p = props[o]
        rows.append([labels[o], float(p[p.shape[0] // 2, p.shape[1] // 2]),
                     float(moments.mean[o, 0]), float(moments.mean[o, 1]),
                     float(np.trace(moments.covariance[o]) / 4)])
    section.table(["filter", "P(stay)", "drift x (px)", "drift y (px)", "D per step"], rows,
                  "Moments of each propagator (analysis.diffusion): P(stay) is the "
                  "probability of not moving in a step (1/25 would be uniform over the "
                  "5×5 offsets), the drift the mean move, D = trace(covariance)/4.",
                  [None, ".3f", ".3f", ".3f", ".3f"])
    spread = [float(np.sqrt(np.trace(moments.covariance[o]) * max(cfg.steps)))
              for o in range(w.shape[0])]
    drift = [float(np.hypot(*moments.mean[o])) for o in range(w.shape[0])]
    stay = [row[1] for row in rows]
    slow, fast = int(np.argmin(spread)), int(np.argmax(spread))
    moves = int(np.argmax(drift))
    section.figure(
        plots.diffusion_figure(w[:, 0], demo_image(64), cfg.steps, cfg.temperature, labels),
        "One row per filter: the kernel; its propagator p = softmax(w / T), "
        f"{t_text} (the panel's title gives T and 'stay', P(stay), the share of the "
        "centre tap; the "
        "colour bar gives the probability of each offset); then a test card after n "
        "steps, on the input's grey scale, with circular boundaries (mass is conserved). "
        "Look at how fast each row blurs: the root-mean-square spread after "
        f"n = {max(cfg.steps)} steps, √(4·D·n), ranges from {spread[slow]:.1f} px "
        f"({labels[slow]}) to {spread[fast]:.1f} px ({labels[fast]}); P(stay) from "
        f"{min(stay):.3f} to {max(stay):.3f}; the largest drift is {labels[moves]}'s, "
        f"{drift[moves]:.2f} px per step, which moves the card as a whole.")
    section.seconds = time.perf_counter() - start


def _free_corners(rng, size: int, box: int, count: int) -> list:
    """Top-left corners of ``count`` non-overlapping ``box × box`` squares in a
    ``size × size`` scene: distinct cells of a grid, jittered within their cell."""
    cell = box + box // 4
    per_axis = size // cell
    cells = rng.choice(per_axis * per_axis, size=count, replace=False)
    jitter = rng.integers(0, cell - box + 1, size=(count, 2))
    return [(int(k // per_axis * cell + jr), int(k % per_axis * cell + jc))
            for k, (jr, jc) in zip(cells, jitter)]


def make_scene(seed: int = 0, size: int = 200, copies: int = 3, distractors: int = 6):
    """A generated scene for template matching: digits on a smooth random texture.

    Parameters
    ----------
    seed : int
        Seeds the texture, the placement, the distractor digits and the noise.
    size : int
        Side length of the square scene, ``>= 100``.
    copies : int
        Copies of the template pasted into the scene, each with its own contrast
        and brightness.
    distractors : int
        Other digits (of other classes) pasted in.

    Returns
    -------
    scene : ndarray, shape (size, size)
    template : ndarray, shape (32, 32)
        The first "3" of the embedded digits.
    truth : list of (int, int)
        Top-left corners ``(row, col)`` of the copies.

    Notes
    -----
    The texture is Gaussian-smoothed white noise (``sigma = 6`` pixels); each copy
    is ``a·T + b + 0.3·texture`` with ``(a, b)`` from ``(0.9, 0.05)``, ``(0.6, 0.2)``,
    ``(1.2, −0.1)``, … and white noise of standard deviation 0.05 is added at the
    end. Normalized cross-correlation is invariant to ``a`` and ``b``, so the copies
    score near 1 while the texture and the noise keep them below it.

    Examples
    --------
    >>> scene, template, truth = make_scene(0)
    >>> scene.shape, template.shape, len(truth)
    ((200, 200), (32, 32), 3)
    """
    import scipy.ndimage

    func = "make_scene"
    seed = integer(func, "seed", seed, minimum=0)
    size = integer(func, "size", size, minimum=100)
    copies = integer(func, "copies", copies)
    distractors = integer(func, "distractors", distractors, minimum=0)
    box = 32
    if copies + distractors > (size // (box + box // 4)) ** 2:
        raise bad_value(func, "distractors", distractors,
                        f"small enough that {copies} + distractors digits fit a "
                        f"{size}x{size} scene")
    rng = np.random.default_rng(seed)
    digits, labels = nn.load_digits(dtype=np.float64)
    texture = scipy.ndimage.gaussian_filter(rng.standard_normal((size, size)), 6.0,
                                            mode="wrap")
    scene = 0.5 + 0.15 * texture / texture.std()
    template = digits[int(np.flatnonzero(labels == 3)[0]), 0]
    corners = _free_corners(rng, size, box, copies + distractors)
    gains = [(0.9, 0.05), (0.6, 0.2), (1.2, -0.1)]
    for k, (r, c) in enumerate(corners[:copies]):
        a, b = gains[k % len(gains)]
        scene[r:r + box, c:c + box] = a * template + b + 0.3 * scene[r:r + box, c:c + box]
    others = rng.choice(np.flatnonzero(labels != 3), size=distractors, replace=False)
    for (r, c), k in zip(corners[copies:], others):
        scene[r:r + box, c:c + box] = digits[k, 0] + 0.3 * scene[r:r + box, c:c + box]
    scene += 0.05 * rng.standard_normal(scene.shape)
    return scene, template, corners[:copies]


def _matching(report: Report, cfg: DemoConfig, log) -> None:
    from .match_plots import match_figure
    from .matching import find_peaks, match_template, phase_correlate

    section = report.section("A template found in a generated scene", "matching")
    start = time.perf_counter()
    log("matching: a digit template in a generated scene, and phase correlation")
    scene, template, truth = make_scene(cfg.seed)
    section.paragraph(
        f"A {scene.shape[0]}×{scene.shape[1]} scene (seed {cfg.seed}): a smooth random "
        f"texture, {len(truth)} copies of a handwritten 3 with different contrast and "
        "brightness, six other digits as distractors, and white noise. The normalized "
        "cross-correlation (analysis.matching.match_template, computed by FFT) scores "
        "every position of the template; analysis.matching.find_peaks keeps the local "
        "maxima above 0.8 that are at least 16 pixels apart, refined to a fraction of "
        "a pixel.")
    score = match_template(scene, template)
    peaks = find_peaks(score, threshold=0.8, min_distance=16)
    found = [tuple(int(v) for v in idx) for idx in peaks.indices]
    rows = []
    for (r, c), coords, value in zip(found, peaks.coords, peaks.scores):
        nearest = min(truth, key=lambda t: abs(t[0] - r) + abs(t[1] - c))
        error = float(np.hypot(coords[0] - nearest[0], coords[1] - nearest[1]))
        rows.append([f"({coords[0]:.2f}, {coords[1]:.2f})", float(value),
                     f"({nearest[0]}, {nearest[1]})", error])
    section.table(["match (row, col)", "score", "nearest copy (row, col)", "distance (px)"],
                  rows, "Peaks of the score map above 0.8, best first, each with the "
                  "true copy nearest to it (a distance under 1 px is a hit).",
                  [None, ".3f", None, ".2f"])
    hits = sum(1 for row in rows if row[3] <= 1.0)
    section.paragraph(f"{hits} of {len(truth)} copies found within one pixel; "
                      f"{plural(len(rows) - hits, 'other peak')} above the threshold.")
    # the margin that makes the matches safe: the best score away from every copy
    away = np.ones(score.shape, dtype=bool)
    for r, c in truth:
        away[max(r - 16, 0):r + 17, max(c - 16, 0):c + 17] = False
    rival = float(score[away].max()) if away.any() else float("nan")
    found_scores = [row[1] for row in rows]
    section.figure(
        match_figure(scene, score, peaks, template.shape, truth=truth,
                     title=f"A {template.shape[0]}×{template.shape[1]} template (a "
                           "handwritten 3) in the generated scene"),
        "Left: the scene, the true copies as solid outlines and the matches found as "
        "dashed outlines with an x at their centre and their score. Right: the normalized "
        "cross-correlation on the scene's own pixel frame: each score is drawn at the "
        "centre of the window it scores, so a peak lies inside its box. Look for one "
        f"peak per copy: {hits} of {len(truth)} copies found"
        + (f", scores {min(found_scores):.3f} to {max(found_scores):.3f}"
           if found_scores else "")
        + f"; the best score more than 16 px from every copy is {rival:.3f}, "
        + ("below the threshold 0.8." if rival < 0.8 else
           "above the threshold 0.8, so it is a false match."))
    rng = np.random.default_rng(cfg.seed)
    shift = np.round(rng.uniform(-20, 20, size=2), 2)
    ky, kx = np.meshgrid(np.fft.fftfreq(scene.shape[0]), np.fft.fftfreq(scene.shape[1]),
                         indexing="ij")
    moved = np.fft.ifft2(np.fft.fft2(scene) * np.exp(-2j * np.pi * (ky * shift[0]
                                                                  + kx * shift[1]))).real
    moved += 0.05 * rng.standard_normal(moved.shape)
    result = phase_correlate(scene, moved, upsample_factor=100)
    section.paragraph(
        "The same scene moved by a subpixel shift (a phase ramp in frequency) with "
        "fresh noise, and the shift analysis.matching.phase_correlate recovers from the "
        "cross-power spectrum, refined to 1/100 pixel:")
    section.table(["", "rows", "cols"],
                  [["applied shift (px)", float(shift[0]), float(shift[1])],
                   ["recovered by phase correlation", float(result.shift[0]),
                    float(result.shift[1])]],
                  "Phase correlation: the recovered shift differs from the applied one by "
                  f"{float(np.max(np.abs(np.asarray(result.shift) - shift))):.3f} px at "
                  "most, although the moved image carries fresh noise.",
                  [None, ".3f", ".3f"])
    section.seconds = time.perf_counter() - start


def _cost(report: Report, log) -> None:
    section = report.section("What LeNet-5 costs", "cost")
    start = time.perf_counter()
    log("cost: the LeNet-5 table")
    section.paragraph(
        "`fftconv cost lenet5`: parameters, LeCun's connections, multiply-adds, "
        "activation memory, the im2col and FFT buffers and the receptive field, layer "
        "by layer, for the network of the paper (its RBF output units have 840 fixed "
        "parameters; the trained model above uses a linear layer of 850).")
    cost = network_cost(get_model("lenet5"))
    by_macs = max(cost.rows, key=lambda row: row.macs)
    by_params = max(cost.rows, key=lambda row: row.weights + row.biases)
    section.preformatted(
        cost.table(),
        f"Layer by layer; look at where the work and the parameters sit: {by_macs.name} "
        f"does the most multiply-adds ({by_macs.macs:,} of {cost.macs:,}), "
        f"{by_params.name} holds the most parameters "
        f"({by_params.weights + by_params.biases:,} of {cost.params:,}).")
    section.seconds = time.perf_counter() - start


def _frequency_learning(report: Report, cfg: DemoConfig, log) -> None:
    section = report.section("Learning in the frequency domain", "frequency-learning")
    start = time.perf_counter()
    log("frequency learning: pooling information, spatial vs spectral filters")
    section.paragraph(
        "Rippel, Snoek & Adams (2015), \"Spectral Representations for Convolutional "
        "Neural Networks\". First their information argument: pool each map to a "
        "fraction of its side, reconstruct it by the pooling's own least-squares "
        "inverse (Fourier interpolation for spectral pooling, block means, block "
        "maxima) and measure the relative error of the structure (means removed).")
    digits = nn.load_digits(8, dtype=np.float64)[0][:, 0]
    curves = {"digits (8×8)": frequency_learning.pooling_information(digits, [2, 4, 8])}
    patches = (frequency_learning.photo_patches(48) if available("skimage.data")
               else None)
    if patches is None:
        section.paragraph("scikit-image is not installed, so the photograph patches are "
                          "left out (pip install scikit-image, or the bench extra).")
    else:
        curves["photo patches (48×48)"] = frequency_learning.pooling_information(
            patches, [2, 3, 4, 6, 8])
    rows = [[name, method, *(f"1/{f}: {m:.3f}" for f, m in zip(c.factors, c.mean))]
            for name, by_method in curves.items() for method, c in by_method.items()]
    width = max(len(r) for r in rows)
    section.table(["maps", "pooling"] + [f"size {i + 1}" for i in range(width - 2)],
                  [r + [""] * (width - len(r)) for r in rows],
                  "Mean relative reconstruction error at each output fraction (lower keeps "
                  "more of the map).")
    section.figure(plots.pooling_information_figure(curves),
                   "Reconstruction error against output size, mean ± one standard "
                   "deviation over the maps; lower keeps more of the map. Look for the "
                   f"lowest curve: {_pooling_winners(curves)}.")

    x, y = nn.load_digits()
    x_train, x_test, y_train, y_test = nn.train_test_split(x, y, 0.2, seed=cfg.seed)
    if cfg.spectral_samples is not None:
        x_train, y_train = x_train[:cfg.spectral_samples], y_train[:cfg.spectral_samples]
    study = progress(2 * len(cfg.spectral_seeds), desc="frequency learning", unit="run",
                     verbose=cfg.verbose)
    with study:
        runs = frequency_learning.parametrization_study(
            x_train, y_train, (x_test, y_test), seeds=cfg.spectral_seeds,
            learning_rates=(1e-3,), epochs=cfg.spectral_epochs, batch_size=cfg.batch_size,
            on_run=lambda run: study.update(1, f"{run.parametrization}, seed {run.seed}"))
    section.paragraph(
        "Then their parametrization: lenet5_modern with its filters stored as the filters "
        "(Conv2d) and as their DFT (SpectralConv2d), from the same seeds "
        f"{', '.join(map(str, cfg.spectral_seeds))} (same initial filters, same batches), "
        f"Adam at lr 0.001, {plural(cfg.spectral_epochs, 'epoch')} on {len(x_train)} training "
        "digits. docs/frequency_learning.rst reports the full study (a learning-rate "
        "grid, more epochs, MNIST).")
    table = []
    for kind in ("spatial", "spectral"):
        mine = [r for r in runs if r.parametrization == kind]
        finals = [r.final_loss() for r in mine]
        table.append([kind, np.mean(finals), min(finals), max(finals),
                      np.mean([r.val_accuracy[-1] for r in mine]),
                      np.mean([r.seconds for r in mine])])
    section.table(["filters stored as", "final loss (mean)", "min", "max",
                   "test accuracy (mean)", "seconds per run"], table,
                  "Training loss over the last 20 steps, over the seeds; accuracy on the "
                  f"{len(x_test)} test digits.", [None, ".4f", ".4f", ".4f", ".2%", ".1f"])
    study = {"datasets": {"digits": {"runs": [
        {"parametrization": r.parametrization, "lr": r.lr, "seed": r.seed,
         "batch_loss": r.batch_loss} for r in runs]}}}
    finals = {kind: {r.seed: r.final_loss() for r in runs if r.parametrization == kind}
              for kind in ("spatial", "spectral")}
    common = sorted(set(finals["spatial"]) & set(finals["spectral"]))
    lower = sum(finals["spectral"][k] < finals["spatial"][k] for k in common)
    section.figure(plots.parametrization_figure(study, "digits"),
                   "Left: training loss per step (10-step mean; median and min–max over the "
                   "seeds). Right: final loss at the one learning rate run here. Look at "
                   "whether the spectral curve falls faster than the spatial one: its "
                   f"final loss is lower on {lower} of {plural(len(common), 'seed')} "
                   f"(mean {table[1][1]:.4f} spectral, {table[0][1]:.4f} spatial).")
    section.seconds = time.perf_counter() - start


# -- the run -------------------------------------------------------------------------

def _check_config(cfg) -> DemoConfig:
    func = "run_demo"
    if not isinstance(cfg, DemoConfig):
        raise bad_type(func, "config", cfg, "a DemoConfig")
    integer(func, "repeats", cfg.repeats)
    integer(func, "epochs", cfg.epochs)
    integer(func, "batch_size", cfg.batch_size)
    integer(func, "seed", cfg.seed, minimum=0)
    integer(func, "spectral_epochs", cfg.spectral_epochs)
    if cfg.spectral_samples is not None:
        integer(func, "spectral_samples", cfg.spectral_samples)
    if (not isinstance(cfg.spectral_seeds, tuple) or not cfg.spectral_seeds
            or not all(isinstance(v, int) and v >= 0 for v in cfg.spectral_seeds)):
        raise bad_value(func, "spectral_seeds", cfg.spectral_seeds,
                        "a non-empty tuple of ints >= 0")
    if cfg.temperature is not None:
        positive(func, "temperature", cfg.temperature)
    if cfg.threads is not None:
        integer(func, "threads", cfg.threads)
    resolve_verbose(cfg.verbose, func)
    return cfg


def run_demo(out="fftconv-report", config=FULL, log=None, argv=None, **changes):
    """Run the demo and write its report into ``out``.

    Parameters
    ----------
    out : str or os.PathLike
        Directory of the report (created): ``index.html`` and its PNG figures.
    config : DemoConfig
        :data:`FULL` (default) or :data:`QUICK`.
    log : callable, optional
        Called with one line of progress text per step (the CLI passes ``print``).
    argv : sequence of str, optional
        The command line the report states (default :data:`sys.argv`).
    **changes
        Fields of ``config`` to override, e.g. ``epochs=3`` or ``seed=1``.

    Returns
    -------
    pathlib.Path
        The written ``index.html``; ``sweep.json`` beside it holds the benchmark's
        timings (:func:`fftconv.bench.write_sweep`).

    Raises
    ------
    TypeError, ValueError
        For a bad ``out``, ``config`` or override.
    ImportError
        Without matplotlib (the ``plots`` extra), before anything runs: the report
        is made of figures.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     index = run_demo(d, QUICK, seed=1)
    ...     index.name, sorted({p.suffix for p in pathlib.Path(d).iterdir()})
    ('index.html', ['.html', '.json', '.png'])
    """
    if not isinstance(out, (str, os.PathLike)):
        raise bad_type("run_demo", "out", out, "a str or os.PathLike path")
    if not isinstance(config, DemoConfig):
        raise bad_type("run_demo", "config", config, "a DemoConfig")
    try:
        cfg = _check_config(replace(config, **changes))
    except TypeError as exc:
        raise bad_type("run_demo", "changes", sorted(changes),
                       "field names of DemoConfig") from exc
    require("matplotlib.figure", "plots", "run_demo")       # fail now, not after the runs
    log = log or (lambda text: None)
    started = datetime.datetime.now(datetime.timezone.utc)
    t0 = time.perf_counter()
    machine = environment(argv, started, cfg.threads)
    report = Report(
        "fftconv demo report",
        f"{'Quick smoke-test run' if cfg.quick else 'Run'} of `fftconv demo` started "
        f"{started:%Y-%m-%d %H:%M} UTC on {dict(machine)['CPU']}. Every table and "
        "figure below was computed by this run.")
    report.measured_on(machine, "The machine and libraries every timing below was "
                                "measured with; threads are those the benchmark gave BLAS "
                                "and the FFT engine.")
    overview = report.section("The run: settings and time per part", "run")

    sweep, curves = _benchmark(report, cfg, log)
    trained = _training(report, cfg, log)
    _filters(report, cfg, trained["model"], log)
    _matching(report, cfg, log)
    _cost(report, log)
    _frequency_learning(report, cfg, log)

    total = time.perf_counter() - t0
    overview.table(["setting", "value"],
                   [["mode", "quick (smoke test)" if cfg.quick else "full"],
                    ["seed", cfg.seed], ["benchmark repeats (median of)", cfg.repeats],
                    ["benchmark threads", cfg.threads or "library default"],
                    ["training epochs", cfg.epochs],
                    ["propagator temperature",
                     "auto: T = std(w) / 2 per filter" if cfg.temperature is None
                     else cfg.temperature]],
                   "The run's settings (the options of `fftconv demo --help` change them).")
    parts = [[s.title, s.seconds] for s in report.sections if s.seconds is not None]
    longest = max(parts, key=lambda part: part[1])
    overview.table(["section", "seconds"], parts + [["total, before drawing the figures", total]],
                   f"Wall-clock time of each part; the longest is '{longest[0]}' "
                   f"({longest[1]:.1f} s of {total:.1f} s).", [None, ".2f"])
    report.footer = (f"fftconv {fftconv.__version__}, `fftconv demo`: computed in "
                     f"{total:.1f} s, then drawn and written.")
    log(f"writing the report to {out}")
    index = report.write(out)
    fftconv.bench.write_sweep(index.parent / "sweep.json", sweep, curves, dtype="float32",
                              threads=cfg.threads)
    return index
