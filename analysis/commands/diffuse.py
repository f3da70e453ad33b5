"""``fftconv diffuse``: a kernel read as a propagator (softmax), and diffusion by it."""

from __future__ import annotations

import argparse

from fftconv.commands.options import as_option_error, int_list, int_range, out_option

DEFAULT_KERNELS = ("gaussian", "laplacian", "sobel")


def _temperature(text: str):
    """``'auto'`` -> None (each kernel's :func:`analysis.diffusion.auto_temperature`),
    else a finite number > 0."""
    if text.strip().lower() == "auto":
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected 'auto' or a finite number > 0; got {text!r}")
    return value


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "diffuse", help="read kernels as diffusion: softmax propagators, diffused images",
        description="For each filter: the kernel, its softmax propagator and an image "
                    "propagated by it over several steps (diffusion.png); the stochastic "
                    "reading for the first filter, random moves converging to the "
                    "convolution as 1/sqrt(samples) (stochastic.png); and each "
                    "propagator's drift and spread (propagators.json). Each SOURCE is a "
                    "checkpoint .npz written by 'fftconv train' or a named kernel "
                    "(sobel, laplacian, gaussian, gabor, box, sharpen; parameters as in "
                    "'gabor:theta=30').")
    p.add_argument("sources", nargs="*", metavar="KERNEL-NAME|CHECKPOINT",
                   help="checkpoints or named kernels (default: "
                        + ", ".join(DEFAULT_KERNELS) + ")")
    out_option(p, "diffuse", "the figures and propagators.json")
    p.add_argument("--layer", default=None,
                   help="conv layer of a checkpoint, e.g. c1 (default: the first)")
    p.add_argument("--temperature", type=_temperature, default=None, metavar="auto|T",
                   help="softmax temperature T > 0 of the propagator p = softmax(w / T); "
                        "default 'auto': for each kernel, half the standard deviation of "
                        "its entries, so the propagator does not depend on the kernel's "
                        "scale (a trained layer's weights of a few tenths are nearly "
                        "uniform at T = 1)")
    p.add_argument("--steps", type=int_list(0), default=[0, 1, 2, 4, 8, 16],
                   help="propagation steps to show")
    p.add_argument("--image", default=None, metavar="FILE",
                   help="grey image to diffuse, .npy or .png (default: a built-in test card)")
    p.add_argument("--image-size", type=int_range(16), default=64,
                   help="side of the built-in test card")
    p.add_argument("--samples", type=int_list(1), default=[1, 10, 100, 1000, 10000],
                   help="sample counts for the stochastic figure")
    p.add_argument("--seed", type=int_range(0), default=0, help="seed of the stochastic moves")
    p.add_argument("--max-filters", type=int_range(1), default=8, metavar="N",
                   help="show at most the first N filters (the JSON lists all)")
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from analysis import diffusion, files, images, plots

    try:
        pairs = files.load_kernels(args.sources or list(DEFAULT_KERNELS), layer=args.layer)
    except (OSError, ValueError) as exc:        # name the argument the user typed
        raise as_option_error(exc, "--layer" if "parameter 'layer'" in str(exc)
                              else "CHECKPOINT|KERNEL-NAME") from None
    try:
        image = files.load_image(args.image) if args.image else images.demo_image(
            args.image_size)
    except (OSError, ValueError) as exc:
        raise as_option_error(exc, "--image") from None
    labels = [label for label, _ in pairs]
    weights = [k for _, k in pairs]
    # Every source is a conv2d weight (a cross-correlation), so the propagator, in
    # convolution form, is the softmax of the kernel rotated by 180 degrees.
    props = [diffusion.softmax_kernel(k[::-1, ::-1], args.temperature) for k in weights]
    temperatures = [diffusion.auto_temperature(k) if args.temperature is None
                    else args.temperature for k in weights]
    rows = []
    for label, p, t in zip(labels, props, temperatures):
        m = diffusion.propagator_moments(p)
        c = p[p.shape[0] // 2, p.shape[1] // 2]
        rows.append({"label": label, "temperature": t, "centre_probability": c,
                     "drift_xy": m.mean,
                     "covariance_xy": m.covariance,
                     "diffusion_coefficient": float(m.covariance.trace()) / 4,
                     "propagator": p[::-1, ::-1]})
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    n = args.max_filters
    written = [
        files.save_figure(plots.diffusion_figure(weights[:n], image, args.steps,
                                                 args.temperature, labels[:n]),
                          out / "diffusion.png"),
        files.save_figure(plots.stochastic_figure(image, props[0], args.samples, args.seed),
                          out / "stochastic.png"),
        files.write_json({"sources": args.sources or list(DEFAULT_KERNELS),
                          "layer": args.layer,
                          "temperature": "auto" if args.temperature is None
                          else args.temperature,
                          "seed": args.seed, "filters": rows}, out / "propagators.json"),
    ]
    width = max(len(label) for label in labels)
    print(f"{'filter':<{width}}  {'T':>7}  {'centre p':>8}  {'drift x':>7}  {'drift y':>7}  "
          f"{'D/step':>7}")
    for row in rows:
        dx, dy = row["drift_xy"]
        print(f"{row['label']:<{width}}  {row['temperature']:>7.4g}  "
              f"{row['centre_probability']:>8.4f}  {dx:>7.3f}  "
              f"{dy:>7.3f}  {row['diffusion_coefficient']:>7.3f}")
    if len(labels) > n:
        print(f"(figure shows the first {n} of {len(labels)} filters; see --max-filters)")
    for path in written:
        print(f"wrote {path}")
    return 0
