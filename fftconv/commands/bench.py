"""``fftconv bench``: which backend is fastest where, and does ``'auto'`` know."""

from __future__ import annotations

import os
import sys

from .options import (float_range, int_list, int_range, out_option, parsed_by,
                      verbose_option)


def no_torch_note(bridge: bool) -> str:
    """What ``fftconv bench --layer`` says on standard error without PyTorch."""
    columns = "the torch and +bridge columns are" if bridge else "the torch column is"
    return (f"fftconv bench: PyTorch is not installed, so {columns} left out; install it "
            "with pip install 'fftconv[bench]' (--no-peers skips PyTorch)")


def known_backend(text: str) -> str:
    """``text`` if it names a registered backend (else the library's error)."""
    import fftconv

    if text != "auto":                          # 'auto' is the selection policy
        fftconv.get_backend(text)
    return text


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "bench", help="time the backends: a sweep with auto's choices, or given layers",
        description="Without --layer or --signal: time every backend on a sweep of layer "
                    "shapes (default: 36 shapes spanning 1x1-31x31 kernels, 8-512 px images, "
                    "1-256 channels; or the grid --kernels x --sizes x --channels), report "
                    "how close 'auto' and autotune come to the fastest, and write a "
                    "crossover figure. With --layer: a table of the given layers (and "
                    "PyTorch when installed). With --signal: fftconv.convolve against "
                    "scipy.signal.fftconvolve and oaconvolve.")
    p.add_argument("--layer", action="append", metavar="SPEC",
                   type=parsed_by(lambda: __import__("fftconv.bench").bench.parse_layer,
                                  "layer"),
                   help="a layer as N=..,C=..,H=..,W=..,O=..,K=..[,S=..,P=..,D=..,G=..]; "
                        "repeatable (default: the built-in sweep)")
    p.add_argument("--signal", action="append", metavar="IMAGE:KERNEL",
                   type=parsed_by(lambda: __import__("fftconv.bench").bench.parse_signal_case,
                                  "signal"),
                   help="a single-image convolution such as 1024x1024:63x63; repeatable "
                        "(default: none)")
    p.add_argument("--kernels", type=int_list(1), metavar="K,K,...",
                   help="grid: kernel sizes, e.g. 1,3,7,15,31 (default with --sizes or "
                        "--channels: 1,3,7,15,31)")
    p.add_argument("--sizes", type=int_list(1), metavar="S,S,...",
                   help="grid: image sizes, e.g. 8,32,128,512 (default with --kernels or "
                        "--channels: 8,32,128,512)")
    p.add_argument("--channels", type=int_list(1), metavar="C,C,...",
                   help="grid: channel counts, e.g. 1,16,128 (default with --kernels or "
                        "--sizes: 1,16,128)")
    p.add_argument("--batch", type=int_range(1), default=2, metavar="N", help="grid: batch size")
    p.add_argument("--max-estimate-ratio", type=float_range(1), default=None, metavar="X",
                   help="skip backends estimated this many times slower than the best "
                        "(default: 30 for --kernels/--sizes/--channels grids, never for the "
                        "built-in sweep)")
    p.add_argument("--backend", action="append", metavar="NAME",
                   type=parsed_by(lambda: known_backend, "backend"),
                   help="with --layer: backend to time; repeatable (default: all)")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                   help="precision of the inputs")
    p.add_argument("--repeats", type=int_range(1), default=5, metavar="N",
                   help="timed runs per entry (median)")
    p.add_argument("--threads", type=int_range(1), default=None, metavar="N",
                   help="BLAS/FFT/torch threads (default: the libraries' own)")
    p.add_argument("--backward", action="store_true", help="with --layer: also forward+backward")
    p.add_argument("--no-peers", action="store_true", help="with --layer: do not time PyTorch")
    p.add_argument("--bridge", action="store_true",
                   help="with --layer: also time each backend called from PyTorch "
                        "(fftconv.torch, column BACKEND+bridge) and print its overhead")
    p.add_argument("--no-autotune-check", action="store_true",
                   help="sweep: skip the autotune check")
    p.add_argument("--no-figure", action="store_true", help="sweep: skip the crossover figure")
    # --dask DIR, the former spelling, still works (DIR in place of --out/dask, a note)
    p.add_argument("--dask", nargs="?", const="", default=None, metavar="DIR",
                   help="instead: the dask benchmark (fftconv.dask_bench), its zarr files "
                        "in --out/dask and its report in --out/dask.txt: a --dask-side² "
                        "float32 zarr image convolved with 31x31 on a LocalCluster of 2 "
                        "worker processes (2 GiB in total) and on 1, peak memory per "
                        "worker; against dask_image.ndfilters.convolve at 15x15 and "
                        "31x31; the overhead against the in-memory call. DIR is the "
                        "deprecated former spelling of the directory (default: not run)")
    p.add_argument("--dask-side", type=int_range(64), default=16384, metavar="SIDE",
                   help="--dask: side of the large image (default 16384: 1 GiB)")
    p.add_argument("--dask-peer-side", type=int_range(64), default=None, metavar="SIDE",
                   help="--dask: side of the image for the dask-image comparison "
                        "(default: the large image)")
    out_option(p, "bench", "the sweep's crossover.png and sweep.json, or the --dask files")
    verbose_option(p, "the timings (one step per layer or case)")
    p.set_defaults(func=run)


def run(args) -> int:
    from .. import bench

    if args.dask is not None:
        return _dask(args)

    if args.signal:
        _note_blas()
        print(bench.format_table(bench.run_signal_bench(args.signal, dtype=args.dtype,
                                                        repeats=args.repeats,
                                                        threads=args.threads or 2,
                                                        verbose=args.verbose)))
        return 0
    if args.layer:
        from ..optional import available

        peers = (() if args.no_peers else ("torch",)) + (("bridge",) if args.bridge else ())
        if peers and not available("torch"):
            print(no_torch_note(args.bridge), file=sys.stderr)
        _note_blas()
        rows = bench.run_layer_bench(args.layer, backends=args.backend, dtype=args.dtype,
                                     repeats=args.repeats, backward=args.backward,
                                     threads=args.threads, peers=peers,
                                     verbose=args.verbose)
        print(bench.format_table(rows))
        if args.bridge:
            print(bench.format_bridge_overheads(rows))
        return 0
    return _sweep(args, bench)


def _dask(args) -> int:
    """``--dask``: the dask benchmark, its files under ``--out`` (or the deprecated DIR)."""
    from .. import dask_bench
    from .options import deprecated

    if args.dask:
        deprecated("bench", "--dask DIR", "--dask --out DIR (the files go to DIR/dask)")
        workdir, report_dir = args.dask, args.dask
    else:
        workdir, report_dir = os.path.join(args.out, "dask"), args.out
    report = dask_bench.run_dask_bench(workdir, side=args.dask_side,
                                       peer_side=args.dask_peer_side,
                                       log=_stderr if args.verbose else _silent)
    text = dask_bench.format_dask_bench(report)
    print(text)
    os.makedirs(report_dir, exist_ok=True)
    path = os.path.join(report_dir, "dask.txt")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
    print(f"wrote {path}")
    return 0


def _note_blas() -> None:
    """Before timing: say when OpenBLAS runs kernels below the CPU's (:mod:`fftconv.blas`)."""
    from ..blas import kernel_note

    if note := kernel_note("bench"):
        print(note, file=sys.stderr)


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _silent(line: str) -> None:
    pass


def _sweep(args, bench) -> int:
    from ..optional import require

    if not args.no_figure:                      # fail before the sweep, not after it
        require("matplotlib.figure", "plots", "fftconv bench (its crossover figure; "
                "--no-figure skips it)")
    _note_blas()
    grid = args.kernels or args.sizes or args.channels
    if grid:
        layers = bench.grid_layers(args.kernels or [1, 3, 7, 15, 31],
                                   args.sizes or [8, 32, 128, 512],
                                   args.channels or [1, 16, 128], batch=args.batch)
        ratio = args.max_estimate_ratio or 30.0
    else:
        layers, ratio = bench.SWEEP_LAYERS, args.max_estimate_ratio
    common = dict(dtype=args.dtype, repeats=args.repeats, threads=args.threads,
                  verbose=args.verbose)
    rows = bench.run_sweep(layers, autotune_check=not args.no_autotune_check,
                           max_estimate_ratio=ratio, **common)
    print(bench.format_sweep(rows))
    os.makedirs(args.out, exist_ok=True)
    curves = []
    if not args.no_figure:
        for family in bench.CROSSOVER_FAMILIES:
            curves.append((family, bench.run_sweep(bench.crossover_layers(family),
                                                   autotune_check=False, **common)))
        path = os.path.join(args.out, "crossover.png")
        bench.crossover_figure([(f"N={n}, C_in=C_out={c}, {h}x{h} image", series)
                                for (n, c, h), series in curves]).savefig(path, dpi=110)
        print(f"wrote {path}")
    path = os.path.join(args.out, "sweep.json")
    bench.write_sweep(path, rows, curves, dtype=args.dtype, threads=args.threads)
    print(f"wrote {path}")
    return 0
