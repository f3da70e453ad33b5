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

from analysis.demo import make_scene
from analysis.match_plots import match_figure
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
# :func:`analysis.match_plots.match_figure` draws the scene and the score map in
# one pixel frame, each score at the centre of the window it scores, so a peak
# lies inside its box: truth solid with "+", found dashed with "×" (shape as well
# as colour, from :mod:`fftconv.style`), each match's score printed beside it.

fig = match_figure(scene, ncc, peaks, template.shape, method="ccoeff_normed", truth=truth,
                   title="Normalized cross-correlation finds every copy (NCC > 0.8)")

# %%
# Plain correlation, for comparison
# ---------------------------------
# The same figure for the unnormalized score, with its best three positions:
# bright regions score high whatever their shape, so the peaks need not be the
# copies.

plain_peaks = find_peaks(plain, min_distance=16, max_peaks=len(truth), method="ccorr")
fig_plain = match_figure(scene, plain, plain_peaks, template.shape, method="ccorr",
                         truth=truth, title="Plain correlation favours bright regions")
