"""fit / evaluate / predict: learning, reproducibility, and the same run on every backend."""

from functools import lru_cache

import numpy as np
import pytest

import fftconv
from fftconv import nn


def toy_images(n=64, seed=0):
    """Two classes of 32x32 images: a bright horizontal or vertical bar, plus noise."""
    rng = np.random.default_rng(seed)
    x = 0.1 * rng.standard_normal((n, 1, 32, 32))
    y = rng.integers(0, 2, size=n)
    pos = rng.integers(8, 24, size=n)
    for i in range(n):
        if y[i]:
            x[i, 0, :, pos[i]] += 1.0
        else:
            x[i, 0, pos[i], :] += 1.0
    return x, y.astype(np.int64)


@lru_cache(maxsize=None)
def twenty_step_losses(backend, model):
    """Per-step losses of 20 float64 SGD steps (momentum, weight decay) on ``backend``."""
    x, y = toy_images(40, seed=1)
    net = nn.build_model(model, seed=3, dtype="float64", num_classes=2,
                         **({"partial_connections": True} if model == "lenet5" else {}))
    history = nn.fit(net, x, y, epochs=4, batch_size=8, seed=5, backend=backend,
                     optimizer=nn.SGD(net, lr=0.05, momentum=0.9, weight_decay=1e-4),
                     progress=False)
    return np.array(history.batch_loss), net.state_dict()


@pytest.mark.parametrize("model", ["lenet5", "lenet5_modern"])
@pytest.mark.parametrize("backend", fftconv.available_backends())
def test_twenty_float64_steps_give_the_same_losses_on_every_backend(backend, model):
    reference, ref_state = twenty_step_losses("direct", model)
    losses, state = twenty_step_losses(backend, model)
    assert len(losses) == 20
    assert losses[-1] < losses[0]                         # it is really training
    np.testing.assert_allclose(losses, reference, rtol=1e-8, atol=1e-8)
    for name, value in state.items():
        np.testing.assert_allclose(value, ref_state[name], rtol=1e-7, atol=1e-9, err_msg=name)


def fake_clock(monkeypatch, module_name):
    """Replace ``time`` in ``module_name`` by a clock that moves only when told to;
    returns ``advance(seconds)``."""
    import sys
    import types

    now = [0.0]
    monkeypatch.setattr(sys.modules[module_name], "time",
                        types.SimpleNamespace(perf_counter=lambda: now[0]))

    def advance(seconds):
        now[0] += seconds
    return advance


def test_fit_learns_and_records_history(monkeypatch):
    x, y = toy_images(96)
    x_val, y_val = toy_images(32, seed=9)
    net = nn.lenet5_modern(num_classes=2, seed=0)
    calls = []
    # The clock moves 0.25 s per optimizer step and never otherwise: an epoch's
    # seconds are its training steps', the validation pass excluded.
    advance = fake_clock(monkeypatch, "fftconv.nn.train")
    optimizer = nn.Adam(net, lr=3e-3)
    step = optimizer.step
    monkeypatch.setattr(optimizer, "step", lambda: (advance(0.25), step())[1])
    history = nn.fit(net, x, y, epochs=3, batch_size=16, validation_data=(x_val, y_val),
                     progress=False, optimizer=optimizer,
                     on_epoch_end=lambda epoch, h: (calls.append((epoch, h.epochs)),
                                                    advance(100.0)))
    assert calls == [(1, 1), (2, 2), (3, 3)]
    assert history.epochs == 3 and len(history.batch_loss) == 3 * 6
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "seconds"):
        assert len(getattr(history, key)) == 3
    assert history.loss[-1] < history.loss[0]
    assert history.val_accuracy[-1] >= 0.9
    assert history.seconds == [6 * 0.25] * 3
    # The epoch loss is the size-weighted mean of the step losses.
    assert history.loss[0] == pytest.approx(np.mean(history.batch_loss[:6]))
    scores = nn.evaluate(net, x_val, y_val)
    assert scores["accuracy"] == history.val_accuracy[-1]
    assert scores["loss"] == pytest.approx(history.val_loss[-1])
    assert net.training                                # fit/evaluate restore the mode
    assert set(history.as_dict()) == {"loss", "accuracy", "val_loss", "val_accuracy",
                                      "seconds", "batch_loss"}


def test_fit_is_reproducible_from_its_seeds():
    x, y = toy_images(32)

    def run(seed):
        net = nn.lenet5(seed=1, num_classes=2)
        return nn.fit(net, x, y, epochs=2, batch_size=8, seed=seed, progress=False).batch_loss

    assert run(4) == run(4)
    assert run(4) != run(5)


def test_fit_with_mse_and_one_hot_targets():
    x, y = toy_images(32)
    net = nn.Sequential(nn.Flatten(), nn.Linear(1024, 2, dtype=np.float64, seed=0))
    history = nn.fit(net, x, np.eye(2)[y], epochs=5, batch_size=8, loss="mse",
                     optimizer=nn.SGD(net, lr=0.01), progress=False)
    assert history.loss[-1] < history.loss[0]


def test_evaluate_and_predict_agree_and_ignore_batch_size():
    x, y = toy_images(20)
    net = nn.lenet5(num_classes=2, seed=2, dtype="float64")
    net.train()
    out = nn.predict(net, x, batch_size=7)
    np.testing.assert_allclose(out, nn.predict(net, x, batch_size=20), rtol=1e-12)
    scores = nn.evaluate(net, x, y, batch_size=3)
    assert scores["accuracy"] == np.mean(out.argmax(1) == y)
    assert scores["loss"] == pytest.approx(nn.CrossEntropyLoss()(out, y))
    assert net.training


def test_input_is_cast_to_the_model_dtype():
    x, y = toy_images(8)                                  # float64 images
    net = nn.lenet5(num_classes=2)                         # float32 model
    assert nn.predict(net, x).dtype == np.float32
    nn.fit(net, x, y, epochs=1, batch_size=4, progress=False)
    assert net.dtype == np.float32


@pytest.mark.parametrize("kwargs, exc, pattern", [
    (dict(epochs=0), ValueError, r"fit: parameter 'epochs' must be a positive int; got 0"),
    (dict(batch_size=2.5), TypeError, r"fit: parameter 'batch_size' must be a positive int"),
    (dict(y=np.zeros(3, int)), ValueError, r"fit: parameter 'y' must be a numpy.ndarray of "
                                           r"length len\(x\) = 8"),
    (dict(x=[[1.0]]), TypeError, r"fit: parameter 'x' must be a non-empty numpy.ndarray"),
    (dict(validation_data=np.zeros(3)), TypeError, r"parameter 'validation_data' must be a "
                                                   r"pair"),
    (dict(optimizer="adam"), TypeError, r"fit: parameter 'optimizer' must be a fftconv.nn "
                                        r"optimizer"),
    (dict(loss="hinge"), ValueError, r"get_loss: parameter 'loss' must be a Loss instance or "
                                     r"one of 'cross_entropy', 'mse'; got 'hinge'"),
    (dict(on_epoch_end=3), TypeError, r"parameter 'on_epoch_end' must be a callable"),
    (dict(model="net"), TypeError, r"fit: parameter 'model' must be a fftconv.nn.Module"),
    (dict(backend="nope"), ValueError, r"set_backend: parameter 'backend'"),
])
def test_fit_errors(kwargs, exc, pattern):
    x, y = toy_images(8)
    args = dict(model=nn.lenet5(num_classes=2), x=x, y=y, progress=False)
    args.update(kwargs)
    with pytest.raises(exc, match=pattern):
        nn.fit(args.pop("model"), args.pop("x"), args.pop("y"), **args)


def test_fit_refuses_inputs_with_nan_naming_the_sample():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20, 4)).astype(np.float32)
    x[13, 2] = np.nan
    net = nn.Sequential(nn.Linear(4, 2, seed=0))
    before = [p.data.copy() for p in net.parameters()]
    with pytest.raises(ValueError, match=r"fit: parameter 'x' must be finite values \(sample 13"):
        nn.fit(net, x, np.zeros(20, np.int64), progress=False)
    assert all(np.array_equal(b, p.data) for b, p in zip(before, net.parameters()))


def test_a_diverging_loss_stops_fit_before_the_update_naming_epoch_and_batch():
    """The loss turns NaN at the 7th step (epoch 2, batch 3 of 4): fit stops there,
    and the parameters are those after the 6th step's update."""

    class Diverging(nn.losses.CrossEntropyLoss):
        calls = 0

        def forward(self, output, target):
            Diverging.calls += 1
            value = super().forward(output, target)
            return float("nan") if Diverging.calls == 7 else value

    rng = np.random.default_rng(1)
    x = rng.standard_normal((32, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    net = nn.Sequential(nn.Linear(4, 2, seed=0))
    snapshots = []

    class Recording(nn.SGD):
        def step(self):
            super().step()
            snapshots.append([p.data.copy() for p in net.parameters()])

    with pytest.raises(FloatingPointError,
                       match=r"fit: the loss is nan at epoch 2, batch 3 \(of 4\)"):
        nn.fit(net, x, y, epochs=3, batch_size=8, progress=False, loss=Diverging(),
               optimizer=Recording(net, lr=0.1))
    assert len(snapshots) == 6
    assert all(np.array_equal(a, p.data) for a, p in zip(snapshots[-1], net.parameters()))
