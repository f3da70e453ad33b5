"""Timing :func:`~analysis.matching.match_template` against scikit-image and OpenCV.

One command, side by side: for each case (image size, template size) every
contender scores the same float32 image (same seed), the median of ``repeats``
timed runs after one warm-up is reported with the ratios the issue asks about
(OpenCV / fftconv and scikit-image / fftconv: above 1 means fftconv is faster).
Thread counts are pinned: the FFT engine, BLAS pools and OpenCV all get ``threads``.

Each contender is timed in a fresh Python process of its own, as a user would run
it. In one shared process the libraries change each other's speed through the C
allocator: a large ``free`` raises glibc's dynamic mmap threshold, after which the
next library's big allocations no longer page-fault — OpenCV's ``matchTemplate`` on
a 1024² image takes 20 ms on its own and 13 ms right after fftconv's call. The
peers are optional (the ``bench`` extra installs them); a missing one is skipped.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from fftconv.text import plural

from fftconv import fftlib
from fftconv.errors import bad_value

from .matching import METHODS, match_template

__all__ = ["DEFAULT_CASES", "CONTENDERS", "MatchBenchRow", "parse_case", "make_case",
           "time_contender", "run_match_bench", "format_match_table"]

#: (image side, template side): small and large templates on small and large scenes.
DEFAULT_CASES = ((1024, 64), (2048, 128), (1536, 200), (4096, 48))
#: Who is timed, in table order.
CONTENDERS = ("fftconv", "opencv", "skimage")


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


def make_case(side: int, tside: int, seed: int = 0):
    """The float32 image (uniform in [0, 1)) of a case and a template cut from it.

    Examples
    --------
    >>> image, template = make_case(64, 8)
    >>> image.shape, template.shape, image.dtype
    ((64, 64), (8, 8), dtype('float32'))
    """
    image = np.random.default_rng(seed).random((side, side), dtype=np.float32)
    r0, c0 = (side - tside) // 3, (side - tside) // 2
    return image, image[r0:r0 + tside, c0:c0 + tside].copy()


def _matcher(name: str, threads: int):
    """``f(image, template, method)`` of a contender, or None if not installed/able."""
    if name == "fftconv":
        return match_template
    if name == "opencv":
        try:
            import cv2
        except ImportError:
            return None
        cv2.setNumThreads(threads)
        codes = {m: getattr(cv2, "TM_" + m.upper()) for m in METHODS}
        return lambda im, t, m: cv2.matchTemplate(im, t, codes[m])
    try:
        from skimage.feature import match_template as sk_match
    except ImportError:
        return None
    return lambda im, t, m: sk_match(im, t) if m == "ccoeff_normed" else None


def time_contender(name: str, side: int, tside: int, method: str = "ccoeff_normed",
                   threads: int = 2, repeats: int = 5, seed: int = 0):
    """Median ms of one contender on one case in *this* process (None if unavailable).

    Examples
    --------
    >>> ms = time_contender("fftconv", 64, 8, threads=1, repeats=1)
    >>> ms > 0
    True
    """
    from threadpoolctl import threadpool_limits

    matcher = _matcher(name, threads)
    image, template = make_case(side, tside, seed)
    engine = fftlib.get_fft_engine()
    with threadpool_limits(limits=threads), \
            fftlib.set_fft_engine(engine.name, threads=threads):
        if matcher is None or matcher(image, template, method) is None:   # + warm-up
            return None
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            matcher(image, template, method)
            times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e3


def _time_in_fresh_process(name, side, tside, method, threads, repeats, seed):
    request = json.dumps([name, side, tside, method, threads, repeats, seed])
    done = subprocess.run([sys.executable, "-m", "analysis.match_bench", request],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"timing {name} failed: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_match_bench(cases=DEFAULT_CASES, methods=("ccoeff_normed",), threads=2,
                    repeats=5, seed=0, report=None, isolate=True):
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
    isolate : bool
        Time each contender in a fresh process (default; see the module notes), or
        all in this one.

    Returns
    -------
    list of MatchBenchRow
        With the largest absolute difference of each peer's scores from fftconv's
        (computed here, on the same image).
    """
    rows = []
    for side, tside in cases:
        image, template = make_case(side, tside, seed)
        for method in methods:
            row = MatchBenchRow(side, tside, method)
            ours = match_template(image, template, method)
            for name in CONTENDERS:
                matcher = _matcher(name, threads)
                result = matcher(image, template, method) if matcher else None
                if result is None:
                    continue
                if name != "fftconv":
                    row.max_abs_diff[name] = float(np.max(np.abs(result - ours)))
                args = (name, side, tside, method, threads, repeats, seed)
                ms = _time_in_fresh_process(*args) if isolate else time_contender(*args)
                if ms is not None:
                    row.ms[name] = ms
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
    out.append(f"float32, {plural(threads, 'thread')}, median of {plural(repeats, 'run')} "
               "after one warm-up, "
               "each contender in a fresh process; ratio > 1: fftconv is faster")
    worst = {}
    for row in rows:
        for name, diff in row.max_abs_diff.items():
            worst[name] = max(worst.get(name, 0.0), diff)
    if worst:
        out.append("largest |peer - fftconv| score difference: "
                   + ", ".join(f"{name} {diff:.1e}" for name, diff in worst.items()))
    return "\n".join(out)


if __name__ == "__main__":      # one contender, one case: python -m analysis.match_bench JSON
    print(json.dumps(time_contender(*json.loads(sys.argv[1]))))
