"""
Template matching by cross-correlation
======================================

Sliding a template over an image and correlating is a convolution with the
template flipped (Dettmers 2015), so the FFT computes every position at once.
Plain correlation favours bright regions; the *normalized* cross-correlation
subtracts each window's mean and divides by its spread, so it scores shape alone
— a copy with other contrast and brightness still scores 1.
:func:`analysis.matching.match_template` computes it (and OpenCV's five other
scores), :func:`analysis.matching.find_peaks` picks the matches, and
:func:`analysis.matching.phase_correlate` recovers a whole-image shift to a
fraction of a pixel.
"""

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from analysis.demo import make_scene
from analysis.matching import find_peaks, match_template, phase_correlate

scene, template, truth = make_scene(seed=0)
print("scene", scene.shape, "template", template.shape, "copies at", truth)

# %%
# Plain and normalized correlation
# --------------------------------

plain = match_template(scene, template, method="ccorr")
ncc = match_template(scene, template, method="ccoeff_normed")
peaks = find_peaks(ncc, threshold=0.8, min_distance=16)
for coords, value in zip(peaks.coords, peaks.scores):
    print(f"match at (row, col) = ({coords[0]:6.2f}, {coords[1]:6.2f}), score {value:.3f}")
best_plain = np.unravel_index(np.argmax(plain), plain.shape)
print("plain correlation's best position:", tuple(int(v) for v in best_plain))

# %%
# A subpixel shift, recovered
# ---------------------------
# Moving the scene by a phase ramp in frequency shifts it by a fraction of a
# pixel; phase correlation measures the shift from the cross-power spectrum.

shift = (7.3, -12.6)
ky, kx = np.meshgrid(np.fft.fftfreq(scene.shape[0]), np.fft.fftfreq(scene.shape[1]),
                     indexing="ij")
moved = np.fft.ifft2(np.fft.fft2(scene)
                     * np.exp(-2j * np.pi * (ky * shift[0] + kx * shift[1]))).real
print("applied", shift, "recovered", phase_correlate(scene, moved, upsample_factor=100).shift)

# %%
# The figure
# ----------

fig = Figure(figsize=(11, 3.8), layout="constrained")
ax = fig.subplots(1, 3)
ax[0].imshow(scene, cmap="gray")
for r, c in peaks.indices:
    ax[0].add_patch(Rectangle((c - 0.5, r - 0.5), *template.shape[::-1], fill=False,
                              ec="tab:red", lw=1.5))
ax[0].set_title("scene and the matches (NCC > 0.8)", fontsize=9)
for a, data, title in ((ax[1], plain, "plain correlation (ccorr)"),
                       (ax[2], ncc, "normalized (ccoeff_normed)")):
    a.imshow(data, cmap="RdBu_r")
    a.plot(peaks.indices[:, 1], peaks.indices[:, 0], "k+", ms=10)
    a.set_title(title, fontsize=9)
for a in ax:
    a.set_xticks([])
    a.set_yticks([])
