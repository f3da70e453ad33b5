"""
Getting started: one call, every backend
========================================

:func:`fftconv.conv2d` is the deep-learning layer op: an ``(N, C_in, H, W)`` batch,
``(C_out, C_in, kh, kw)`` filters, stride, padding, dilation and groups exactly as
``torch.nn.functional.conv2d``. Here four classic filters run over eight of the
embedded digits, on every registered backend, and the results agree.
"""

import numpy as np
from matplotlib.figure import Figure

import fftconv
from analysis import kernels
from fftconv import nn, style
from fftconv.testing import assert_conv_close

# %%
# A batch and a filter bank
# -------------------------
# Eight 32×32 digits, ``(8, 1, 32, 32)``, and four filters stacked into one
# ``(4, 1, 5, 5)`` weight (smaller kernels are centred in 5×5).

x, labels = nn.load_digits(dtype=np.float64)
x = x[:8]
names = ["sobel:direction=x", "sobel:direction=y", "laplacian", "gaussian:sigma=1.0"]
titles = ["Sobel x", "Sobel y", "Laplacian", "Gaussian σ=1"]
w = kernels.stack_kernels([kernels.named_kernel(n) for n in names])[:, None]
print("x", x.shape, "w", w.shape)

# %%
# One call, the backend chosen for you
# ------------------------------------
# With no ``backend=`` argument, ``'auto'`` picks the cheapest backend for this
# geometry by a fitted cost model, and :func:`fftconv.choose_backend` says why.

y = fftconv.conv2d(x, w, padding="same")
spec = fftconv.make_spec("example", x.shape, w.shape, padding="same")
print("y", y.shape)
print(fftconv.choose_backend(spec).reason)

# %%
# Every backend computes the same thing
# -------------------------------------
# The tolerances come from one table in :mod:`fftconv.testing`, keyed by dtype.

for name in fftconv.available_backends():
    assert_conv_close(fftconv.conv2d(x, w, padding="same", backend=name), y)
    print(f"{name:8s} agrees")

with fftconv.set_backend("im2col"):          # a scoped choice for a whole block
    assert_conv_close(fftconv.conv2d(x, w, padding="same"), y)

# %%
# Gradients, as autograd returns them
# -----------------------------------

dy = np.ones_like(y)
dx, dw, db = fftconv.conv2d_backward(dy, x, w, padding="same")
print("dx", dx.shape, "dw", dw.shape, "db", db)

# %%
# The feature maps
# ----------------

# Digits in grey (intensity 0 to 1); each filter's maps in the signed map on one
# symmetric scale per row, so the eight responses to a filter compare. The scale
# ends at the 99th percentile of |response|: the strokes that touch the image's
# top and bottom meet the zero padding there and give the largest responses,
# which would otherwise wash out the rest (they saturate instead).
fig = Figure(figsize=(10, 6.4), layout="constrained")
axes = fig.subplots(5, 8)
for n in range(8):
    digit = axes[0, n].imshow(x[n, 0], cmap=style.IMAGE_CMAP, vmin=0, vmax=1)
    axes[0, n].set_title(f"digit {labels[n]}", fontsize=8)
fig.colorbar(digit, ax=axes[0], fraction=0.02, pad=0.01, aspect=8).set_label(
    "intensity", fontsize=8)
for o, title in enumerate(titles):
    lim = float(np.percentile(np.abs(y[:, o]), 99))
    for n in range(8):
        shown = axes[o + 1, n].imshow(y[n, o], cmap=style.SIGNED_CMAP, vmin=-lim, vmax=lim)
    bar = fig.colorbar(shown, ax=axes[o + 1], fraction=0.02, pad=0.01, aspect=8)
    bar.set_label("response\n(intensity)", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    axes[o + 1, 0].set_ylabel(title, fontsize=8)
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("conv2d(x, w, padding='same'): digits and four feature maps")
