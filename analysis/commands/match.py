"""``fftconv match``: find a template in an image; or time matching against its peers."""

from __future__ import annotations

import argparse
import os
import sys

from analysis.matching import METHODS

from fftconv.commands.options import (UsageError, check_new_path, default_out, deprecated,
                                      float_range, int_range, out_option, parsed_by,
                                      verbose_option)

DEFAULT_OUT = default_out("match")
#: The zarr array ``--zarr`` writes under ``--out``.
SCORES_ZARR = "scores.zarr"

#: The range of each normalized score, which ``--threshold`` must fall in.
SCORE_RANGES = {"ccoeff_normed": (-1.0, 1.0), "ccorr_normed": (-1.0, 1.0),
                "sqdiff_normed": (0.0, 2.0)}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "match", help="find a template in an image (or --bench: time it against peers)",
        description="Score every position of TEMPLATE in IMAGE (PNG or .npy), print the "
                    "best matches (row, col, x, y, score) and write a PNG of the image "
                    "with the matched boxes beside the score map. With --bench, time "
                    "match_template against OpenCV and scikit-image instead (float32, "
                    "median of --repeats runs, ratios).")
    p.add_argument("image", nargs="?", metavar="IMAGE",
                   help="the scene to search, .png or .npy (required unless --bench or "
                        "--bench-dask; default: none)")
    p.add_argument("template", nargs="?", metavar="TEMPLATE",
                   help="the pattern to find, no larger than IMAGE (default: none)")
    p.add_argument("--method", choices=METHODS, default="ccoeff_normed",
                   help="the score (OpenCV's six)")
    p.add_argument("--threshold", type=float_range(), default=None,
                   help="keep matches scoring at least this (at most, for sqdiff); in "
                        "[-1, 1] for ccorr_normed/ccoeff_normed, [0, 2] for sqdiff_normed "
                        "(default: 0.5 for ccorr_normed/ccoeff_normed, else none)")
    p.add_argument("--min-distance", type=int_range(1), default=None,
                   help="minimum distance between matches in pixels "
                        "(default: half the template's smaller side)")
    p.add_argument("--max-peaks", type=int_range(1), default=10, help="report at most this many")
    p.add_argument("--pad-input", action="store_true",
                   help="score every pixel as a window centre (output of the image's size)")
    out_option(p, "match", "the PNG of the matches, the --zarr score map or the "
                           "--bench-dask files")
    p.add_argument("--no-figure", action="store_true", help="do not write the PNG")
    p.add_argument("--zarr", action="store_true",
                   help=f"score on dask, chunk by chunk, and write the score map to the zarr "
                        f"array --out/{SCORES_ZARR}, which must not exist yet (IMAGE: a "
                        "zarr array or a .npy file, opened lazily; grey only; no figure): "
                        "for images larger than memory (default: in memory, no zarr)")
    # --zarr-out PATH, the former spelling: still works (the scores at PATH itself), a note
    p.add_argument("--zarr-out", metavar="PATH", default=None, help=argparse.SUPPRESS)
    p.add_argument("--chunks", type=int_range(1), default=2048,
                   help="with --zarr: chunk side of a .npy IMAGE (a zarr IMAGE keeps its "
                        "chunks)")
    verbose_option(p, "the --zarr computation", dask=True)
    # --bench-dask DIR, the former spelling, still works (DIR in place of --out/bench-dask)
    p.add_argument("--bench-dask", nargs="?", const="", default=None, metavar="DIR",
                   help="instead: score a --dask-side² float32 zarr image against a 64x64 "
                        "template on a LocalCluster of 2 worker processes with 2 GiB in "
                        "total, scores to zarr, the files in --out/bench-dask; wall time "
                        "and peak memory per worker (fftconv.dask_bench.time_large). DIR "
                        "is the deprecated former spelling of the directory "
                        "(default: not run)")
    p.add_argument("--dask-side", type=int_range(64), default=16384, metavar="SIDE",
                   help="--bench-dask: image side (default 16384: 1 GiB)")
    p.add_argument("--bench", action="store_true",
                   help="time fftconv, OpenCV and scikit-image on random float32 images")
    p.add_argument("--case", action="append", metavar="IMAGE:TEMPLATE",
                   type=parsed_by(lambda: __import__("analysis.match_bench").match_bench
                                  .parse_case, "case"),
                   help="--bench case, e.g. 1024:64; repeatable (default 1024:64, "
                        "2048:128, 1536:200 and 4096:48)")
    p.add_argument("--repeats", type=int_range(1), default=7,
                   help="--bench: timed runs (median)")
    p.add_argument("--threads", type=int_range(1), default=2,
                   help="--bench: threads for everyone")
    p.set_defaults(func=run)


def read_image(path: str, param: str = "IMAGE"):
    """An image file as an array: ``.npy`` (no pickles) or ``.png`` (colour kept,
    alpha dropped); errors name the file (:func:`analysis.files.read_array`)."""
    from analysis.files import read_array

    image = read_array("fftconv match", param, path)
    if image.ndim == 3 and image.shape[-1] == 4 and not path.lower().endswith(".npy"):
        image = image[..., :3]                     # drop alpha
    return image


def _bench(args) -> int:
    from analysis.match_bench import DEFAULT_CASES, format_match_table, run_match_bench

    from fftconv.text import plural

    cases = args.case or DEFAULT_CASES
    print(f"timing match_template ({args.method}) against its peers: float32, "
          f"{plural(args.threads, 'thread')}, median of {plural(args.repeats, 'run')} ...",
          file=sys.stderr, flush=True)
    rows = run_match_bench(cases, methods=(args.method,), threads=args.threads,
                           repeats=args.repeats)
    print(format_match_table(rows, args.threads, args.repeats))
    return 0


def _bench_dask(args) -> int:
    import functools

    import numpy as np

    from fftconv import dask_bench

    if args.bench_dask:
        deprecated("match", "--bench-dask DIR",
                   "--bench-dask --out DIR (the files go to DIR/bench-dask)")
        workdir = args.bench_dask
    else:
        workdir = os.path.join(args.out, "bench-dask")
    os.makedirs(workdir, exist_ok=True)
    src = dask_bench.make_zarr_image(os.path.join(workdir, f"image-{args.dask_side}.zarr"),
                                     args.dask_side)
    template = np.random.default_rng(2).standard_normal((64, 64)).astype(np.float32)
    run = dask_bench.time_large(functools.partial(_match_op, template=template,
                                                  method=args.method),
                                src, os.path.join(workdir, "scores.zarr"),
                                label=f"match 64x64 ({args.method})")
    from fftconv.text import format_bytes, plural

    peaks = ", ".join(format_bytes(v) for v in run.peaks.values())
    print(f"{run.label}: {args.dask_side}² float32 zarr, {plural(run.workers, 'worker')}, "
          f"{format_bytes(run.memory_limit)} in total: {run.seconds:.1f} s; peak RSS per "
          f"worker: {peaks} (load average {os.getloadavg()[0]:.1f}: a shared machine)")
    return 0


def _match_op(image, template, method):
    from analysis.matching import match_template
    return match_template(image, template, method=method)


def check_threshold(method: str, threshold) -> None:
    """Refuse a ``--threshold`` outside the range of ``method``'s normalized score
    (a threshold no score reaches finds nothing, silently)."""
    if threshold is None or method not in SCORE_RANGES:
        return
    lo, hi = SCORE_RANGES[method]
    if not lo <= threshold <= hi:
        raise UsageError(f"argument --threshold: must be in [{lo:g}, {hi:g}] for --method "
                         f"{method} (the range of its score); got {threshold:g}")


def check_sizes(image_shape, template_shape) -> None:
    """Refuse a TEMPLATE larger than IMAGE, saying when the two look swapped."""
    image, template = tuple(image_shape[:2]), tuple(template_shape[:2])
    if all(t <= i for t, i in zip(template, image)):
        return
    swapped = all(i <= t for t, i in zip(template, image))
    hint = (": the arguments look swapped; the order is IMAGE (the scene) then TEMPLATE "
            "(the smaller pattern)" if swapped else "")
    raise UsageError(f"TEMPLATE {template[0]}x{template[1]} is larger than IMAGE "
                     f"{image[0]}x{image[1]}{hint}")


def _options(args, template_shape):
    threshold = args.threshold
    if threshold is None and args.method in ("ccoeff_normed", "ccorr_normed"):
        threshold = 0.5
    return threshold, args.min_distance or max(1, min(template_shape) // 2)


def scores_target(args) -> str:
    """Where ``--zarr`` (or the deprecated ``--zarr-out PATH``) writes the score map,
    refused if it exists, naming the option the user typed.

    ``--zarr`` writes ``--out/scores.zarr`` (creating ``--out``); ``--zarr-out PATH``
    writes PATH itself, with a note on standard error, and cannot be mixed with
    ``--zarr`` or ``--out``.
    """
    if args.zarr_out is not None:
        if args.zarr or args.out != DEFAULT_OUT:
            given = "--zarr" if args.zarr else f"--out {args.out!r}"
            raise UsageError(f"--zarr-out {args.zarr_out!r} and {given} both given; give "
                             "--zarr --out DIR only")
        deprecated("match", "--zarr-out PATH",
                   f"--zarr --out DIR (the scores go to DIR/{SCORES_ZARR})")
        check_new_path("--zarr-out", args.zarr_out)
        return args.zarr_out
    target = os.path.join(args.out, SCORES_ZARR)
    if os.path.exists(target):
        option = "--out" if args.out != DEFAULT_OUT else "--zarr"
        raise UsageError(f"argument {option}: {target!r} exists; give --out a directory "
                         f"without a {SCORES_ZARR} (a zarr array is never overwritten)")
    return target


def _run_on_dask(args) -> int:
    """``--zarr``: the image lazily (zarr or .npy memmap), the scores written to
    zarr with a progress bar, the peaks found block by block."""
    from analysis.matching import find_peaks, match_template

    from fftconv.dask import open_array, write_zarr
    from fftconv.text import plural

    func = "fftconv match"
    target = scores_target(args)
    image = open_array(func, "IMAGE", args.image, chunks=args.chunks)
    template = read_image(args.template, "TEMPLATE")
    check_sizes(image.shape, template.shape)
    if template.ndim == 3 and image.ndim == 2:
        template = template.mean(axis=-1)            # a colour template in a grey scene
    score = match_template(image, template, method=args.method, pad_input=args.pad_input)
    print(f"{func}: {args.template} {template.shape} in {args.image} {image.shape}, "
          f"{args.method}: scores {score.shape} -> {target} "
          f"({plural(score.npartitions, 'task')})", flush=True)
    os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
    write_zarr(score, target, progress=args.verbose > 0)
    import dask.array as da

    threshold, min_distance = _options(args, template.shape[:2])
    peaks = find_peaks(da.from_zarr(target), threshold=threshold,
                       min_distance=min_distance, max_peaks=args.max_peaks, method=args.method)
    print(plural(len(peaks), "match", "matches"))
    print(f"{'row':>9} {'col':>9} {'x':>9} {'y':>9} {'score':>12}")
    for (r, c), (x, y), s in zip(peaks.coords, peaks.xy, peaks.scores):
        print(f"{r:9.2f} {c:9.2f} {x:9.2f} {y:9.2f} {s:12.3f}")
    print(f"wrote {target}")
    return 0


def run(args) -> int:
    import numpy as np

    from fftconv.text import plural

    check_threshold(args.method, args.threshold)
    if args.bench:
        return _bench(args)
    if args.bench_dask is not None:
        return _bench_dask(args)
    if not args.image or not args.template:
        raise UsageError("the arguments IMAGE TEMPLATE are required (two image files), "
                         "unless --bench or --bench-dask")
    from analysis.matching import find_peaks, match_template

    if args.zarr or args.zarr_out is not None:
        return _run_on_dask(args)
    image, template = read_image(args.image), read_image(args.template, "TEMPLATE")
    check_sizes(image.shape, template.shape)
    colour = image.ndim == 3 and template.ndim == 3 and image.shape[-1] == template.shape[-1]
    if not colour:                                  # mixed grey / colour: compare greys
        image = image.mean(axis=-1) if image.ndim == 3 else image
        template = template.mean(axis=-1) if template.ndim == 3 else template
    score = match_template(image, template, method=args.method, pad_input=args.pad_input,
                           channel_axis=-1 if colour else None)
    spatial = template.shape[:2]
    threshold, min_distance = _options(args, spatial)
    peaks = find_peaks(score, threshold=threshold, min_distance=min_distance,
                       max_peaks=args.max_peaks, method=args.method)
    print(f"fftconv match: {args.template} {template.shape} in {args.image} {image.shape}, "
          f"{args.method}: {plural(len(peaks), 'match', 'matches')}")
    print(f"{'row':>9} {'col':>9} {'x':>9} {'y':>9} {'score':>12}")
    for (r, c), (x, y), s in zip(peaks.coords, peaks.xy, peaks.scores):
        print(f"{r:9.2f} {c:9.2f} {x:9.2f} {y:9.2f} {s:12.3f}")
    if not args.no_figure:
        from analysis.match_plots import match_figure

        from fftconv.nn.checkpoint import atomic_write

        os.makedirs(args.out, exist_ok=True)
        name = os.path.splitext(os.path.basename(args.image))[0]
        path = os.path.join(args.out, f"{name}_{args.method}.png")
        shown = np.clip(image, 0, 1) if image.dtype.kind == "f" and colour else image
        fig = match_figure(shown, score, peaks, spatial, args.method, args.pad_input,
                           title=f"{os.path.basename(args.template)} in "
                                 f"{os.path.basename(args.image)}")
        with atomic_write(path) as f:
            fig.savefig(f, format="png", dpi=100)
        print(f"wrote {path}")
    return 0
