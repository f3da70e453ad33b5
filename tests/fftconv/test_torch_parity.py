"""Optional: exact agreement with PyTorch when it is installed (not a dependency)."""

import numpy as np
import pytest

import fftconv

from .conftest import N_GEOMETRIES, case, conv_kwargs

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("index", range(0, N_GEOMETRIES, 7))
# torch's note that it pads a copy for 'same' with even kernels (our geometry, its cost)
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")
def test_forward_and_autograd_match_torch(index):
    g, spec, x, w, bias, dy = case(index)
    kw = conv_kwargs(g)
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w, requires_grad=True)
    tb = torch.tensor(bias, requires_grad=True)
    torch_kw = dict(kw)
    tin = tx
    if isinstance(kw["padding"], tuple) and isinstance(kw["padding"][0], tuple):
        (top, bottom), (left, right) = kw["padding"]   # torch has no asymmetric padding
        tin = torch.nn.functional.pad(tx, (left, right, top, bottom))
        torch_kw["padding"] = 0
    ty = torch.nn.functional.conv2d(tin, tw, tb, **torch_kw)
    ty.backward(torch.tensor(dy))
    for backend in fftconv.available_backends():
        if not fftconv.get_backend(backend).supports(spec):     # Winograd: stride 1 only
            with pytest.raises(NotImplementedError, match="does not support"):
                fftconv.conv2d(x, w, bias, backend=backend, **kw)
            continue
        np.testing.assert_allclose(fftconv.conv2d(x, w, bias, backend=backend, **kw),
                                   ty.detach().numpy(), rtol=1e-10, atol=1e-10)
        dx, dw, db = fftconv.conv2d_backward(dy, x, w, backend=backend, **kw)
        np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(dw, tw.grad.numpy(), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(db, tb.grad.numpy(), rtol=1e-10, atol=1e-10)
