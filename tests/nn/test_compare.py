"""The PyTorch twin of a network computes the same thing (skipped without PyTorch)."""

import numpy as np
import pytest

from fftconv import nn

from .test_train import toy_images

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("model, kwargs", [
    ("lenet5", {"partial_connections": True}),
    ("lenet5_modern", {"dropout": 0.0}),
])
def test_to_torch_forward_and_gradients_match(model, kwargs):
    net = nn.build_model(model, seed=2, dtype="float64", **kwargs)
    twin = nn.compare.to_torch(net)
    x, y = toy_images(6)
    out = net(x)
    loss = nn.CrossEntropyLoss()
    loss(out, y)
    net.zero_grad()
    net.backward(loss.backward())
    t_out = twin(torch.from_numpy(x))
    np.testing.assert_allclose(out, t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    torch.nn.functional.cross_entropy(t_out, torch.from_numpy(y)).backward()
    ours = [p.grad for p in net.parameters()]
    theirs = [p.grad.numpy() for p in twin.parameters()]
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-12)


def test_compare_epoch_times_trains_the_same_run_everywhere(monkeypatch):
    x, y = toy_images(32)
    # Clocks that move only per optimizer step (fftconv: 0.5 s, PyTorch: 0.25 s)
    from fftconv.nn import optim

    from .test_train import fake_clock
    ours, theirs = fake_clock(monkeypatch, "fftconv.nn.train"), \
        fake_clock(monkeypatch, "fftconv.nn.compare")
    adam_step = optim.Adam.step
    monkeypatch.setattr(optim.Adam, "step", lambda self: (ours(0.5), adam_step(self))[1])
    torch_step = torch.optim.Adam.step
    monkeypatch.setattr(torch.optim.Adam, "step",
                        lambda self, *a, **k: (theirs(0.25), torch_step(self, *a, **k))[1])
    rows = nn.compare_epoch_times(x, y, "lenet5", batch_size=8, epochs=2, threads=1,
                                  model_kwargs={"dtype": "float64", "num_classes": 2})
    names = [row["name"] for row in rows]
    assert names == [*nn.compare.available_backends(), "torch"]
    reference = rows[0]["loss"]
    for row in rows:                                        # 32 images, 4 steps per epoch
        assert row["seconds"] == ([1.0, 1.0] if row["name"] == "torch" else [2.0, 2.0])
        assert row["median"] == row["seconds"][0]
        np.testing.assert_allclose(row["loss"], reference, rtol=1e-9)
    table = nn.format_comparison(rows, 8, 1)
    assert "(1.00x)" not in table and " 1.00x" in table and " 2.00x" in table
