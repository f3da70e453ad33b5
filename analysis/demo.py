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
import platform
import sys
import time
from dataclasses import dataclass, field, replace

import numpy as np

import fftconv
import fftconv.bench
import fftconv.select
from fftconv import nn
from fftconv.errors import bad_type, bad_value
from fftconv.optional import available, require
from fftconv.nn.plots import training_curves_figure

from . import diffusion, frequency_learning, plots, spectrum
from fftconv.checks import integer, positive
from .architectures import get_model
from .complexity import network_cost
from .images import demo_image
from .report import Report

__all__ = ["DemoConfig", "FULL", "QUICK", "DEMO_LAYERS", "machine_info", "make_scene",
           "run_demo"]

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
    temperature : float
        Softmax temperature of the propagator reading. Learned weights are a few
        tenths, so at ``T = 1`` every propagator is nearly uniform; 0.1 lets
        each filter's largest weights show where it sends information.
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
    temperature: float = 0.1
    steps: tuple = (0, 1, 2, 4, 8, 16)
    autotune_check: bool = True
    threads: int | None = None
    spectral_seeds: tuple = (0, 1, 2)
    spectral_epochs: int = 1
    spectral_samples: int | None = None
    quick: bool = False


#: The default run of ``fftconv demo`` (about a minute on 2 cores).
FULL = DemoConfig()

#: A smoke-test run: two layers, one repeat, a three-point crossover, one epoch.
QUICK = DemoConfig(layers=fftconv.bench.DEFAULT_LAYERS[:2], repeats=1,
                   crossover_family=(1, 4, 32), crossover_kernels=(1, 5, 15), epochs=1,
                   steps=(0, 1, 4), autotune_check=False, spectral_seeds=(0,),
                   spectral_samples=64, quick=True)


# -- the machine ----------------------------------------------------------------------

def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(module: str) -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(module)
    except PackageNotFoundError:
        return "not installed"


def machine_info() -> list[tuple[str, str]]:
    """What the timings depend on: CPU, cores, load, libraries, BLAS, FFT engine, cost model.

    Returns
    -------
    list of (str, str)
        ``(item, value)`` rows, in display order.

    Examples
    --------
    >>> dict(machine_info())["fftconv"] == fftconv.__version__
    True
    """
    from threadpoolctl import threadpool_info

    blas = sorted({f"{p.get('internal_api')} {p.get('version') or ''} "
                   f"({p.get('num_threads')} threads)".replace("  ", " ")
                   for p in threadpool_info() if p.get("user_api") == "blas"})
    engine = fftconv.fftlib.get_fft_engine()
    try:
        load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    except (AttributeError, OSError):
        load = "unknown"
    return [
        ("CPU", _cpu_model()),
        ("cores", str(os.cpu_count())),
        ("load average (1, 5, 15 min) at start", load),
        ("system", f"{platform.system()} {platform.release()} ({platform.machine()})"),
        ("Python", sys.version.split()[0]),
        ("fftconv", fftconv.__version__),
        ("numpy", np.__version__),
        ("scipy", _version("scipy")),
        ("matplotlib", _version("matplotlib")),
        ("pyFFTW", _version("pyFFTW")),
        ("BLAS", "; ".join(blas) or "unknown"),
        ("FFT engine", f"{engine.name} ({engine.threads} threads)"),
        ("backends", ", ".join(fftconv.available_backends())),
        ("cost model of 'auto'", fftconv.select.constants_source()),
    ]


# -- the sections ---------------------------------------------------------------------

def _ms(seconds: float) -> float:
    return seconds * 1e3


def _benchmark(report: Report, cfg: DemoConfig, log) -> None:
    section = report.section("Backends on a small grid", "benchmark")
    start = time.perf_counter()
    log(f"benchmark: {len(cfg.layers)} layers x {len(fftconv.available_backends())} "
        f"backends, {cfg.repeats} repeats")
    rows = fftconv.bench.run_sweep(cfg.layers, dtype="float32", repeats=cfg.repeats,
                                   threads=cfg.threads, autotune_check=cfg.autotune_check,
                                   progress=False)
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
        cells += [row.fastest, row.auto, row.ratio(row.auto)]
        if cfg.autotune_check:
            cells += [row.tuned, row.ratio(row.tuned)]
        table.append(cells)
    formats = [None, None] + [".3g"] * len(names) + [None, None, ".2f"]
    if cfg.autotune_check:
        formats += [None, ".2f"]
    section.table(header, table, "Forward time per backend, median milliseconds.", formats)
    summary = fftconv.bench.sweep_summary(rows)
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
        progress=False)
    title = f"N={n}, C_in=C_out={c}, {h}x{h} image"
    section.figure(fftconv.bench.crossover_figure([(title, curve)]),
                   "Forward time against kernel size for one layer family. Dotted lines "
                   "mark where two backends swap places (interpolated in log time); "
                   "rings mark the backend 'auto' chose at each size.",
                   alt="Crossover figure: forward time of each backend against kernel size")
    ks = [row.layer.k for row in curve]
    cross = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if all(a in r.seconds and b in r.seconds for r in curve):
                for k in fftconv.bench.crossovers(ks, [r.seconds[a] for r in curve],
                                                  [r.seconds[b] for r in curve]):
                    cross.append([f"{a} / {b}", k])
    if cross:
        section.table(["backends", "kernel size where they swap"], cross,
                      "Measured crossovers on this curve.", [None, ".1f"])
    else:
        section.paragraph("No two backends swapped places on this curve.")
    section.seconds = time.perf_counter() - start


def _training(report: Report, cfg: DemoConfig, log) -> dict:
    section = report.section("LeNet-5 trained on the embedded digits", "training")
    start = time.perf_counter()
    x, y = nn.load_digits()
    x_train, x_test, y_train, y_test = nn.train_test_split(x, y, 0.2, seed=cfg.seed)
    model = nn.lenet5(partial_connections=True, seed=cfg.seed)
    log(f"training: LeNet-5, {len(x_train)} train / {len(x_test)} test digits, "
        f"{cfg.epochs} epoch(s), backend auto")
    section.paragraph(
        f"The UCI 1,797 handwritten 8×8 digits (shipped with fftconv), resized to 32×32 and split "
        f"{len(x_train)} / {len(x_test)} (train / test, seed {cfg.seed}); LeNet-5 as in "
        "LeCun et al. (1998) with the C3 connection table and scaled-tanh units, a "
        "linear output layer with softmax cross-entropy in place of the RBF units, "
        f"Adam (lr 0.001), batch size {cfg.batch_size}, {cfg.epochs} epoch(s), "
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
                  choices, "The backend of each convolution, by the cost model.")
    history = nn.fit(model, x_train, y_train, epochs=cfg.epochs, batch_size=cfg.batch_size,
                     validation_data=(x_test, y_test), seed=cfg.seed, backend="auto",
                     progress=False)
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
                   "Loss and accuracy per epoch, on the training and the test part.")
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
    rows = []
    for o in range(w.shape[0]):
        rows.append([labels[o], str(table["pass_type"][o, 0]), float(table["dc_gain"][o, 0]),
                     float(table["dominant_orientation"][o, 0]),
                     float(table["orientation_selectivity"][o, 0]),
                     float(table["centroid_frequency"][o, 0]),
                     float(table["spectral_flatness"][o, 0])])
    section.table(["filter", "pass type", "DC gain", "orientation (deg)", "selectivity",
                   "centroid (cyc/px)", "flatness"], rows,
                  "Descriptors of each filter's spectrum (analysis.spectrum).",
                  [None, None, ".3f", ".1f", ".3f", ".3f", ".3f"])
    section.figure(plots.filter_spectra_figure(w, 64, labels, ncols=3),
                   "Each learned C1 filter and its magnitude spectrum.")
    section.figure(plots.orientation_rose_figure(w, 64, 36, labels, ncols=6),
                   "Share of each filter's spectral energy per orientation.")
    section.seconds = time.perf_counter() - start

    section = report.section("The learned filters as propagators", "diffusion")
    start = time.perf_counter()
    log(f"analysis: propagators at temperature {cfg.temperature}")
    flipped = w[:, 0, ::-1, ::-1]                 # the layer correlates: convolution form
    props = diffusion.softmax_kernel(flipped, cfg.temperature)
    moments = diffusion.propagator_moments(props)
    section.paragraph(
        f"Dettmers's reading: the softmax of a kernel (temperature T = {cfg.temperature:g}) "
        "is a propagator, the probability that a pixel's value moves by each offset in "
        "one step; repeating the step diffuses an image. The drift is the mean move "
        "(x right, y up), D the diffusion coefficient trace(covariance)/4 per step.")
    rows = []
    for o in range(w.shape[0]):
        p = props[o]
        rows.append([labels[o], float(p[p.shape[0] // 2, p.shape[1] // 2]),
                     float(moments.mean[o, 0]), float(moments.mean[o, 1]),
                     float(np.trace(moments.covariance[o]) / 4)])
    section.table(["filter", "P(stay)", "drift x (px)", "drift y (px)", "D per step"], rows,
                  "Moments of each propagator (analysis.diffusion).",
                  [None, ".3f", ".3f", ".3f", ".3f"])
    section.figure(plots.diffusion_figure(w[:, 0], demo_image(64), cfg.steps,
                                          cfg.temperature, labels),
                   "Each filter, its softmax propagator and a test card after n steps "
                   "(circular boundaries: mass is conserved).")
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


def _matching_figure(scene, template, score, truth, found):
    Figure = require("matplotlib.figure", "plots", "run_demo").Figure
    Rectangle = require("matplotlib.patches", "plots", "run_demo").Rectangle

    h, w = template.shape
    fig = Figure(figsize=(11, 4.3), layout="constrained")
    ax = fig.subplots(1, 3, width_ratios=[0.45, 1, 1])
    ax[0].imshow(template, cmap="gray")
    ax[0].set_title("template", fontsize=9)
    ax[1].imshow(scene, cmap="gray")
    for r, c in truth:
        ax[1].add_patch(Rectangle((c - 0.5, r - 0.5), w, h, fill=False, ec="tab:green",
                                  lw=2.5))
    for r, c in found:
        ax[1].add_patch(Rectangle((c - 0.5, r - 0.5), w, h, fill=False, ec="tab:red",
                                  lw=1.2, ls="--"))
    ax[1].set_title("scene: copies (green), matches found (red, dashed)", fontsize=9)
    im = ax[2].imshow(score, cmap="RdBu_r", vmin=-1, vmax=1)
    ax[2].plot([c for _, c in found], [r for r, _ in found], "k+", ms=12, mew=1.5)
    ax[2].set_title("normalized cross-correlation (peaks: +)", fontsize=9)
    fig.colorbar(im, ax=ax[2], shrink=0.8)
    for a in ax:
        a.set_xticks([])
        a.set_yticks([])
    return fig


def _matching(report: Report, cfg: DemoConfig, log) -> None:
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
                  rows, "Peaks of the score map, best first.", [None, ".3f", None, ".2f"])
    hits = sum(1 for row in rows if row[3] <= 1.0)
    section.paragraph(f"{hits} of {len(truth)} copies found within one pixel; "
                      f"{len(rows) - hits} other peak(s) above the threshold.")
    section.figure(_matching_figure(scene, template, score, truth, found),
                   "The template; the scene with the true copies and the matches; the score "
                   "map, whose entry (i, j) scores the window with top-left corner (i, j).")

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
                  "Phase correlation.", [None, ".3f", ".3f"])
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
    section.preformatted(network_cost(get_model("lenet5")).table())
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
                   "deviation over the maps. Look for the lowest curve: spectral pooling "
                   "wins on the digits; on photographs its lead shrinks at 1/2 and 1/8, "
                   "where the DFT's periodic boundary rings at the patch edges.")

    x, y = nn.load_digits()
    x_train, x_test, y_train, y_test = nn.train_test_split(x, y, 0.2, seed=cfg.seed)
    if cfg.spectral_samples is not None:
        x_train, y_train = x_train[:cfg.spectral_samples], y_train[:cfg.spectral_samples]
    runs = frequency_learning.parametrization_study(
        x_train, y_train, (x_test, y_test), seeds=cfg.spectral_seeds, learning_rates=(1e-3,),
        epochs=cfg.spectral_epochs, batch_size=cfg.batch_size)
    section.paragraph(
        "Then their parametrization: lenet5_modern with its filters stored as the filters "
        "(Conv2d) and as their DFT (SpectralConv2d), from the same seeds "
        f"{', '.join(map(str, cfg.spectral_seeds))} (same initial filters, same batches), "
        f"Adam at lr 0.001, {cfg.spectral_epochs} epoch(s) on {len(x_train)} training "
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
                  "360 test digits.", [None, ".4f", ".4f", ".4f", ".2%", ".1f"])
    study = {"datasets": {"digits": {"runs": [
        {"parametrization": r.parametrization, "lr": r.lr, "seed": r.seed,
         "batch_loss": r.batch_loss} for r in runs]}}}
    section.figure(plots.parametrization_figure(study, "digits"),
                   "Left: training loss per step (10-step mean; median and min–max over the "
                   "seeds). Right: final loss at the one learning rate run here. Look at "
                   "whether the spectral curve falls faster than the spatial one.")
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
    positive(func, "temperature", cfg.temperature)
    if cfg.threads is not None:
        integer(func, "threads", cfg.threads)
    return cfg


def run_demo(out="fftconv-report", config=FULL, log=None, **changes):
    """Run the demo and write its report into ``out``.

    Parameters
    ----------
    out : str or os.PathLike
        Directory of the report (created): ``index.html`` and its PNG figures.
    config : DemoConfig
        :data:`FULL` (default) or :data:`QUICK`.
    log : callable, optional
        Called with one line of progress text per step (the CLI passes ``print``).
    **changes
        Fields of ``config`` to override, e.g. ``epochs=3`` or ``seed=1``.

    Returns
    -------
    pathlib.Path
        The written ``index.html``.

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
    ('index.html', ['.html', '.png'])
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
    started = datetime.datetime.now().astimezone()
    t0 = time.perf_counter()
    machine = machine_info()
    report = Report(
        "fftconv demo report",
        f"{'Quick smoke-test run' if cfg.quick else 'Run'} of `fftconv demo` started "
        f"{started:%Y-%m-%d %H:%M:%S %Z} on {dict(machine)['CPU']}. Every table and "
        "figure below was computed by this run.")
    overview = report.section("Machine and run", "machine")

    _benchmark(report, cfg, log)
    trained = _training(report, cfg, log)
    _filters(report, cfg, trained["model"], log)
    _matching(report, cfg, log)
    _cost(report, log)
    _frequency_learning(report, cfg, log)

    total = time.perf_counter() - t0
    overview.table(["item", "value"], machine, "Where the timings were measured.")
    overview.table(["setting", "value"],
                   [["mode", "quick (smoke test)" if cfg.quick else "full"],
                    ["seed", cfg.seed], ["benchmark repeats (median of)", cfg.repeats],
                    ["benchmark threads", cfg.threads or "library default"],
                    ["training epochs", cfg.epochs],
                    ["propagator temperature", cfg.temperature]],
                   "The run's settings.")
    overview.table(["section", "seconds"],
                   [[s.title, s.seconds] for s in report.sections if s.seconds is not None]
                   + [["total, before drawing the figures", total]],
                   "Wall-clock time of each part.", [None, ".2f"])
    report.footer = (f"fftconv {fftconv.__version__}, `fftconv demo`: computed in "
                     f"{total:.1f} s, then drawn and written.")
    log(f"writing the report to {out}")
    return report.write(out)
