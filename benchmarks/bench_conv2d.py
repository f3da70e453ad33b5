"""conv2d forward and forward+backward, every backend, layer, kernel size and dtype."""

import numpy as np

import fftconv

from .common import BACKENDS, DTYPES, KERNELS, LAYERS, layer_inputs


class Conv2d:
    params = [BACKENDS, list(LAYERS), KERNELS, DTYPES]
    param_names = ["backend", "layer", "kernel", "dtype"]
    timeout = 120

    def setup(self, backend, layer, kernel, dtype):
        self.x, self.w, self.dy = layer_inputs(layer, kernel, dtype)
        fftconv.conv2d(self.x, self.w, backend=backend)         # plans, buffers

    def time_forward(self, backend, layer, kernel, dtype):
        fftconv.conv2d(self.x, self.w, backend=backend)

    def time_forward_backward(self, backend, layer, kernel, dtype):
        fftconv.conv2d(self.x, self.w, backend=backend)
        fftconv.conv2d_backward(self.dy, self.x, self.w, backend=backend)


class Conv2dAuto:
    """What 'auto' delivers (the cost model's choice) on the same grid."""

    params = [list(LAYERS), KERNELS]
    param_names = ["layer", "kernel"]

    def setup(self, layer, kernel):
        self.x, self.w, _ = layer_inputs(layer, kernel, "float32")
        fftconv.conv2d(self.x, self.w)

    def time_forward(self, layer, kernel):
        fftconv.conv2d(self.x, self.w)


class PeakMemory:
    """Peak resident memory of the backends that build large work buffers."""

    params = [["im2col", "fft"], [(4, 32, 128, 7), (1, 8, 256, 31)]]
    param_names = ["backend", "shape"]

    def setup(self, backend, shape):
        n, c, h, k = shape
        rng = np.random.default_rng(0)
        self.x = rng.standard_normal((n, c, h, h)).astype(np.float32)
        self.w = rng.standard_normal((c, c, k, k)).astype(np.float32)

    def peakmem_forward(self, backend, shape):
        fftconv.conv2d(self.x, self.w, backend=backend)


class NumericalError:
    """Relative error ‖y − y_ref‖/‖y_ref‖ against the float64 direct result."""

    params = [BACKENDS, KERNELS, DTYPES]
    param_names = ["backend", "kernel", "dtype"]
    unit = "relative error"

    def setup(self, backend, kernel, dtype):
        x, w, _ = layer_inputs("2x32x64", kernel, "float64")
        spec = fftconv.make_spec("bench", x.shape, w.shape, dtype=dtype)
        reason = fftconv.get_backend(backend).applies(spec)
        if reason is not None:              # asv: skipped (Winograd's kernels up to 7)
            raise NotImplementedError(reason)
        self.ref = fftconv.conv2d(x, w, backend="direct")
        self.x, self.w = x.astype(dtype), w.astype(dtype)

    def track_relative_error(self, backend, kernel, dtype):
        y = fftconv.conv2d(self.x, self.w, backend=backend).astype(np.float64)
        return float(np.linalg.norm(y - self.ref) / np.linalg.norm(self.ref))


class TorchPeer:
    """torch.nn.functional.conv2d on the same grid (skipped when PyTorch is missing)."""

    params = [list(LAYERS), KERNELS]
    param_names = ["layer", "kernel"]

    def setup(self, layer, kernel):
        try:
            import torch
        except ImportError:
            raise NotImplementedError("PyTorch is not installed") from None
        x, w, _ = layer_inputs(layer, kernel, "float32")
        self.torch = torch
        self.x, self.w = torch.from_numpy(x), torch.from_numpy(w)

    def time_forward(self, layer, kernel):
        with self.torch.no_grad():
            self.torch.nn.functional.conv2d(self.x, self.w)
