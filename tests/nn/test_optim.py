"""Optimizers: update rules written out by hand, PyTorch parity when installed."""

import numpy as np
import pytest

from fftconv import nn


def run(opt_factory, grads, start):
    p = nn.Parameter(np.array(start, dtype=np.float64))
    opt = opt_factory([p])
    trajectory = []
    for g in grads:
        p.grad[...] = g
        opt.step()
        trajectory.append(p.data.copy())
    return np.array(trajectory)


GRADS = np.random.default_rng(0).standard_normal((6, 3))
START = [0.5, -1.0, 2.0]


def test_sgd_plain_and_weight_decay():
    got = run(lambda ps: nn.SGD(ps, lr=0.1, weight_decay=0.01), GRADS, START)
    theta = np.array(START)
    for g, row in zip(GRADS, got):
        theta = theta - 0.1 * (g + 0.01 * theta)
        np.testing.assert_allclose(row, theta, rtol=1e-15)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum(nesterov):
    got = run(lambda ps: nn.SGD(ps, lr=0.05, momentum=0.9, nesterov=nesterov), GRADS, START)
    theta, v = np.array(START), np.zeros(3)
    for g, row in zip(GRADS, got):
        v = 0.9 * v + g
        theta = theta - 0.05 * (g + 0.9 * v if nesterov else v)
        np.testing.assert_allclose(row, theta, rtol=1e-14)


def test_adam_is_kingma_ba_algorithm_one():
    got = run(lambda ps: nn.Adam(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
              GRADS, START)
    theta, m, v = np.array(START), np.zeros(3), np.zeros(3)
    for t, (g, row) in enumerate(zip(GRADS, got), start=1):
        g = g + 0.1 * theta
        m = 0.8 * m + 0.2 * g
        v = 0.99 * v + 0.01 * g * g
        m_hat, v_hat = m / (1 - 0.8 ** t), v / (1 - 0.99 ** t)
        theta = theta - 0.01 * m_hat / (np.sqrt(v_hat) + 1e-6 * np.sqrt(1 - 0.99 ** t)
                                        / np.sqrt(1 - 0.99 ** t))
        np.testing.assert_allclose(row, theta, rtol=1e-12)


def test_optimizers_keep_float32():
    p = nn.Parameter(np.ones(3, np.float32))
    for opt in (nn.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1), nn.Adam([p])):
        p.grad[:] = 1
        opt.step()
        assert p.dtype == np.float32


def test_optimizers_match_torch():
    torch = pytest.importorskip("torch")
    cases = [(lambda ps: nn.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.01, nesterov=True),
              lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.01,
                                         nesterov=True)),
             (lambda ps: nn.Adam(ps, lr=0.01, weight_decay=0.01),
              lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=0.01))]
    for ours, theirs in cases:
        got = run(ours, GRADS, START)
        tp = torch.nn.Parameter(torch.tensor(START, dtype=torch.float64))
        topt = theirs([tp])
        for g, row in zip(GRADS, got):
            tp.grad = torch.tensor(g)
            topt.step()
            np.testing.assert_allclose(row, tp.detach().numpy(), rtol=1e-13)


def test_optimizer_zero_grad_and_module_argument():
    net = nn.Linear(2, 2, seed=0)
    opt = nn.SGD(net, lr=0.1)
    assert opt.params == net.parameters()
    net.weight.grad[:] = 1
    opt.zero_grad()
    assert not np.any(net.weight.grad)


@pytest.mark.parametrize("make, exc, pattern", [
    (lambda p: nn.SGD(p, lr=0), ValueError, r"SGD: parameter 'lr' must be a real number in "
                                            r"\(0, inf\); got 0"),
    (lambda p: nn.SGD(p, momentum=1.0), ValueError, r"SGD: parameter 'momentum'.*\[0, 1\)"),
    (lambda p: nn.SGD(p, weight_decay=-1), ValueError, r"SGD: parameter 'weight_decay'"),
    (lambda p: nn.SGD(p, nesterov=True), ValueError, r"'nesterov' must be False when momentum"),
    (lambda p: nn.SGD(p, lr="fast"), TypeError, r"SGD: parameter 'lr' must be a real number"),
    (lambda p: nn.Adam(p, betas=(0.9,)), TypeError, r"Adam: parameter 'betas' must be a pair"),
    (lambda p: nn.Adam(p, betas=(0.9, 1.0)), ValueError, r"Adam: parameter 'betas'"),
    (lambda p: nn.Adam(p, eps=0), ValueError, r"Adam: parameter 'eps'"),
    (lambda p: nn.Adam([]), ValueError, r"Adam: parameter 'params' must be a Module or a "
                                        r"non-empty iterable of Parameter"),
    (lambda p: nn.Adam(3), TypeError, r"Adam: parameter 'params'"),
])
def test_optimizer_errors(make, exc, pattern):
    with pytest.raises(exc, match=pattern):
        make([nn.Parameter(np.zeros(2))])
