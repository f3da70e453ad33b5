"""The studies of analysis.frequency_learning: reconstructions and the training harness."""

import numpy as np
import pytest
import skimage.data

from analysis import frequency_learning as fl
from fftconv import nn


def test_reconstructions_are_each_poolings_least_squares_inverse():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 12, 12))
    for method in fl.POOLINGS:
        pooled, up = fl.pool_and_reconstruct(x, 3, method)
        assert pooled.shape == (3, 4, 4) and up.shape == x.shape
    # Average: block means, repeated; pooling the reconstruction gives the pooled maps back.
    pooled, up = fl.pool_and_reconstruct(x, 3, "average")
    np.testing.assert_allclose(pooled, x.reshape(3, 4, 3, 4, 3).mean(axis=(2, 4)))
    np.testing.assert_allclose(fl.pool_and_reconstruct(up, 3, "average")[0], pooled)
    # Spectral: Fourier interpolation, a projection (pooling it again changes nothing).
    pooled, up = fl.pool_and_reconstruct(x, 3, "spectral")
    np.testing.assert_allclose(fl.pool_and_reconstruct(up, 3, "spectral")[0], pooled,
                               atol=1e-12)
    pooled, up = fl.pool_and_reconstruct(x, 3, "max")
    np.testing.assert_allclose(pooled, x.reshape(3, 4, 3, 4, 3).max(axis=(2, 4)))


def test_photo_patches_tile_the_bundled_photographs():
    patches = fl.photo_patches(64)
    camera = skimage.data.camera().astype(float)        # 512×512: an 8×8 grid first
    assert patches.dtype == np.float64 and patches.shape[1:] == (64, 64)
    np.testing.assert_array_equal(patches[0], camera[:64, :64])
    np.testing.assert_array_equal(patches[9], camera[64:128, 64:128])


def test_information_curves_order_on_band_limited_maps():
    """A map with only low frequencies survives spectral pooling exactly, not the others."""
    rng = np.random.default_rng(1)
    t = np.arange(24) / 24
    maps = np.array([np.cos(2 * np.pi * (a * t[:, None] + b * t[None, :]) + c)
                     for a, b, c in rng.integers(-2, 3, (8, 3))])
    maps = maps[np.abs(maps).sum(axis=(1, 2)) > 1e-9]
    curves = fl.pooling_information(maps, [2, 4])
    assert np.all(curves["spectral"].mean < 1e-12)
    assert np.all(curves["average"].mean > 1e-3) and np.all(curves["max"].mean > 1e-3)
    assert curves["spectral"].factors == (2, 4)


@pytest.mark.parametrize("call, pattern", [
    (lambda: fl.pool_and_reconstruct(np.ones((5, 6)), 4, "max"), r"factor.*divisor"),
    (lambda: fl.pool_and_reconstruct(np.ones((4, 4)), 2, "median"), r"method.*'spectral'"),
    (lambda: fl.pooling_information(np.ones((2, 4, 4)), [2]), r"not all constant"),
    (lambda: fl.parametrization_study(None, None, None, optimizer="rmsprop"), r"optimizer"),
    (lambda: fl.photo_patches(0), r"photo_patches: parameter 'side'.*>= 1"),
])
def test_errors(call, pattern):
    with pytest.raises((TypeError, ValueError), match=pattern):
        call()


def test_models_build_both_parametrizations_from_the_same_seed():
    x = np.random.default_rng(2).standard_normal((2, 1, 32, 32)).astype(np.float32)
    for build in (nn.lenet5, nn.lenet5_modern):
        plain, spectral = build(seed=4), build(seed=4, parametrization="spectral")
        assert isinstance(spectral["c1"], nn.SpectralConv2d)
        assert spectral.architecture["kwargs"]["parametrization"] == "spectral"
        assert "parametrization" not in plain.architecture["kwargs"]
        np.testing.assert_allclose(spectral(x), plain(x), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match=r"lenet5: parameter 'parametrization'"):
        nn.lenet5(parametrization="wavelet")


def test_parametrization_study_records_every_run():
    x, y = nn.load_digits()
    seen = []
    runs = fl.parametrization_study(x[:64], y[:64], (x[64:96], y[64:96]), seeds=(0,),
                                    learning_rates=(1e-3,), epochs=1, batch_size=32,
                                    on_run=seen.append)
    assert [r.parametrization for r in runs] == ["spatial", "spectral"] and seen == runs
    for run in runs:
        assert len(run.batch_loss) == 2 and len(run.val_accuracy) == 1
        assert np.isfinite(run.final_loss())
    # Same seed, same initial filters, same batches: the first step's loss is equal.
    assert runs[0].batch_loss[0] == pytest.approx(runs[1].batch_loss[0], rel=1e-5)
