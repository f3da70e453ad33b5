"""Winograd F(m×m, r×r): speed on the ResNet-18 3×3 stages and a 5×5 stem (issue 20),
against PyTorch's CPU convolution, and its float32 error by tile size and channels."""

import numpy as np

import fftconv

#: (N, C, H, O, K, P): the four ResNet-18 3×3 stages and a stem, float32.
RESNET = {"56x64": (8, 64, 56, 64, 3, 1), "28x128": (8, 128, 28, 128, 3, 1),
          "14x256": (8, 256, 14, 256, 3, 1), "7x512": (8, 512, 7, 512, 3, 1),
          "stem5x5": (64, 3, 32, 16, 5, 2)}


def resnet_inputs(layer, seed=0):
    n, c, h, o, k, p = RESNET[layer]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, h)).astype(np.float32)
    w = rng.standard_normal((o, c, k, k)).astype(np.float32)
    dy = rng.standard_normal((n, o, h, h)).astype(np.float32)
    return x, w, dy, p


class ResNetLayers:
    """fftconv on the issue's layers: Winograd, 'auto' and im2col side by side."""

    params = [["winograd", "auto", "im2col"], list(RESNET)]
    param_names = ["backend", "layer"]
    timeout = 120

    def setup(self, backend, layer):
        self.x, self.w, self.dy, self.p = resnet_inputs(layer)
        fftconv.conv2d(self.x, self.w, padding=self.p, backend=backend)

    def time_forward(self, backend, layer):
        fftconv.conv2d(self.x, self.w, padding=self.p, backend=backend)

    def time_forward_backward(self, backend, layer):
        y, ctx = fftconv.conv2d(self.x, self.w, padding=self.p, backend=backend,
                                return_context=True)
        fftconv.conv2d_backward(self.dy, self.x, self.w, padding=self.p, context=ctx)


class ResNetTorchPeer:
    """torch.nn.functional.conv2d (oneDNN) on the same layers, with as many threads as
    fftconv's BLAS (skipped when PyTorch is missing)."""

    params = [list(RESNET)]
    param_names = ["layer"]
    timeout = 120

    def setup(self, layer):
        try:
            import torch
        except ImportError:
            raise NotImplementedError("PyTorch is not installed") from None
        from fftconv.backends._parallel import blas_threads
        torch.set_num_threads(blas_threads())
        x, w, dy, self.p = resnet_inputs(layer)
        self.torch = torch
        self.x = torch.from_numpy(x).requires_grad_()
        self.w = torch.from_numpy(w).requires_grad_()
        self.dy = torch.from_numpy(dy)

    def time_forward(self, layer):
        with self.torch.no_grad():
            self.torch.nn.functional.conv2d(self.x, self.w, padding=self.p)

    def time_forward_backward(self, layer):
        y = self.torch.nn.functional.conv2d(self.x, self.w, padding=self.p)
        y.backward(self.dy)


class WinogradError:
    """float32 relative error ‖y − y_ref‖/‖y_ref‖ of F(m×m, r×r) against float64
    direct, by output tile m, kernel r and channel count (Winograd's error grows
    with the tile α = m + r − 1; summing over more channels adds ordinary
    summation error)."""

    params = [[2, 4, 6], [3, 5], [8, 64, 256]]
    param_names = ["m", "r", "channels"]
    unit = "relative error"

    def setup(self, m, r, channels):
        rng = np.random.default_rng(0)
        x = rng.standard_normal((2, channels, 24, 24))
        w = rng.standard_normal((16, channels, r, r))
        self.ref = fftconv.conv2d(x, w, padding=r // 2, backend="direct")
        self.x, self.w, self.r = x.astype(np.float32), w.astype(np.float32), r

    def track_float32_relative_error(self, m, r, channels):
        from fftconv.backends.winograd import set_tile_size
        with set_tile_size(m):
            y = fftconv.conv2d(self.x, self.w, padding=self.r // 2, backend="winograd")
        from fftconv.testing import relative_error
        return relative_error(y, self.ref)
