"""``fftconv spectrum``: filters in the frequency domain, as figures and a descriptor table."""

from __future__ import annotations

from fftconv.commands.options import as_option_error, int_range, out_option

DEFAULT_KERNELS = ("sobel", "laplacian", "gaussian", "gabor", "box", "sharpen")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "spectrum", help="frequency analysis of a trained layer's filters or of named kernels",
        description="Write figures of filters beside their magnitude spectra, orientation "
                    "roses and radial power profiles, and a JSON table of descriptors "
                    "(DC gain, dominant orientation and selectivity, centroid frequency, "
                    "pass type, spectral flatness). Each SOURCE is a checkpoint .npz "
                    "written by 'fftconv train' (every filter of one conv layer) or a named "
                    "kernel: " + ", ".join(DEFAULT_KERNELS) + ", optionally with "
                    "parameters as in 'gabor:theta=30,wavelength=6'.")
    p.add_argument("sources", nargs="*", metavar="CHECKPOINT|KERNEL-NAME",
                   help="checkpoints or named kernels (default: all named kernels)")
    out_option(p, "spectrum", "the figures and descriptors.json")
    p.add_argument("--layer", default=None,
                   help="conv layer of a checkpoint, e.g. c1 or c3.weight (default: the first)")
    p.add_argument("--size", type=int_range(1), default=64,
                   help="DFT size for the spectra, at least the kernel's size")
    p.add_argument("--bins", type=int_range(1), default=36,
                   help="orientation bins over 180 degrees")
    p.add_argument("--max-filters", type=int_range(1), default=32, metavar="N",
                   help="plot at most the first N filters (the table lists all)")
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    import numpy as np

    from analysis import files, kernels, plots, spectrum

    try:
        pairs = files.load_kernels(args.sources or list(DEFAULT_KERNELS), layer=args.layer)
    except (OSError, ValueError) as exc:        # name the argument the user typed
        raise as_option_error(exc, "--layer" if "parameter 'layer'" in str(exc)
                              else "CHECKPOINT|KERNEL-NAME") from None
    labels = [label for label, _ in pairs]
    w = kernels.stack_kernels([k for _, k in pairs])
    try:
        table = spectrum.filter_descriptors(w, args.size)
    except ValueError as exc:
        raise as_option_error(exc, "--size") from None
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    shown = slice(0, args.max_filters)
    written = [
        files.save_figure(plots.filter_spectra_figure(w[shown], args.size, labels[shown]),
                          out / "filters.png"),
        files.save_figure(plots.orientation_rose_figure(w[shown], args.size, args.bins,
                                                        labels[shown]),
                          out / "orientation_rose.png"),
        files.save_figure(plots.radial_profile_figure(w[shown], args.size, labels[shown]),
                          out / "radial_profiles.png"),
        files.write_json({"sources": args.sources or list(DEFAULT_KERNELS),
                          "layer": args.layer, "size": args.size,
                          "filters": [{"label": label, **{k: v[n] for k, v in table.items()}}
                                      for n, label in enumerate(labels)]},
                         out / "descriptors.json"),
    ]
    print(spectrum.format_descriptor_table(labels, table))
    if len(labels) > len(labels[shown]):
        print(f"(figures show the first {len(labels[shown])} of {len(labels)} filters; "
              "see --max-filters)")
    for path in written:
        print(f"wrote {path}")
    return 0
