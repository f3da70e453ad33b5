"""Write ``fftconv/nn/digits.npz``, the 8×8 digits that :func:`fftconv.nn.load_digits` loads.

A maintainer tool, not part of the install: it reads the UCI optical-recognition
digits (Alpaydin & Kaynak 1998, 1,797 images) from scikit-learn, which is *not* a
dependency of fftconv (``pip install scikit-learn`` to run this; the ``test``
extra has it, for the test that checks the shipped file against scikit-learn's).
Run it from the repository root::

    python tools/make_digits.py            # writes fftconv/nn/digits.npz
    python tools/make_digits.py --check    # exit 1 if the shipped file differs

The file holds two arrays, written with ``numpy.savez_compressed`` (no pickled
objects, so it loads with ``allow_pickle=False``):

``images``
    uint8, shape (1797, 8, 8), intensities 0–16 as in the original data;
``labels``
    uint8, shape (1797,), digits 0–9.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "fftconv" / "nn" / "digits.npz"


def digits_arrays() -> dict:
    """``{'images': uint8 (1797, 8, 8), 'labels': uint8 (1797,)}`` from scikit-learn."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.asarray(bunch.images)
    labels = np.asarray(bunch.target)
    # The originals are integers 0..16 stored as float64: uint8 is exact.
    if not (np.array_equal(images, np.round(images)) and images.min() >= 0
            and images.max() <= 16 and labels.min() >= 0 and labels.max() <= 9):
        raise SystemExit("make_digits: scikit-learn's digits are not integers 0-16 with "
                         "labels 0-9; refusing to write a lossy file")
    return {"images": images.astype(np.uint8), "labels": labels.astype(np.uint8)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true",
                        help="compare with the existing file instead of writing it")
    args = parser.parse_args(argv)
    arrays = digits_arrays()
    if args.check:
        with np.load(args.out, allow_pickle=False) as shipped:
            same = sorted(shipped.files) == sorted(arrays) and all(
                shipped[k].dtype == v.dtype and np.array_equal(shipped[k], v)
                for k, v in arrays.items())
        print(f"{args.out}: {'matches' if same else 'DIFFERS from'} scikit-learn's digits")
        return 0 if same else 1
    np.savez_compressed(args.out, **arrays)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes): "
          + ", ".join(f"{k} {v.dtype} {v.shape}" for k, v in arrays.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
