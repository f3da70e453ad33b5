"""
Two conventions: cross-correlation and true convolution
=======================================================

The field uses two operations under one name. A deep-learning *convolution layer*
slides the kernel over the input without flipping it — a cross-correlation —
while signal processing's *convolution* flips it first (``rot180`` in 2-D).
fftconv names both plainly: :func:`fftconv.conv2d` is the layer op, and
:func:`fftconv.convolve` / :func:`fftconv.correlate` are the signal ops with
``scipy.signal`` semantics.

The clearest way to see the difference is the *impulse response*: feed a single
bright pixel through each and look at what comes out.
"""

import numpy as np
import scipy.signal
from matplotlib.figure import Figure

import fftconv
from fftconv import style

# %%
# An asymmetric kernel and an impulse
# -----------------------------------
# The kernel is an "L" with a heavy corner, so any flip is visible.

k = np.array([[3.0, 0.0, 0.0],
              [2.0, 0.0, 0.0],
              [1.0, 1.0, 1.0]])
impulse = np.zeros((7, 7))
impulse[3, 3] = 1.0

# %%
# What each operation returns
# ---------------------------
# True convolution reproduces the kernel around the impulse (the kernel *is* the
# impulse response); cross-correlation returns it rotated by 180°.

conv = fftconv.convolve(impulse, k, mode="same")
corr = fftconv.correlate(impulse, k, mode="same")
layer = fftconv.conv2d(impulse[None, None], k[None, None], padding="same")[0, 0]
print("convolve reproduces k:      ", np.allclose(conv[2:5, 2:5], k))
print("correlate gives rot180(k):  ", np.allclose(corr[2:5, 2:5], np.rot90(k, 2)))
print("conv2d is the correlation:  ", np.allclose(layer, corr))

# %%
# The identities, on random data
# ------------------------------
# ``conv2d(x, w) == correlate(x, w, 'valid') == convolve(x, rot180(w), 'valid')``
# for one channel, and the signal ops match ``scipy.signal`` exactly.

rng = np.random.default_rng(0)
x, w = rng.standard_normal((12, 12)), rng.standard_normal((3, 4))
a = fftconv.conv2d(x[None, None], w[None, None])[0, 0]
b = fftconv.correlate(x, w, mode="valid")
c = fftconv.convolve(x, w[::-1, ::-1], mode="valid")
print(np.allclose(a, b), np.allclose(b, c),
      np.allclose(fftconv.convolve(x, w), scipy.signal.convolve(x, w)))

# %%
# Side by side
# ------------

fig = Figure(figsize=(11, 2.9), layout="constrained")
panels = [(k, "kernel k"), (impulse, "input: an impulse"),
          (conv, "convolve(x, k)\n= k"), (corr, "correlate(x, k)\n= rot180(k)"),
          (layer, "conv2d(x, k)\n(the layer op)")]
axes = fig.subplots(1, len(panels))
for ax, (image, title) in zip(axes, panels):
    shown = ax.imshow(image, cmap=style.MAGNITUDE_CMAP, vmin=0, vmax=3)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
# one scale for all five panels: the kernel's values move, they do not change
fig.colorbar(shown, ax=axes, fraction=0.02, pad=0.02, label="value (kernel units)")
fig.suptitle("The impulse response of each operation")
