"""``fftconv filter``: convolve (or correlate) an image larger than memory, zarr out."""

from __future__ import annotations

import os

from .options import int_range

FUNC = "fftconv filter"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "filter", help="convolve a zarr or .npy image with a kernel, writing zarr",
        description="Convolve IMAGE (a zarr array, or a .npy file opened as a memmap) "
                    "with KERNEL (.npy) chunk by chunk on dask (fftconv.convolve, exact "
                    "overlap between chunks) and write the result to OUT as a zarr array, "
                    "with a progress bar. Neither the image nor the result is ever "
                    "whole in memory.")
    p.add_argument("image", metavar="IMAGE", help="zarr array (directory) or .npy file")
    p.add_argument("kernel", metavar="KERNEL", help="kernel (.npy), as many axes as IMAGE")
    p.add_argument("out", metavar="OUT", help="zarr array to write (must not exist)")
    p.add_argument("--mode", choices=("full", "same", "valid"), default="same",
                   help="output size, as scipy.signal.convolve's")
    p.add_argument("--correlate", action="store_true",
                   help="correlate (do not flip the kernel)")
    p.add_argument("--method", choices=("auto", "direct", "fft"), default="auto",
                   help="per chunk: direct sums, FFT, or whichever is cheaper")
    p.add_argument("--chunks", type=int_range(1), default=2048,
                   help="chunk side for a .npy image (a zarr image keeps its chunks)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args) -> int:
    from .. import convolve, correlate
    from ..dask import open_array, write_zarr
    from ..errors import bad_value

    if os.path.exists(args.out):
        raise bad_value(FUNC, "OUT", args.out, "a path that does not exist yet")
    image = open_array(FUNC, "IMAGE", args.image, chunks=args.chunks)
    kernel = open_array(FUNC, "KERNEL", args.kernel).compute()
    op = correlate if args.correlate else convolve
    result = op(image, kernel, mode=args.mode, method=args.method)
    print(f"{FUNC}: {args.image} {image.shape} {image.dtype} "
          f"{'correlated' if args.correlate else 'convolved'} with {args.kernel} "
          f"{kernel.shape} ({args.mode}) -> {args.out} {result.shape} {result.dtype}, "
          f"{result.npartitions} tasks", flush=True)
    write_zarr(result, args.out, progress=not args.no_progress)
    print(f"wrote {args.out}")
    return 0
