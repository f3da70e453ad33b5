"""SpectralPool2d and SpectralConv2d: gradients, equality with Conv2d, Hermitian steps."""

import numpy as np
import pytest

from fftconv import nn
from fftconv.spectral import kernel_to_spectrum, spectrum_to_kernel

from .conftest import check_layer_gradients


@pytest.mark.parametrize("shape, size", [((2, 3, 8, 8), (4, 4)), ((1, 2, 7, 9), (5, 6)),
                                         ((2, 1, 6, 6), (6, 3))])
def test_spectral_pool_backward_matches_finite_differences(shape, size):
    rng = np.random.default_rng(sum(shape))
    layer = nn.SpectralPool2d(size)
    check_layer_gradients(layer, rng.standard_normal(shape), rng)
    assert layer.output_shape(shape) == shape[:2] + size


@pytest.mark.parametrize("kwargs", [
    dict(in_channels=2, out_channels=3, kernel_size=3),
    dict(in_channels=2, out_channels=2, kernel_size=(2, 3), padding=1, stride=2, bias=False),
    dict(in_channels=4, out_channels=2, kernel_size=3, groups=2, dilation=2, padding="same"),
])
def test_spectral_conv_backward_matches_finite_differences(kwargs):
    rng = np.random.default_rng(len(kwargs))
    layer = nn.SpectralConv2d(**kwargs, dtype=np.float64, seed=rng)
    x = rng.standard_normal((2, kwargs["in_channels"], 7, 7))
    check_layer_gradients(layer, x, rng)


@pytest.mark.parametrize("backend", ["direct", "im2col", "fft"])
def test_spectral_conv_computes_what_conv2d_computes_with_the_same_filters(backend):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 6, 10, 10))
    table = nn.lenet5_connection_table()[:4]
    plain = nn.Conv2d(6, 4, 5, padding=2, connections=table, backend=backend,
                      dtype=np.float64, seed=11)
    spec = nn.SpectralConv2d(6, 4, 5, padding=2, connections=table, backend=backend,
                             dtype=np.float64, seed=11)
    # The same seed draws the same filters; the spectrum stands for them exactly.
    np.testing.assert_allclose(spec.filters(), plain.weight.data, atol=1e-15)
    plain.weight.data[...] = spec.filters()        # equal filters: identical outputs
    assert np.array_equal(plain(x), spec(x))
    dy = rng.standard_normal(plain(x).shape)
    plain.zero_grad(), spec.zero_grad()
    assert np.array_equal(plain.backward(dy), spec.backward(dy))
    # dθ is the adjoint image of the (masked) dW: unconnected kernels get none.
    assert np.all(spec.spectrum.grad[~table] == 0)
    assert np.all(spec._weight()[~table] == 0)
    assert spec.num_parameters() == plain.num_parameters()


def test_adam_steps_keep_the_spectrum_hermitian_and_the_filters_real():
    rng = np.random.default_rng(3)
    model = nn.Sequential(nn.SpectralConv2d(1, 4, 4, padding=1, dtype=np.float64, seed=1),
                          nn.ReLU(), nn.SpectralPool2d(5), nn.Flatten(),
                          nn.Linear(100, 3, dtype=np.float64, seed=2))
    x, y = rng.standard_normal((16, 1, 9, 9)), rng.integers(0, 3, 16)
    history = nn.fit(model, x, y, epochs=3, batch_size=8, optimizer=nn.Adam(model, lr=0.05),
                     seed=0, progress=False)
    assert history.loss[-1] < history.loss[0]
    theta = model[0].spectrum.data
    # θ is still exactly the spectrum of the real filters it stands for.
    np.testing.assert_allclose(kernel_to_spectrum(spectrum_to_kernel(theta, 4)), theta,
                               atol=1e-12)


def test_float32_shape_only_checkpoint_and_errors(tmp_path):
    layer = nn.SpectralConv2d(3, 8, 5, seed=0)
    assert layer.spectrum.dtype == np.float32 and layer.filters().dtype == np.float32
    assert nn.SpectralConv2d(3, 8, 5, allocate=False).spectrum.shape == (8, 3, 5, 3, 2)
    model = nn.Sequential(layer)
    path = tmp_path / "spectral.npz"
    nn.save_checkpoint(path, model)
    other = nn.Sequential(nn.SpectralConv2d(3, 8, 5, seed=1))
    nn.load_checkpoint(path, other)
    assert np.array_equal(other[0].filters(), layer.filters())
    with pytest.raises(ValueError, match=r"SpectralPool2d: .*at least the output size"):
        nn.SpectralPool2d(8)(np.zeros((1, 1, 6, 9)))
    with pytest.raises(TypeError, match=r"SpectralPool2d: .*output_size"):
        nn.SpectralPool2d("8")
    with pytest.raises(ValueError, match=r"SpectralPool2d: .*output_size.*got 0"):
        nn.SpectralPool2d(0)            # a value error, as for every layer's sizes
    with pytest.raises(RuntimeError, match="SpectralConv2d.forward"):
        nn.SpectralConv2d(3, 8, 5, allocate=False)(np.zeros((1, 3, 8, 8), np.float32))
