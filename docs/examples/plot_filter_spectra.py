"""
Filters in the frequency domain
===============================

By the convolution theorem a filter multiplies every input spectrum by its own,
so its magnitude spectrum says what it does: keep low frequencies (a blur), keep
a band of frequencies in one direction (an edge or stripe detector), or keep
everything but the lowest (a sharpener). :mod:`analysis.spectrum` measures this
for any kernel, and the same functions read a trained layer (see :doc:`/spectrum`).
"""

import numpy as np
import scipy.ndimage

from analysis import kernels, plots, spectrum
from analysis.images import demo_image, stripes

names = ["sobel", "laplacian", "gaussian:sigma=1.5", "gabor:theta=30,wavelength=6"]
w = kernels.stack_kernels([kernels.named_kernel(n) for n in names])

# %%
# Descriptors
# -----------
# One spectrum per filter (zero-padded to 64×64) serves every descriptor.

table = spectrum.filter_descriptors(w, size=64)
for i, name in enumerate(names):
    print(f"{name:30s} {str(table['pass_type'][i]):9s} DC gain {table['dc_gain'][i]:6.2f}  "
          f"orientation {table['dominant_orientation'][i]:6.1f} deg  "
          f"centroid {table['centroid_frequency'][i]:.3f} cyc/px")

# %%
# Each filter beside its spectrum
# -------------------------------

fig_filters = plots.filter_spectra_figure(w, size=64, labels=names, ncols=2)

# %%
# An image's spectrum turns with the image
# ----------------------------------------
# Stripes turned by 37° have a spectrum turned by 37°: orientation is easy to
# read in frequency even where the pixels hide it (Dettmers 2015).

image = stripes((128, 128), angle=0, wavelength=8)
turned = scipy.ndimage.rotate(image, 37, reshape=False, mode="reflect")
before = spectrum.dominant_orientation(spectrum.image_spectrum(image))
after = spectrum.dominant_orientation(spectrum.image_spectrum(turned))
print(f"dominant orientation: {float(before):.1f} -> {float(after):.1f} degrees")
fig_image = plots.image_spectrum_figure(turned)

# %%
# Low-pass filtering by a mask is a circular convolution
# ------------------------------------------------------

card = demo_image(64)
mask = spectrum.lowpass(card.shape, 0.1, kind="gaussian")
masked = spectrum.apply_frequency_mask(card, mask)
same = spectrum.circular_convolve(card, spectrum.mask_kernel(mask))
print("mask == circular convolution with its kernel:", np.allclose(masked, same))
fig_mask = plots.frequency_mask_figure(card, mask)
