"""conv1d / conv3d and transposed convolution: every backend against PyTorch.

The layers of issue 25: a long 1-D kernel on an audio signal (1 s at 16 kHz,
1025 taps: FFT's home ground), a multi-channel audio layer, a C3D-style 3×3×3
video layer (where shift-and-accumulate and im2col remain competitive) and a
7×7×7 volume layer.
"""

import numpy as np

import fftconv

from .common import BACKENDS

#: name → (x shape, w shape, conv kwargs)
LAYERS_ND = {
    "audio 1x1x16000 k1025": ((1, 1, 16000), (1, 1, 1025), {"padding": 512}),
    "audio 1x8x16000 k1025": ((1, 8, 16000), (8, 8, 1025), {"padding": 512}),
    "video 2x16x16x56x56 k3": ((2, 16, 16, 56, 56), (32, 16, 3, 3, 3), {"padding": 1}),
    "volume 1x4x64^3 k7": ((1, 4, 64, 64, 64), (8, 4, 7, 7, 7), {"padding": 3}),
}


def _inputs(layer, dtype="float32"):
    xs, ws, kw = LAYERS_ND[layer]
    rng = np.random.default_rng(0)
    return (rng.standard_normal(xs).astype(dtype), rng.standard_normal(ws).astype(dtype), kw)


def _op(x):
    return fftconv.conv1d if x.ndim == 3 else fftconv.conv3d


class ConvNd:
    params = [BACKENDS, list(LAYERS_ND)]
    param_names = ["backend", "layer"]
    timeout = 300

    def setup(self, backend, layer):
        self.x, self.w, self.kw = _inputs(layer)
        spec = fftconv.make_spec("bench", self.x.shape, self.w.shape, rank=self.x.ndim - 2,
                                 dtype=self.x.dtype, **self.kw)
        if not fftconv.get_backend(backend).supports(spec):
            raise NotImplementedError(f"{backend} does not compute rank {spec.rank}")
        self.op = _op(self.x)
        self.y = self.op(self.x, self.w, backend=backend, **self.kw)

    def time_forward(self, backend, layer):
        self.op(self.x, self.w, backend=backend, **self.kw)

    def time_forward_backward(self, backend, layer):
        y, ctx = self.op(self.x, self.w, backend=backend, return_context=True, **self.kw)
        fftconv.conv_backward(y, self.x, self.w, context=ctx, **self.kw)


class ConvNdTorchPeer:
    """torch.nn.functional.conv1d / conv3d on the same layers (skipped without PyTorch)."""

    params = [list(LAYERS_ND)]
    param_names = ["layer"]
    timeout = 300

    def setup(self, layer):
        try:
            import torch
        except ImportError:
            raise NotImplementedError("PyTorch is not installed") from None
        x, w, self.kw = _inputs(layer)
        self.x, self.w = torch.from_numpy(x), torch.from_numpy(w)
        self.op = torch.nn.functional.conv1d if x.ndim == 3 else torch.nn.functional.conv3d

    def time_forward(self, layer):
        self.op(self.x, self.w, **self.kw)


class ConvTranspose2d:
    """A decoder's upsampling layer, 2× by stride 2."""

    params = [BACKENDS]
    param_names = ["backend"]

    def setup(self, backend):
        rng = np.random.default_rng(0)
        self.x = rng.standard_normal((8, 64, 28, 28)).astype(np.float32)
        self.w = rng.standard_normal((64, 32, 4, 4)).astype(np.float32)
        # The strided transpose is the adjoint of a stride-2 conv, which not every
        # backend computes (Winograd: stride 1 only): asv skips those, as setup says why.
        try:
            self.time_forward(backend)
        except (ValueError, NotImplementedError) as exc:
            raise NotImplementedError(str(exc)) from None

    def time_forward(self, backend):
        fftconv.conv_transpose2d(self.x, self.w, stride=2, padding=1, backend=backend)
