"""Timing :func:`~analysis.matching.match_template` against scikit-image and OpenCV.

One process, one run, side by side: for each case (image size, template size) every
contender scores the same float32 image, the median of ``repeats`` timed runs is
reported with the ratios the issue asks about (scikit-image / fftconv and
OpenCV / fftconv: above 1 means fftconv is faster). Thread counts are pinned: the
FFT engine, BLAS pools and OpenCV all get ``threads``. The peers are optional
(the ``bench`` extra installs them); a missing one is reported, not an error.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from fftconv import fftlib
from fftconv.errors import bad_value

from .matching import METHODS, match_template

__all__ = ["DEFAULT_CASES", "MatchBenchRow", "parse_case", "run_match_bench",
           "format_match_table"]

#: (image side, template side): the two cases of the issue.
DEFAULT_CASES = ((1024, 64), (2048, 128))


@dataclass
class MatchBenchRow:
    """Median milliseconds of each contender on one case."""

    image: int
    template: int
    method: str
    ms: dict = field(default_factory=dict)
    max_abs_diff: dict = field(default_factory=dict)


def parse_case(text: str) -> tuple[int, int]:
    """``'1024:64'`` → ``(1024, 64)`` (square image and template sides).

    Examples
    --------
    >>> parse_case("2048:128")
    (2048, 128)
    """
    image, _, template = str(text).partition(":")
    if not (image.isdigit() and template.isdigit()) or not 0 < int(template) <= int(image):
        raise bad_value("parse_case", "text", text,
                        "IMAGE:TEMPLATE with positive ints, template <= image")
    return int(image), int(template)


def _median_ms(fn, repeats: int) -> float:
    fn()                                                    # warm-up: plans, caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e3


def _peers(threads: int) -> dict:
    peers = {}
    try:
        import cv2
        cv2.setNumThreads(threads)
        codes = {m: getattr(cv2, "TM_" + m.upper()) for m in METHODS}
        peers["opencv"] = lambda im, t, m: cv2.matchTemplate(im, t, codes[m])
    except ImportError:
        pass
    try:
        from skimage.feature import match_template as sk_match
        peers["skimage"] = lambda im, t, m: sk_match(im, t) if m == "ccoeff_normed" else None
    except ImportError:
        pass
    return peers


def run_match_bench(cases=DEFAULT_CASES, methods=("ccoeff_normed",), threads=2,
                    repeats=5, seed=0, report=None):
    """Time fftconv, OpenCV and scikit-image on float32 square images.

    Parameters
    ----------
    cases : sequence of (int, int)
        ``(image side, template side)``.
    methods : sequence of str
        Methods to time (scikit-image only has ``'ccoeff_normed'``).
    threads : int
        FFT engine threads, BLAS threads and ``cv2.setNumThreads``.
    repeats : int
        Timed runs per entry (the median is reported); one warm-up run first.
    seed : int
        Seed of the random image (uniform in [0, 1)); the template is cut from it.
    report : callable, optional
        Called with each finished :class:`MatchBenchRow`.

    Returns
    -------
    list of MatchBenchRow
        With the largest absolute difference of each peer's scores from fftconv's.
    """
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(seed)
    engine = fftlib.get_fft_engine()
    peers = _peers(threads)
    rows = []
    with threadpool_limits(limits=threads), \
            fftlib.set_fft_engine(engine.name, threads=threads):
        for side, tside in cases:
            image = rng.random((side, side), dtype=np.float32)
            r0, c0 = (side - tside) // 3, (side - tside) // 2
            template = image[r0:r0 + tside, c0:c0 + tside].copy()
            for method in methods:
                row = MatchBenchRow(side, tside, method)
                ours = match_template(image, template, method)
                row.ms["fftconv"] = _median_ms(lambda: match_template(image, template, method),
                                               repeats)
                for name, peer in peers.items():
                    result = peer(image, template, method)
                    if result is None:
                        continue
                    row.max_abs_diff[name] = float(np.max(np.abs(result - ours)))
                    row.ms[name] = _median_ms(lambda: peer(image, template, method), repeats)
                rows.append(row)
                if report:
                    report(row)
    return rows


def format_match_table(rows, threads: int, repeats: int) -> str:
    """The side-by-side table: median ms per contender and peer / fftconv ratios."""
    names = ["fftconv", "opencv", "skimage"]
    header = ["case", "method"] + [f"{n} ms" for n in names] + \
        ["opencv/fftconv", "skimage/fftconv"]
    lines = []
    for row in rows:
        cells = [f"{row.ms[n]:.1f}" if n in row.ms else "-" for n in names]
        ratios = [f"{row.ms[n] / row.ms['fftconv']:.2f}" if n in row.ms else "-"
                  for n in ("opencv", "skimage")]
        lines.append([f"{row.image}x{row.image} / {row.template}x{row.template}",
                      row.method] + cells + ratios)
    widths = [max(len(r[i]) for r in [header] + lines) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" if i < 2 else f"{{:>{w}}}" for i, w in enumerate(widths))
    out = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*line) for line in lines]
    out.append(f"float32, {threads} threads, median of {repeats} runs after one warm-up; "
               "ratio > 1: fftconv is faster")
    worst = {}
    for row in rows:
        for name, diff in row.max_abs_diff.items():
            worst[name] = max(worst.get(name, 0.0), diff)
    if worst:
        out.append("largest |peer - fftconv| score difference: "
                   + ", ".join(f"{name} {diff:.1e}" for name, diff in worst.items()))
    return "\n".join(out)
