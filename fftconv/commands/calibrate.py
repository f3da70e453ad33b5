"""``fftconv calibrate``: fit the cost model's machine constants on this machine."""

from __future__ import annotations

import sys

from .options import int_range, verbose_option


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "calibrate", help="fit the backend cost model to this machine",
        description="Time every backend on a design set of layers, fit the cost model's "
                    "constants by non-negative least squares on relative error, and store "
                    "them in the user cache directory for 'auto' to use. Remembered "
                    "autotune winners are cleared (they may predate the calibration).")
    p.add_argument("--dtype", action="append", choices=("float32", "float64"),
                   help="precision to calibrate; repeatable (default: both)")
    p.add_argument("--repeats", type=int_range(1), default=3,
                   help="timed runs per backend and layer (median)")
    p.add_argument("--dry-run", action="store_true", help="fit and print, do not store")
    verbose_option(p, "the timings (one step per layer and backend)")
    p.set_defaults(func=run)


def run(args) -> int:
    import json

    from .. import select
    from ..blas import kernel_note
    from ..optional import progress

    if note := kernel_note("calibrate"):
        print(note, file=sys.stderr)

    dtypes = tuple(args.dtype or ("float32", "float64"))
    total = select.calibration_steps(dtypes)
    with progress(total, desc="calibrate", unit="timing", verbose=args.verbose) as bar:
        constants, report = select.calibrate(dtypes, repeats=args.repeats,
                                             progress=bar.update, save=not args.dry_run)
    for key, quality in sorted(report.items()):
        print(f"{key:16s} median relative error {quality['median_rel_error']:.2f}, "
              f"worst {quality['max_rel_error']:.2f}")
    print(json.dumps(constants, indent=1, sort_keys=True))
    print("stored in " + (select.constants_path() if not args.dry_run else "(dry run)"))
    return 0
