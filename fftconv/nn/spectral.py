"""Layers that work in the frequency domain: spectral pooling, spectrally stored filters.

Rippel, Snoek & Adams (2015), "Spectral Representations for Convolutional Neural
Networks". The transforms and their adjoints are in :mod:`fftconv.spectral`;
these are the trainer's layers on top of them.
"""

from __future__ import annotations

import numpy as np

from .. import spectral
from ..checks import positive_pair
from ..errors import bad_value
from .layers import Conv2d, _check_input, _require_forward
from .module import Module, Parameter

__all__ = ["SpectralPool2d", "SpectralConv2d"]


class SpectralPool2d(Module):
    """Spectral pooling: keep the lowest ``h × w`` DFT coefficients of each map.

    Parameters
    ----------
    output_size : int or (int, int)
        ``(h, w)`` of the pooled maps; any size up to the input's (not only
        integer factors of it).

    Notes
    -----
    Forward ``y = P x`` with :func:`fftconv.spectral.spectral_pool` (an ideal
    low-pass filter followed by resampling; real output); backward
    ``∂L/∂x = Pᵀ ∂L/∂y`` with :func:`fftconv.spectral.spectral_pool_adjoint`
    (the gradient's spectrum zero-padded), exactly the transpose. Rippel et al.
    (2015), §3: unlike max pooling, the map keeps the most energy of any linear
    projection onto ``h·w`` dimensions for signals whose energy sits at low
    frequencies, and the output size can shrink gently (say 28 → 20).

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv import nn
    >>> pool = nn.SpectralPool2d((20, 20))
    >>> pool(np.zeros((2, 6, 28, 28), np.float32)).shape
    (2, 6, 20, 20)
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = positive_pair("SpectralPool2d", "output_size", output_size)
        self._input_size = None

    def output_shape(self, input_shape):
        n, c, h, w = input_shape
        oh, ow = self.output_size
        if oh > h or ow > w:
            raise bad_value("SpectralPool2d", "x", tuple(input_shape),
                            f"an input of at least the output size {self.output_size} "
                            "(spectral pooling only downsamples)")
        return (n, c, oh, ow)

    def forward(self, x):
        _check_input("SpectralPool2d", x, 4, "(N, C, H, W)")
        self.output_shape(x.shape)
        self._input_size = x.shape[2:]
        return spectral.spectral_pool(x, self.output_size)

    def backward(self, dy, input_grad=True):
        size = _require_forward(self, "_input_size")
        return spectral.spectral_pool_adjoint(dy, size) if input_grad else None

    def extra_repr(self):
        return f"output_size={self.output_size}"


class SpectralConv2d(Conv2d):
    """A :class:`Conv2d` whose filters are stored, and trained, as their DFT.

    Same arguments, same forward and same initial filters as :class:`Conv2d`
    (built with the same ``seed``, the two layers compute identical outputs);
    the trainable parameter is the filters' half spectrum instead of the filters.

    Attributes
    ----------
    spectrum : Parameter, shape (out_channels, in_channels / groups, kh, kw // 2 + 1, 2)
        ``θ``: (real, imaginary) pairs of ``rfft2`` of each filter
        (:func:`fftconv.spectral.kernel_to_spectrum`).
    bias : Parameter, shape (out_channels,), or None

    Notes
    -----
    Forward: ``w = irfft2(θ, s=(kh, kw))`` (:func:`~fftconv.spectral.spectrum_to_kernel`),
    then ``y = conv2d(x, w) + b`` on the layer's backend. Backward: the filter
    gradient ``∂L/∂w`` from :func:`fftconv.conv2d_backward`, mapped to
    ``∂L/∂θ`` by the adjoint of the inverse transform
    (:func:`~fftconv.spectral.spectrum_gradient`). That gradient is Hermitian
    wherever ``θ`` is, so plain gradient steps (SGD, momentum, Adam, weight decay:
    all act on paired coordinates alike) keep ``θ`` the spectrum of a real
    filter; the filters are real in any case, because the inverse real
    transform reads only the Hermitian part of ``θ``.

    The parametrization changes the optimizer's geometry, not the model:
    an SGD step ``Δθ = −η ∂L/∂θ`` moves the filter by
    ``Δw = −(η / (kh·kw)) · irfft2(c ⊙ rfft2(∂L/∂w))``, a per-frequency
    reweighting of the spatial step, and Adam normalizes each frequency's
    coordinate separately. Rippel, Snoek & Adams (2015), §4, report faster
    convergence with it; for LeNet-sized networks with 5×5 filters on the digits
    and MNIST we did not find it (docs: "Learning in the frequency domain").

    ``num_parameters`` counts the filters' ``kh·kw`` free values (the stored
    array has ``2·kh·(kw//2+1)``, redundant by Hermitian symmetry).

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv import nn
    >>> x = np.random.default_rng(0).standard_normal((2, 1, 12, 12)).astype(np.float32)
    >>> a, b = nn.Conv2d(1, 4, 5, seed=3), nn.SpectralConv2d(1, 4, 5, seed=3)
    >>> b.spectrum.shape
    (4, 1, 5, 3, 2)
    >>> bool(np.allclose(a(x), b(x), atol=1e-5))
    True
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, connections=None, backend=None,
                 init="lecun", dtype=np.float32, seed=None, allocate=True):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, connections, backend, init, dtype, seed, allocate)
        filters = self._parameters.pop("weight")
        object.__delattr__(self, "weight")
        kh, kw = self.kernel_size
        shape = filters.shape[:2] + (kh, kw // 2 + 1, 2)
        spectrum = (Parameter(spectral.kernel_to_spectrum(filters.data)) if filters.allocated
                    else Parameter.shape_only(shape, filters.dtype))
        bias_param = self._parameters.pop("bias", None)
        self.spectrum = spectrum            # parameters in the order (spectrum, bias)
        if bias_param is not None:
            self._parameters["bias"] = bias_param
        self._filters = None

    def filters(self) -> np.ndarray:
        """The spatial filters ``irfft2(θ)`` of the current spectrum."""
        return spectral.spectrum_to_kernel(self.spectrum.data, self.kernel_size)

    def forward(self, x):
        self.check_allocated("SpectralConv2d.forward")
        # One inverse transform per pass: the forward and its backward use these.
        self._filters = self.filters()
        return super().forward(x)

    def _weight(self) -> np.ndarray:
        w = self._filters if self._filters is not None else self.filters()
        return w if self.mask is None else w * self.mask

    def _add_filter_grad(self, grad):
        self.spectrum.grad += spectral.spectrum_gradient(grad)
