"""
A kernel read as diffusion
==========================

Normalize a kernel with a softmax and it becomes a *propagator*: the probability
that a pixel's value moves by each offset in one step (Dettmers 2015). Repeating the
step diffuses an image; the propagator's mean is a drift and its covariance a
diffusion coefficient; and drawing each move at random, then averaging many draws,
recovers the convolution with an error that falls as ``1/√S``. See
:doc:`/diffusion` for the full walkthrough.
"""

import numpy as np

from analysis import diffusion, kernels, plots
from analysis.images import demo_image

image = demo_image(64)
w = [kernels.gaussian(5, 1.0), kernels.sobel("x"), kernels.gabor(7, wavelength=4, theta=45)]
labels = ["gaussian", "sobel x", "gabor 45°"]

# %%
# Drift and spread of each propagator
# -----------------------------------
# A layer cross-correlates, so the propagator of a weight ``w`` is the softmax of
# ``w`` rotated by 180°.

temperature = 0.5
for label, k in zip(labels, w):
    p = diffusion.softmax_kernel(k[::-1, ::-1], temperature)
    m = diffusion.propagator_moments(p)
    print(f"{label:10s} drift (x, y) = ({m.mean[0]:+.2f}, {m.mean[1]:+.2f}) px/step, "
          f"D = {np.trace(m.covariance) / 4:.2f} px²/step")

# %%
# The heat kernel composes exactly
# --------------------------------

g1, g2, g3 = (diffusion.heat_kernel(t) for t in (1.0, 2.0, 3.0))
print("variance per axis after t = 3:", np.diag(diffusion.propagator_moments(g3).covariance))

# %%
# Diffusion, step by step
# -----------------------

fig_diffusion = plots.diffusion_figure(w, image, steps=(0, 1, 4, 16), temperature=temperature,
                                       labels=labels)

# %%
# The stochastic reading
# ----------------------

fig_stochastic = plots.stochastic_figure(image, diffusion.heat_kernel(1.0),
                                         samples=(1, 10, 100, 1000), seed=0)
