"""
Filters stored as their spectrum
================================

Rippel, Snoek & Adams (2015, §4) store a CNN's filters as their DFT and report
that the same optimizer then converges faster. :class:`fftconv.nn.SpectralConv2d`
is that layer (same forward as :class:`fftconv.nn.Conv2d`; the trainable
parameter is the half spectrum, kept Hermitian so the filters stay real), and
``lenet5_modern(parametrization='spectral')`` builds LeNet-5 with it from the same
seeds as the spatial network.

Training the study takes minutes, so this page draws the runs recorded by::

    python tools/spectral_study.py --out docs/data/spectral_study.json \\
        --mnist ../shared/data/mnist
    python tools/spectral_study.py --out docs/data/spectral_study.json \\
        --mnist ../shared/data/mnist --lrs 1e-2 --update

(Adam, four learning rates, three seeds, both parametrizations; the digits for
four epochs and the MNIST test set, split 8,000 / 2,000, for two). The last block
re-runs one step of the comparison live, to show that the two networks start from
the same filters. :doc:`/frequency_learning` discusses the result.
"""

import json
import pathlib

import numpy as np

from analysis import plots
from analysis.frequency_learning import parametrization_study
from fftconv import nn

try:
    here = pathlib.Path(__file__).resolve().parent
except NameError:                                   # run by Sphinx-Gallery
    here = pathlib.Path.cwd()
path = next(p / "data" / "spectral_study.json" for p in (here.parent, here, here / "docs")
            if (p / "data" / "spectral_study.json").exists())
study = json.loads(path.read_text(encoding="utf-8"))

# %%
# Final losses and accuracies
# ---------------------------

for dataset, record in study["datasets"].items():
    print(f"{dataset}: {record['train']} training / {record['validation']} validation images, "
          f"{record['epochs']} epochs")
    for kind in ("spatial", "spectral"):
        for lr in study["learning_rates"]:
            runs = [r for r in record["runs"] if r["parametrization"] == kind and r["lr"] == lr]
            final = [np.mean(r["batch_loss"][-20:]) for r in runs]
            acc = [r["val_accuracy"][-1] for r in runs]
            print(f"  {kind:8s} lr {lr:<7g} final loss {np.mean(final):.4f} "
                  f"[{min(final):.4f}, {max(final):.4f}]   val. accuracy {np.mean(acc):.4f}")

# %%
# Loss curves at each parametrization's best learning rate
# --------------------------------------------------------

figures = [plots.parametrization_figure(study, dataset) for dataset in study["datasets"]]
fig_digits = figures[0]
fig_mnist = figures[-1] if len(figures) > 1 else None

# %%
# The same start, live
# --------------------
# One short run of each on 128 digits: the first step's losses agree (same
# filters, same batches); from there the parametrizations take different steps.

x, y = nn.load_digits()
runs = parametrization_study(x[:128], y[:128], (x[128:256], y[128:256]), seeds=(0,),
                             learning_rates=(1e-3,), epochs=1)
for run in runs:
    print(f"{run.parametrization:8s} first loss {run.batch_loss[0]:.5f}  "
          f"last loss {run.batch_loss[-1]:.5f}")
