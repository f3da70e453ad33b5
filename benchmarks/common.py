"""Shapes and inputs shared by the benchmark classes."""

import numpy as np

import fftconv

#: (batch, channels, image) families: a typical CNN layer, wider maps, one large image.
LAYERS = {"8x16x32": (8, 16, 32), "2x32x64": (2, 32, 64), "1x4x128": (1, 4, 128)}
KERNELS = [1, 3, 7, 15]
DTYPES = ["float32", "float64"]
BACKENDS = fftconv.available_backends()


def layer_inputs(layer, kernel, dtype, seed=0):
    """``x, w, dy`` of a same-channel layer, or NotImplementedError (asv: skipped)
    when the kernel does not fit the image."""
    n, c, h = LAYERS[layer]
    if kernel > h:
        raise NotImplementedError("kernel larger than the image")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, h)).astype(dtype)
    w = rng.standard_normal((c, c, kernel, kernel)).astype(dtype)
    dy = rng.standard_normal((n, c, h - kernel + 1, h - kernel + 1)).astype(dtype)
    return x, w, dy
