"""Run the spectral-parametrization study (Rippel, Snoek & Adams 2015, §4) and save it.

A research script, not part of ``make test``: it trains LeNet-5-sized networks
with spatially and spectrally stored filters from the same seeds, over a small
learning-rate grid, on the embedded digits and (when the IDX files are given) on
MNIST, and writes every run's per-step losses and per-epoch validation accuracy
to a JSON file that ``docs/examples/plot_spectral_parametrization.py`` and the
docs page "learning in the frequency domain" read::

    python tools/spectral_study.py --out docs/data/spectral_study.json \\
        [--mnist ../shared/data/mnist] [--epochs 4] [--seeds 0 1 2] [--lrs 3e-4 1e-3 3e-3]

``--update`` adds the runs of more learning rates to an existing file (the same
datasets, seeds and epochs), for extending the grid when a best rate lies at its
edge.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import platform
import sys
import time

import numpy as np

from analysis.frequency_learning import parametrization_study
from fftconv import nn
from fftconv.jsonfiles import write_atomic


def _dataset(name, mnist_dir, rng):
    if name == "digits":
        x, y = nn.load_digits()
    else:
        x, y = nn.load_mnist(mnist_dir, split="t10k")
    order = rng.permutation(len(x))
    x, y = x[order], y[order]
    cut = int(0.8 * len(x))
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="JSON file to write")
    parser.add_argument("--mnist", help="directory with MNIST t10k IDX files")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--mnist-epochs", type=int, default=2)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--lrs", type=float, nargs="+", default=[3e-4, 1e-3, 3e-3])
    parser.add_argument("--model", default="lenet5_modern")
    parser.add_argument("--update", action="store_true",
                        help="add these learning rates' runs to the existing --out file")
    args = parser.parse_args(argv)
    datasets = ["digits"] + (["mnist"] if args.mnist else [])
    result = {"model": args.model, "optimizer": "adam", "seeds": args.seeds,
              "learning_rates": args.lrs, "machine": platform.processor() or platform.machine(),
              "date": time.strftime("%Y-%m-%d"), "datasets": {}}
    if args.update:
        result = json.loads(pathlib.Path(args.out).read_text(encoding="utf-8"))
        if result["seeds"] != args.seeds or result["model"] != args.model:
            parser.error("--update needs the seeds and model of the existing file")
        result["learning_rates"] = sorted(set(result["learning_rates"]) | set(args.lrs))
    for name in datasets:
        (xt, yt), val = _dataset(name, args.mnist, np.random.default_rng(0))
        epochs = args.epochs if name == "digits" else args.mnist_epochs

        def report(run, name=name):
            print(f"{name} {run.parametrization:8s} lr={run.lr:g} seed={run.seed} "
                  f"loss={run.final_loss():.4f} val_acc={run.val_accuracy[-1]:.4f} "
                  f"{run.seconds:.0f} s", flush=True)

        runs = parametrization_study(xt, yt, val, seeds=args.seeds, learning_rates=args.lrs,
                                     epochs=epochs, model=args.model, on_run=report)
        record = result["datasets"].setdefault(name, {"train": len(xt), "validation": len(val[0]),
                                                      "epochs": epochs, "runs": []})
        if (record["train"], record["epochs"]) != (len(xt), epochs):
            parser.error(f"--update: {name} was run with other sizes or epochs")
        record["runs"] += [{"parametrization": r.parametrization, "lr": r.lr, "seed": r.seed,
                            "batch_loss": [round(v, 6) for v in r.batch_loss],
                            "val_accuracy": r.val_accuracy, "seconds": r.seconds}
                           for r in runs]
        write_atomic(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
