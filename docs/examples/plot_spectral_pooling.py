"""
Spectral pooling keeps more of the map
======================================

Rippel, Snoek & Adams (2015) pool a feature map by cropping its DFT to the lowest
``h × w`` frequencies (:func:`fftconv.spectral.spectral_pool`). At equal output
size, does that keep more of the map than max or average pooling? Pool each map,
reconstruct it at full size by each pooling's own least-squares inverse (Fourier
interpolation; block means; block maxima) and measure the relative error
``‖x − R(pool(x))‖ / ‖x‖`` (:func:`analysis.frequency_learning.pooling_information`),
on the embedded 8×8 digits and on 48×48 patches of the photographs scikit-image
ships (see :doc:`/frequency_learning`).
"""

import numpy as np
from matplotlib.figure import Figure

from analysis import plots
from analysis.frequency_learning import (photo_patches, pool_and_reconstruct,
                                         pooling_information)
from fftconv import nn, style

digits = nn.load_digits(8, dtype=np.float64)[0][:, 0]
natural = photo_patches(48)
print(f"{len(digits)} digits (8x8), {len(natural)} photo patches (48x48)")

# %%
# The three curves
# ----------------
# Output sizes 1/2 … 1/8 of the side (the factors must divide the side for max
# and average pooling, so the digits get 1/2, 1/4, 1/8).

curves = {"digits (8×8)": pooling_information(digits, [2, 4, 8]),
          "photo patches (48×48)": pooling_information(natural, [2, 3, 4, 6, 8])}
for name, by_method in curves.items():
    for method, curve in by_method.items():
        row = "  ".join(f"1/{f}: {m:.3f}" for f, m in zip(curve.factors, curve.mean))
        print(f"{name:22s} {method:8s} {row}")
fig_curves = plots.pooling_information_figure(curves)

# %%
# What the error looks like
# -------------------------
# One patch pooled to 1/4 of its side and reconstructed. Spectral pooling keeps
# the smooth shapes; the DFT treats the patch as periodic, so an edge that does
# not match the opposite edge rings, which is why its lead over average pooling
# shrinks on photographs (the digits have empty, matching borders).

patch = natural[24]                 # the cameraman's head and shoulders
fig_examples = Figure(figsize=(10, 2.8), layout="constrained")
axes = fig_examples.subplots(1, 4)
axes[0].imshow(patch, cmap=style.IMAGE_CMAP, vmin=patch.min(), vmax=patch.max())
axes[0].set_title("patch", fontsize=9)
for ax, method in zip(axes[1:], ("spectral", "average", "max")):
    _, up = pool_and_reconstruct(patch, 4, method)
    error = pooling_information(patch[None], [4], [method])[method].mean[0]
    shown = ax.imshow(up, cmap=style.IMAGE_CMAP, vmin=patch.min(), vmax=patch.max())
    ax.set_title(f"{method}, 1/4: error {error:.2f}", fontsize=9)
for ax in axes:
    ax.set_xticks([])
    ax.set_yticks([])
# one grey scale for the patch and its reconstructions (those that overshoot clip)
fig_examples.colorbar(shown, ax=axes, fraction=0.02, pad=0.02,
                      label="intensity (8-bit grey level)")
