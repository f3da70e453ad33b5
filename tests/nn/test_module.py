"""Module and Parameter: registration order, modes, gradients, state, repr."""

import numpy as np
import pytest

from fftconv import nn


def small_net():
    return nn.Sequential({"conv": nn.Conv2d(1, 2, 3, dtype=np.float64, seed=0),
                          "act": nn.ReLU(),
                          "drop": nn.Dropout(0.5, seed=0),
                          "head": nn.Sequential(nn.Flatten(),
                                                nn.Linear(8, 3, dtype=np.float64, seed=1))})


def test_parameters_in_model_order_with_dotted_names():
    net = small_net()
    names = [name for name, _ in net.named_parameters()]
    assert names == ["conv.weight", "conv.bias", "head.1.weight", "head.1.bias"]
    assert net.parameters()[0] is net["conv"].weight
    assert net.num_parameters() == 2 * 9 + 2 + 8 * 3 + 3
    assert [name for name, _ in net.named_modules()][:3] == ["", "conv", "act"]


def test_zero_grad_clears_every_gradient():
    net = small_net()
    x = np.random.default_rng(0).standard_normal((2, 1, 4, 4))
    net.backward(np.ones_like(net(x)))
    assert any(np.any(p.grad) for p in net.parameters())
    net.zero_grad()
    assert not any(np.any(p.grad) for p in net.parameters())


def test_backward_accumulates_until_zero_grad():
    layer = nn.Linear(2, 1, dtype=np.float64, seed=0)
    x = np.array([[1.0, 2.0]])
    for _ in range(2):
        layer(x)
        layer.backward(np.ones((1, 1)))
    np.testing.assert_array_equal(layer.weight.grad, [[2.0, 4.0]])


def test_train_and_eval_reach_every_submodule():
    net = small_net()
    assert net.eval() is net
    assert not any(m.training for _, m in net.named_modules())
    x = np.ones((1, 1, 4, 4))
    np.testing.assert_array_equal(net(x), net(x))       # dropout off: deterministic
    net.train()
    assert all(m.training for _, m in net.named_modules())


def test_state_dict_round_trip_and_copies():
    a, b = small_net(), nn.Sequential({"conv": nn.Conv2d(1, 2, 3, dtype=np.float64, seed=9),
                                       "act": nn.ReLU(), "drop": nn.Dropout(0.5),
                                       "head": nn.Sequential(nn.Flatten(), nn.Linear(
                                           8, 3, dtype=np.float64, seed=9))})
    state = a.state_dict()
    assert list(state) == [name for name, _ in a.named_parameters()]
    state["conv.bias"][:] = 7.0                         # a copy: the model is untouched
    assert not np.any(a["conv"].bias.data == 7.0)
    b.load_state_dict(a.state_dict())
    for (_, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(pa.data, pb.data)


def test_load_state_dict_keeps_dtype_and_partial_load():
    net = nn.Linear(2, 2, seed=0)                           # float32
    net.load_state_dict({"weight": np.ones((2, 2)), "bias": np.zeros(2)})
    assert net.weight.dtype == np.float32 and np.all(net.weight.data == 1)
    net.load_state_dict({"bias": np.full(2, 3.0)}, strict=False)
    assert np.all(net.bias.data == 3) and np.all(net.weight.data == 1)


@pytest.mark.parametrize("state, exc, pattern", [
    ({"weight": np.ones((2, 2))}, ValueError,
     r"Linear.load_state_dict: parameter 'state' must be a state with exactly the keys "
     r"\['weight', 'bias'\]; got \"keys missing \['bias'\], unexpected \[\]\""),
    ({"weight": np.ones((2, 2)), "bias": np.ones(2), "extra": np.ones(1)}, ValueError,
     r"unexpected \['extra'\]"),
    ({"weight": np.ones((3, 2)), "bias": np.ones(2)}, ValueError,
     r"parameter \"state\['weight'\]\" must be an array of shape \(2, 2\); got ndarray of "
     r"shape \(3, 2\)"),
    ({"weight": [[1.0, 1.0], [1.0, 1.0]], "bias": np.ones(2)}, TypeError,
     r"parameter \"state\['weight'\]\" must be a numpy.ndarray"),
    ([("weight", np.ones((2, 2)))], TypeError, r"parameter 'state' must be a mapping"),
])
def test_load_state_dict_errors_change_nothing(state, exc, pattern):
    net = nn.Linear(2, 2, seed=0)
    before = net.state_dict()
    with pytest.raises(exc, match=pattern):
        net.load_state_dict(state)
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_astype_converts_every_parameter():
    net = small_net().astype("float32")
    assert net.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in net.parameters())
    with pytest.raises(ValueError, match=r"Sequential.astype: parameter 'dtype' must be "
                                         r"float32 or float64; got 'int64'"):
        net.astype(np.int64)


def test_parameter_and_repr():
    p = nn.Parameter(np.zeros((2, 3)))
    assert repr(p) == "Parameter(shape=(2, 3), dtype=float64)"
    with pytest.raises(TypeError, match=r"Parameter: parameter 'data' must be a numpy.ndarray"):
        nn.Parameter([1.0])
    assert repr(small_net()).splitlines()[:3] == [
        "Sequential(", "  (conv): Conv2d(1, 2, kernel_size=(3, 3))", "  (act): ReLU()"]
    assert "    (1): Linear(8, 3)" in repr(small_net())


def test_subclass_must_call_init():
    class Broken(nn.Module):
        def __init__(self):
            self.x = 1

    with pytest.raises(TypeError, match=r"Broken.__init__ must call super\(\).__init__\(\)"):
        Broken()
