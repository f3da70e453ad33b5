"""The PyTorch bridge's overhead: fftconv.torch.conv2d against the numpy call it wraps.

One ResNet-stage layer (8×64×56², 64 filters of 3×3, padding 1, float32), on every
backend, forward and forward+backward. ``time_*`` track each side across commits;
``track_overhead`` times both sides in interleaved rounds of one run (the ratio a
shared machine still measures well) and reports the bridge's extra time in percent
of the numpy call (target: at most 5). Skipped when PyTorch is missing.
"""

import numpy as np

import fftconv
from fftconv.bench import Layer, bridge_peer, time_calls

from .common import BACKENDS

LAYER = Layer("resnet-56", 8, 64, 56, 56, 64, 3, padding=1)
PASSES = ["forward", "forward+backward"]


class TorchBridge:
    params = [BACKENDS, PASSES]
    param_names = ["backend", "pass"]
    timeout = 600

    def setup(self, backend, passname):
        make = bridge_peer()
        if make is None:
            raise NotImplementedError("PyTorch is not installed")
        rng = np.random.default_rng(0)
        spec = LAYER.spec("float32")
        self.x = rng.standard_normal(spec.input_shape).astype(np.float32)
        self.w = rng.standard_normal(spec.weight_shape).astype(np.float32)
        self.dy = rng.standard_normal(spec.output_shape).astype(np.float32)
        backward = passname != "forward"
        self.bridge = make(LAYER, self.x, self.w, self.dy, backward, backend)
        self.numpy = self._numpy_call(backend, backward)
        self.numpy()                                    # plans, buffers
        self.bridge()

    def _numpy_call(self, backend, backward):
        x, w, dy, kw = self.x, self.w, self.dy, LAYER.kwargs

        def forward():
            fftconv.conv2d(x, w, backend=backend, **kw)

        def forward_backward():
            _, context = fftconv.conv2d(x, w, backend=backend, return_context=True, **kw)
            fftconv.conv2d_backward(dy, x, w, backend=backend, needs=("input", "weight"),
                                    context=context, **kw)
        return forward_backward if backward else forward

    def time_numpy(self, backend, passname):
        self.numpy()

    def time_bridge(self, backend, passname):
        self.bridge()

    def track_overhead(self, backend, passname):
        seconds = time_calls({"numpy": self.numpy, "bridge": self.bridge}, repeats=5)
        return 100.0 * (seconds["bridge"] / seconds["numpy"] - 1.0)

    track_overhead.unit = "%"
