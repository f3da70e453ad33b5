"""``fftconv train``: train LeNet-5 (or a variant) on digits or MNIST, on any backend."""

from __future__ import annotations

import argparse
import os
import sys

from .bench import known_backend
from .options import (as_option_error, default_out, float_range, int_range, out_option,
                      parsed_by, verbose_option)

MODEL_NAMES = ("lenet5", "lenet5_modern")
DEFAULT_OUT = default_out("train")


def _test_size(text: str):
    """``'2000'`` → 2000 examples, ``'0.2'`` → a fraction in (0, 1)."""
    try:
        value = int(text) if text.strip().isdigit() else float(text)
    except ValueError:
        value = None
    if value is None or (isinstance(value, int) and value < 1) or (
            isinstance(value, float) and not 0 < value < 1):
        raise argparse.ArgumentTypeError(
            f"must be a fraction in (0, 1) or a count of examples >= 1; got {text!r}")
    return value


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "train", help="train LeNet-5 on digits or MNIST with any backend",
        description="Train a small CNN with fftconv's numpy trainer; print loss, accuracy "
                    "and seconds per epoch; save the checkpoint (.npz), the history "
                    "(JSON), a training-curve PNG and a PNG of the first-layer filters "
                    "(the PNGs need matplotlib, the 'plots' extra; without it they are "
                    "skipped, with a note). With --compare-torch, time one epoch per backend and in PyTorch "
                    "instead.")
    p.add_argument("--model", choices=MODEL_NAMES, default="lenet5", help="the network")
    p.add_argument("--data", default="digits", metavar="digits|PATH",
                   help="'digits' (the UCI 8x8 digits shipped with fftconv, resized to 32x32, "
                        "the default) "
                        "or a directory of MNIST / Fashion-MNIST IDX files (.gz or raw)")
    p.add_argument("--backend", default="auto", metavar="auto|fft|im2col|direct|winograd",
                   type=parsed_by(lambda: known_backend, "backend"),
                   help="convolution backend")
    p.add_argument("--epochs", type=int_range(1), default=15, help="passes over the data")
    p.add_argument("--batch-size", type=int_range(1), default=32, help="images per step")
    p.add_argument("--optimizer", choices=("adam", "sgd"), default="adam", help="the optimizer")
    p.add_argument("--lr", type=float_range(0, lo_open=True), default=None,
                   help="learning rate (default: 0.001 for adam, 0.05 for sgd)")
    p.add_argument("--momentum", type=float_range(0, 1, hi_open=True), default=0.9,
                   help="SGD momentum")
    p.add_argument("--weight-decay", type=float_range(0), default=0.0,
                   help="L2 weight decay")
    p.add_argument("--loss", choices=("cross_entropy", "mse"), default="cross_entropy",
                   help="the training loss")
    p.add_argument("--partial-connections", action="store_true",
                   help="lenet5: use the original C3 connection table")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                   help="precision of the data and the weights")
    p.add_argument("--seed", type=int_range(0), default=0,
                   help="initialisation, split and shuffle seed")
    p.add_argument("--test-size", type=_test_size, default=0.2,
                   help="held-out test part when the data has no separate test split: "
                        "a fraction in (0, 1) or a count")
    p.add_argument("--ordered-split", action="store_true",
                   help="hold out the *last* --test-size examples instead of a random part")
    out_option(p, "train", "the checkpoint, the history and the figures")
    p.add_argument("--compare-torch", action="store_true",
                   help="time --compare-epochs epochs on every backend and in PyTorch (CPU) "
                        "with the same batches; print median seconds per epoch; no training "
                        "outputs are saved")
    p.add_argument("--compare-epochs", type=int_range(1), default=2,
                   help="--compare-torch: epochs timed per entry (median)")
    p.add_argument("--threads", type=int_range(1), default=2,
                   help="threads for --compare-torch (BLAS/FFT and PyTorch)")
    verbose_option(p, "training (one step per epoch: loss, accuracy, time)")
    p.set_defaults(func=run)


def load_data(args):
    """``(x_train, y_train, x_test, y_test, description)`` for ``args.data``."""
    import numpy as np

    from .. import nn

    dtype = np.dtype(args.dtype)
    if args.data == "digits":
        x, y = nn.load_digits(dtype=dtype)
        source = "digits (UCI 8x8, resized to 32x32)"
    else:
        try:
            splits = nn.idx_splits(args.data) if os.path.isdir(args.data) else {}
            if "train" in splits and "t10k" in splits:
                x_train, y_train = nn.load_mnist(args.data, "train", dtype=dtype)
                x_test, y_test = nn.load_mnist(args.data, "t10k", dtype=dtype)
                return x_train, y_train, x_test, y_test, f"{args.data} (train / t10k)"
            x, y = nn.load_mnist(args.data, dtype=dtype)
        except (OSError, ValueError) as exc:
            raise as_option_error(exc, "--data") from None
        source = f"{args.data} ({len(x)} images)"
    x_train, x_test, y_train, y_test = nn.train_test_split(
        x, y, args.test_size, shuffle=not args.ordered_split, seed=args.seed)
    held = (f"the last {len(x_test)}" if args.ordered_split else
            f"{len(x_test)} at random (--seed {args.seed})")
    return x_train, y_train, x_test, y_test, f"{source}, {held} held out for test"


def _model_kwargs(args) -> dict:
    kwargs = {"dtype": args.dtype}
    if args.model == "lenet5":
        kwargs["partial_connections"] = args.partial_connections
    return kwargs


def run(args) -> int:
    import json

    from .. import nn
    from ..nn.checkpoint import atomic_write
    from ..nn.plots import filters_figure, training_curves_figure
    from ..optional import available
    from ..text import plural

    plots = available("matplotlib")
    if not plots:
        print("fftconv train: matplotlib is not installed, so the two PNG figures are "
              "skipped (pip install 'fftconv[plots]')", file=sys.stderr)
    x_train, y_train, x_test, y_test, source = load_data(args)
    print(f"fftconv train: {args.model} on {source}: {len(x_train)} train / "
          f"{len(x_test)} test images {x_train.shape[1:]}, {args.dtype}")

    if args.compare_torch:
        backends = None if args.backend == "auto" else [args.backend]
        print(f"timing {plural(args.compare_epochs, 'epoch')} per entry, batch size "
              f"{args.batch_size}, {plural(args.threads, 'thread')} ...", file=sys.stderr,
              flush=True)
        try:
            rows = nn.compare_epoch_times(
                x_train, y_train, args.model, backends=backends, batch_size=args.batch_size,
                epochs=args.compare_epochs, threads=args.threads, seed=args.seed,
                lr=args.lr or 1e-3, model_kwargs=_model_kwargs(args),
                report=lambda row: args.verbose and print(
                    f"  {row['name']}: {row['median']:.3f} s/epoch", file=sys.stderr,
                    flush=True))
        except ImportError as exc:
            print(f"fftconv train: error: {exc}", file=sys.stderr)
            return 1
        print(nn.format_comparison(rows, args.batch_size, args.threads))
        return 0

    model = nn.build_model(args.model, seed=args.seed, **_model_kwargs(args))
    if args.optimizer == "adam":
        optimizer = nn.Adam(model, lr=args.lr or 1e-3, weight_decay=args.weight_decay)
    else:
        optimizer = nn.SGD(model, lr=args.lr or 0.05, momentum=args.momentum,
                           weight_decay=args.weight_decay)
    print(f"{model.num_parameters():,} parameters; backend {args.backend}; {optimizer}; "
          f"batch size {args.batch_size}")

    # one line (or bar) per epoch on standard error: loss, accuracy, test part, time
    history = nn.fit(model, x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
                     validation_data=(x_test, y_test), seed=args.seed, optimizer=optimizer,
                     loss=args.loss, backend=args.backend, verbose=args.verbose)
    scores = nn.evaluate(model, x_test, y_test, loss=args.loss, backend=args.backend)
    correct = round(scores["accuracy"] * len(x_test))
    total_s = sum(history.seconds)
    print(f"test accuracy {100 * scores['accuracy']:.2f}% ({correct}/{len(x_test)}); "
          f"{total_s:.1f} s training, {total_s / history.epochs:.2f} s per epoch")

    os.makedirs(args.out, exist_ok=True)
    paths = {key: os.path.join(args.out, name) for key, name in (
        ("checkpoint", "model.npz"), ("history", "history.json"),
        ("curves", "training_curves.png"), ("filters", "filters.png"))}
    run_info = {"data": args.data, "backend": args.backend, "batch_size": args.batch_size,
                "optimizer": repr(optimizer), "loss": args.loss,
                "test_accuracy": scores["accuracy"], "test_loss": scores["loss"],
                "history": history.as_dict()}
    nn.save_checkpoint(paths["checkpoint"], model, seed=args.seed, epoch=history.epochs,
                       extra=run_info)
    with atomic_write(paths["history"]) as f:
        f.write(json.dumps(run_info, indent=2).encode())
    written = ["checkpoint", "history"]
    if plots:
        figures = {"curves": training_curves_figure(
                       history, f"{args.model} on {args.data}, backend {args.backend}"),
                   "filters": filters_figure(
                       next(p.data for p in model.parameters() if p.data.ndim == 4),
                       f"{args.model} first-layer filters")}
        for key, fig in figures.items():
            with atomic_write(paths[key]) as f:
                fig.savefig(f, format="png", dpi=110)
        written += list(figures)
    for key in written:
        print(f"wrote {paths[key]}")
    return 0
