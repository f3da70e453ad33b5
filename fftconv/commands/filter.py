"""``fftconv filter``: convolve (or correlate) an image larger than memory, zarr out."""

from __future__ import annotations

import argparse

from .options import (UsageError, check_new_path, default_out, deprecated, int_range,
                      out_option, verbose_option)

FUNC = "fftconv filter"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "filter", help="convolve a zarr or .npy image with a kernel, writing zarr",
        description="Convolve IMAGE (a zarr array, or a .npy file opened as a memmap) "
                    "with KERNEL (.npy) chunk by chunk on dask (fftconv.convolve, exact "
                    "overlap between chunks) and write the result to --out as a zarr "
                    "array, with a progress bar. Neither the image nor the result is ever "
                    "whole in memory.")
    p.add_argument("image", metavar="IMAGE", help="zarr array (directory) or .npy file")
    p.add_argument("kernel", metavar="KERNEL", help="kernel (.npy), as many axes as IMAGE")
    # the former third positional OUT: still works, with a note to use --out
    p.add_argument("old_out", nargs="?", metavar="OUT", help=argparse.SUPPRESS)
    p.add_argument("--mode", choices=("full", "same", "valid"), default="same",
                   help="output size, as scipy.signal.convolve's")
    p.add_argument("--correlate", action="store_true",
                   help="correlate (do not flip the kernel)")
    p.add_argument("--method", choices=("auto", "direct", "fft"), default="auto",
                   help="per chunk: direct sums, FFT, or whichever is cheaper")
    p.add_argument("--chunks", type=int_range(1), default=2048,
                   help="chunk side for a .npy image (a zarr image keeps its chunks)")
    out_option(p, "filter", "the result", zarr=True)
    verbose_option(p, "the computation", dask=True)
    p.set_defaults(func=run)


def run(args) -> int:
    from .. import convolve, correlate
    from ..dask import open_array, write_zarr
    from ..text import plural

    if args.old_out is not None:
        if args.out != default_out("filter", ".zarr"):
            raise UsageError(f"OUT {args.old_out!r} and --out {args.out!r} both given; "
                             "give --out only")
        deprecated("filter", "the positional OUT", "--out OUT")
        args.out = args.old_out
    check_new_path("--out", args.out)
    image = open_array(FUNC, "IMAGE", args.image, chunks=args.chunks)
    kernel = open_array(FUNC, "KERNEL", args.kernel).compute()
    op = correlate if args.correlate else convolve
    result = op(image, kernel, mode=args.mode, method=args.method)
    print(f"{FUNC}: {args.image} {image.shape} {image.dtype} "
          f"{'correlated' if args.correlate else 'convolved'} with {args.kernel} "
          f"{kernel.shape} ({args.mode}) -> {args.out} {result.shape} {result.dtype}, "
          f"{plural(result.npartitions, 'task')}", flush=True)
    write_zarr(result, args.out, progress=args.verbose > 0)
    print(f"wrote {args.out}")
    return 0
