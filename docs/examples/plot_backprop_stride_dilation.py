"""
Backpropagation through a strided, dilated convolution
======================================================

For the layer op ``y = conv2d(x, w, stride=s, dilation=d)`` (a cross-correlation),
the gradients are themselves convolutions (Bouvrie 2006, here in one channel):

* ``dx`` is the *full* convolution of the zero-stuffed output gradient with the
  dilated kernel. Stuffing inserts ``s − 1`` zeros between the entries of ``dy``,
  which turns the strided layer into a stride-1 one; convolving (not
  correlating) is the same as correlating with ``rot180(w)``;
* ``dw`` is a *valid* correlation of the input with ``dy``, the roles of stride
  and dilation swapped: ``dw = conv2d(x, dy, stride=d, dilation=s)``.

This example computes both by the formulas with the signal ops, and checks them
against :func:`fftconv.conv2d_backward` and against central finite differences.
"""

import numpy as np
from matplotlib.figure import Figure

import fftconv
from fftconv import style
from fftconv.testing import numerical_gradient

rng = np.random.default_rng(0)
s, d, k = 2, 2, 3
x = rng.standard_normal((12, 12))
w = rng.standard_normal((k, k))
y = fftconv.conv2d(x[None, None], w[None, None], stride=s, dilation=d)[0, 0]
dy = rng.standard_normal(y.shape)
print("x", x.shape, "w", w.shape, "y", y.shape, f"(stride {s}, dilation {d})")

# %%
# dx: stuff zeros into dy, convolve with the dilated kernel
# ---------------------------------------------------------

stuffed = np.zeros(((y.shape[0] - 1) * s + 1, (y.shape[1] - 1) * s + 1))
stuffed[::s, ::s] = dy
dilated = np.zeros((d * (k - 1) + 1, d * (k - 1) + 1))
dilated[::d, ::d] = w
full = fftconv.convolve(stuffed, dilated, mode="full")
dx_formula = np.zeros_like(x)                  # rows no window reached get zero
dx_formula[:full.shape[0], :full.shape[1]] = full

# the same, as a correlation with rot180 of the dilated kernel
same_by_rot180 = fftconv.correlate(np.pad(stuffed, d * (k - 1)), dilated[::-1, ::-1],
                                   mode="valid")
print("convolve(w) == correlate(rot180 w):", np.allclose(same_by_rot180, full))

# %%
# dw: correlate x with dy, stride and dilation swapped
# ----------------------------------------------------

span = (y.shape[0] - 1) * s + 1
dw_formula = fftconv.conv2d(x[None, None, :d * (k - 1) + span, :d * (k - 1) + span],
                            dy[None, None], stride=d, dilation=s)[0, 0]

# %%
# Three answers agree
# -------------------


def loss(xx, ww):
    """<conv2d(x, w), dy>: its gradients are exactly dx and dw."""
    return float(np.sum(fftconv.conv2d(xx[None, None], ww[None, None], stride=s,
                                       dilation=d)[0, 0] * dy))


dx, dw, _ = fftconv.conv2d_backward(dy[None, None], x[None, None], w[None, None],
                                    stride=s, dilation=d)
dx_numeric = numerical_gradient(lambda v: loss(v, w), x)
dw_numeric = numerical_gradient(lambda v: loss(x, v), w)
for name, a, b, c in (("dx", dx_formula, dx[0, 0], dx_numeric),
                      ("dw", dw_formula, dw[0, 0], dw_numeric)):
    print(f"{name}: formula == conv2d_backward {np.allclose(a, b)}, "
          f"== finite differences {np.allclose(a, c, atol=1e-6)}")

# %%
# The figure
# ----------

# Signed data on symmetric scales centred on 0; a formula and conv2d_backward's
# answer share one scale, so equal panels look equal. The data are random, so
# their unit is arbitrary (a.u.).
fig = Figure(figsize=(12, 5.2), layout="constrained")
axes = fig.subplots(2, 4)
panels = [(dy, f"dy {dy.shape}", "∂L/∂y"),
          (stuffed, f"stuff_{s}(dy) {stuffed.shape}", "∂L/∂y"),
          (dilated, f"w dilated by {d}", "weight"),
          (dx_formula, "dx = stuffed * dilated w (full)", "∂L/∂x"),
          (x, "x", "input"),
          (dw_formula, "dw = conv2d(x, dy,\nstride=d, dilation=s)", "∂L/∂w"),
          (dw[0, 0], "dw (conv2d_backward)", "∂L/∂w"),
          (dx[0, 0], "dx (conv2d_backward)", "∂L/∂x")]
limits = {"∂L/∂x": np.abs(dx).max(), "∂L/∂w": np.abs(dw).max(), "∂L/∂y": np.abs(dy).max()}
for ax, (data, title, quantity) in zip(axes.flat, panels):
    lim = float(limits.get(quantity, np.abs(data).max())) or 1.0
    shown = ax.imshow(data, cmap=style.SIGNED_CMAP, vmin=-lim, vmax=lim)
    style.add_colorbar(ax, shown, f"{quantity} (a.u.)")
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle(f"Gradients of conv2d with stride {s} and dilation {d}: "
             "Bouvrie's formulas and conv2d_backward agree")
