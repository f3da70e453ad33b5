"""Losses: definitions, numerical stability, gradients against finite differences."""

import numpy as np
import pytest
import scipy.special

from fftconv import nn
from fftconv.testing import numerical_gradient


def test_cross_entropy_is_mean_negative_log_softmax():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((5, 4))
    t = np.array([0, 3, 1, 1, 2])
    expected = -np.mean(scipy.special.log_softmax(z, axis=1)[np.arange(5), t])
    assert nn.CrossEntropyLoss()(z, t) == pytest.approx(expected, rel=1e-14)


def test_cross_entropy_is_stable_for_huge_logits():
    loss = nn.CrossEntropyLoss()
    z = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 0.0]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):   # underflow is fine
        value = loss(z, np.array([0, 0]))
    assert value == pytest.approx(1e4 / 2)
    np.testing.assert_allclose(loss.backward(), [[0, 0, 0], [-0.5, 0.5, 0]], atol=1e-300)
    z32 = np.array([[80.0, -80.0]], np.float32)
    assert np.isfinite(loss(z32, np.array([1]))) and loss.backward().dtype == np.float32


@pytest.mark.parametrize("loss, target", [
    (nn.CrossEntropyLoss(), np.array([2, 0, 1])),
    (nn.MSELoss(), np.array([2, 0, 1])),
    (nn.MSELoss(), np.random.default_rng(1).standard_normal((3, 4))),
])
def test_loss_gradient_matches_finite_differences(loss, target):
    z = np.random.default_rng(2).standard_normal((3, 4))
    loss(z, target)
    np.testing.assert_allclose(loss.backward(), numerical_gradient(lambda v: loss(v, target), z),
                               rtol=1e-6, atol=1e-9)


def test_mse_is_half_squared_error_per_example():
    y = np.array([[0.2, 0.9], [0.5, 0.5]])
    # Labels become one-of-K targets: E = ½‖d − y‖², averaged over the batch.
    expected = 0.5 * (0.2 ** 2 + 0.1 ** 2 + 0.5 ** 2 + 0.5 ** 2) / 2
    assert nn.MSELoss()(y, np.array([1, 0])) == pytest.approx(expected, rel=1e-14)


def test_softmax_rows_sum_to_one():
    p = nn.softmax(np.random.default_rng(3).standard_normal((4, 6)) * 50)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-14)


@pytest.mark.parametrize("call, exc, pattern", [
    (lambda: nn.CrossEntropyLoss()(np.zeros((2, 3)), np.array([0, 3])), ValueError,
     r"CrossEntropyLoss: parameter 'target' must be labels in \[0, 3\)"),
    (lambda: nn.CrossEntropyLoss()(np.zeros((2, 3)), np.array([0.0, 1.0])), TypeError,
     r"parameter 'target' must be an integer array of class labels"),
    (lambda: nn.CrossEntropyLoss()(np.zeros((2, 3)), np.array([0])), ValueError,
     r"parameter 'target' must be an array of shape \(N,\) = \(2,\)"),
    (lambda: nn.CrossEntropyLoss()(np.zeros(3), np.array([0])), ValueError,
     r"parameter 'output' must be a non-empty 2-d array"),
    (lambda: nn.CrossEntropyLoss()(np.zeros((1, 3), int), np.array([0])), TypeError,
     r"parameter 'output' must be a float32 or float64 ndarray"),
    (lambda: nn.MSELoss()(np.zeros((2, 3)), np.zeros((2, 2))), ValueError,
     r"MSELoss: parameter 'target' must be integer labels \(N,\) or an array of the output's"),
    (lambda: nn.MSELoss()(np.zeros((2, 3)), [1, 2]), TypeError, r"MSELoss: parameter 'target'"),
    (lambda: nn.CrossEntropyLoss().backward(), RuntimeError, r"call the loss first"),
])
def test_loss_errors(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()
