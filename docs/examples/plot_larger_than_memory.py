"""
Images larger than memory: zarr in, zarr out
============================================

The same calls as in memory, on a dask array read from zarr: a Gaussian blur by
:func:`fftconv.convolve`, then :func:`analysis.matching.match_template` and
:func:`analysis.matching.find_peaks` on the blurred scene. Each result is a lazy
dask array; writing it to zarr computes it block by block, so neither the scene
nor a score map is ever whole in memory. The scene here is small, so that the
example runs in a moment; a whole-slide image runs the same code.
"""

import os
import tempfile

import dask.array as da
import numpy as np

import fftconv
from analysis.match_plots import match_figure
from analysis.matching import find_peaks, match_template

# %%
# A scene on disk
# ---------------
#
# A zarr array in chunks of 128², with three copies of a small pattern in noise.

rng = np.random.default_rng(0)
pattern = np.zeros((24, 24))
pattern[4:20, 10:14] = 1.0
pattern[10:14, 4:20] = 1.0                           # a cross
scene = 0.3 * rng.standard_normal((512, 384))
spots = [(60, 300), (250, 40), (430, 200)]
for r, c in spots:
    scene[r:r + 24, c:c + 24] += pattern
workdir = tempfile.mkdtemp()
da.from_array(scene.astype(np.float32), chunks=128).to_zarr(os.path.join(workdir, "scene.zarr"))

image = da.from_zarr(os.path.join(workdir, "scene.zarr"))
print("scene:", image.shape, image.dtype, "chunks", image.chunksize)

# %%
# Filter: zarr to zarr
# --------------------
#
# ``fftconv.convolve`` of a dask array is lazy; each 128² output block is computed
# from the input it needs (the block and ``kernel − 1`` samples of overlap, taken
# from the neighbouring chunks) on the library's tiled FFT path.

t = np.arange(-6, 7)
gauss = np.exp(-t ** 2 / (2 * 2.0 ** 2))
kernel = np.outer(gauss, gauss) / gauss.sum() ** 2
blurred = fftconv.convolve(image, kernel.astype(np.float32), mode="same")
blurred.to_zarr(os.path.join(workdir, "blurred.zarr"))
blurred = da.from_zarr(os.path.join(workdir, "blurred.zarr"))
in_memory = fftconv.convolve(scene.astype(np.float32), kernel.astype(np.float32), mode="same")
print("largest difference from the in-memory call:",
      float(abs(blurred.compute() - in_memory).max()))

# %%
# Match: zarr to zarr, peaks block by block
# -----------------------------------------
#
# The score map is written to zarr; ``find_peaks`` reads it block by block, keeps
# each block's candidates and suppresses neighbours across the block boundaries.

template = fftconv.convolve(pattern, kernel, mode="same")
scores = match_template(blurred, template)
scores.to_zarr(os.path.join(workdir, "scores.zarr"))
scores = da.from_zarr(os.path.join(workdir, "scores.zarr"))
peaks = find_peaks(scores, threshold=0.9, min_distance=12)
print("matches (row, col):", peaks.indices.tolist(), "scores", np.round(peaks.scores, 3))
print("planted at:", sorted(spots))


# %%
# The figure
# ----------
# Read back from zarr for drawing (the only step that holds a whole array):
# the blurred scene and its score map in one pixel frame, the planted copies
# solid, the matches dashed.

fig = match_figure(blurred.compute(), scores.compute(), peaks, template.shape, truth=spots,
                   title="Blurred scene and ccoeff_normed scores, both read from zarr")
