"""Learning in the frequency domain: spectral pooling and spectrally stored filters.

Targets of the issue, measured as ratios side by side in one run
(:func:`fftconv.timing.median_seconds`, interleaved rounds):

* ``spectral_pool`` of a (32, 64, 56, 56) float32 batch to 28×28 within 1.5× of
  one ``rfft2`` + ``irfft2`` of that batch;
* a :class:`~fftconv.nn.SpectralConv2d` forward no slower than the same
  :class:`~fftconv.nn.Conv2d` forward on the fft backend.
"""

import numpy as np

from fftconv import fftlib, nn
from fftconv.spectral import spectral_pool, spectral_pool_adjoint
from fftconv.timing import median_seconds

BATCH = (32, 64, 56, 56)


def _pool_calls():
    x = np.random.default_rng(0).standard_normal(BATCH).astype(np.float32)
    y = spectral_pool(x, 28)
    return {
        "rfft2+irfft2": lambda: fftlib.irfftn(fftlib.rfftn(x, axes=(-2, -1)), s=BATCH[2:],
                                              axes=(-2, -1)),
        "spectral_pool": lambda: spectral_pool(x, 28),
        "spectral_pool_adjoint": lambda: spectral_pool_adjoint(y, 56),
    }


class SpectralPool:
    """Seconds of each call, and each pooling call over the two transforms."""

    params = [["rfft2+irfft2", "spectral_pool", "spectral_pool_adjoint"]]
    param_names = ["call"]
    timeout = 300

    def setup(self, call):
        self.calls = _pool_calls()
        self.calls[call]()

    def time_call(self, call):
        self.calls[call]()

    def track_ratio_to_rfft2_irfft2(self, call):
        seconds = median_seconds(self.calls, repeats=5)
        return seconds[call] / seconds["rfft2+irfft2"]


# A LeNet-sized layer and a wider one, both on the fft backend.
CONV_LAYERS = {"lenet-c3": (64, 6, 14, 16, 5), "resnet-like": (8, 64, 28, 64, 5)}


class SpectralConvForward:
    """SpectralConv2d forward over Conv2d forward, same filters, same backend."""

    params = [list(CONV_LAYERS)]
    param_names = ["layer"]
    timeout = 300

    def setup(self, layer):
        n, c, h, k, r = CONV_LAYERS[layer]
        self.x = np.random.default_rng(1).standard_normal((n, c, h, h)).astype(np.float32)
        self.plain = nn.Conv2d(c, k, r, padding=r // 2, backend="fft", seed=0).eval()
        self.spectral = nn.SpectralConv2d(c, k, r, padding=r // 2, backend="fft", seed=0).eval()
        self.plain(self.x), self.spectral(self.x)

    def time_conv2d(self, layer):
        self.plain(self.x)

    def time_spectral_conv2d(self, layer):
        self.spectral(self.x)

    def track_ratio_spectral_to_conv2d(self, layer):
        seconds = median_seconds({"plain": lambda: self.plain(self.x),
                                  "spectral": lambda: self.spectral(self.x)}, repeats=9)
        return seconds["spectral"] / seconds["plain"]
