"""conv_transpose1d/2d/3d: exactly torch.nn.functional.conv_transpose1d/2d/3d,
forward and gradients, on every backend; the adjoint identity with conv."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

import fftconv
from fftconv.testing import assert_conv_close

BACKENDS = ("direct", "im2col", "fft", "auto")


@st.composite
def geometries(draw):
    rank = draw(st.sampled_from([1, 2, 3]))
    groups = draw(st.sampled_from([1, 2]))
    small = rank == 3
    kernel, stride, dilation, padding, extra, length = [], [], [], [], [], []
    for _ in range(rank):
        k, s, d = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
        e = draw(st.integers(0, max(s, d) - 1))          # output_padding < stride or dilation
        span = d * (k - 1) + 1
        l = draw(st.integers(1, 3 if small else 5))
        # padding leaving at least one output: (l-1)s + span + e - 2p >= 1
        p = draw(st.integers(0, max(0, ((l - 1) * s + span + e - 1) // 2)))
        kernel.append(k), stride.append(s), dilation.append(d), extra.append(e)
        padding.append(p), length.append(l)
    return dict(rank=rank, x=(draw(st.integers(1, 2)), 2 * groups, *length),
                w=(2 * groups, draw(st.integers(1, 2)), *kernel),
                kw=dict(stride=tuple(stride), padding=tuple(padding),
                        output_padding=tuple(extra), groups=groups, dilation=tuple(dilation)))


@settings(max_examples=40)
@given(g=geometries(), seed=st.integers(0, 2**16))
def test_conv_transpose_matches_torch_forward_and_gradients(g, seed):
    rng = np.random.default_rng(seed)
    rank = g["rank"]
    x, w = rng.standard_normal(g["x"]), rng.standard_normal(g["w"])
    b = rng.standard_normal(g["w"][1] * g["kw"]["groups"])
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ty = getattr(F, f"conv_transpose{rank}d")(tx, tw, tb, **g["kw"])
    dy = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(dy))
    forward = getattr(fftconv, f"conv_transpose{rank}d")
    for backend in BACKENDS:
        y = forward(x, w, b, backend=backend, **g["kw"])
        assert y.shape == tuple(ty.shape)
        assert_conv_close(y, ty.detach().numpy(), err_msg=backend)
        dx, dw, db = fftconv.conv_transpose_backward(dy, x, w, backend=backend, **g["kw"])
        assert_conv_close(dx, tx.grad.numpy(), err_msg=f"{backend} dx")
        assert_conv_close(dw, tw.grad.numpy(), err_msg=f"{backend} dw")
        assert_conv_close(db, tb.grad.numpy(), err_msg=f"{backend} db")


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_transpose_is_the_adjoint_of_conv(rank):
    # <conv(u, w), v> == <u, conv_transpose(v, w)> with the same stride/padding/dilation
    rng = np.random.default_rng(rank)
    kw = dict(stride=2, padding=1, dilation=1, groups=1)
    u = rng.standard_normal((2, 3) + (9,) * rank)
    w = rng.standard_normal((4, 3) + (3,) * rank)
    y = getattr(fftconv, f"conv{rank}d")(u, w, **kw)
    v = rng.standard_normal(y.shape)
    back = getattr(fftconv, f"conv_transpose{rank}d")(v, w, **kw)   # (C_in of v, ...) = 4
    assert back.shape == u.shape
    lhs, rhs = np.vdot(y, v), np.vdot(u, back)
    assert abs(lhs - rhs) <= 1e-12 * abs(lhs)


def test_float32_stays_float32():
    x = np.ones((1, 2, 5, 5), np.float32)
    w = np.ones((2, 3, 3, 3), np.float32)
    y = fftconv.conv_transpose2d(x, w, stride=2, output_padding=1, backend="fft")
    ty = F.conv_transpose2d(torch.tensor(x), torch.tensor(w), stride=2, output_padding=1)
    assert y.dtype == np.float32
    assert_conv_close(y, ty.numpy(), np.float32)


@pytest.mark.parametrize("kwargs, exc, pattern", [
    (dict(stride=2, output_padding=2), ValueError,
     r"conv_transpose2d: parameter 'output_padding' must be a non-negative int or 2 of them, "
     r"each smaller than the stride or the dilation \(stride=\(2, 2\), dilation=\(1, 1\)\); "
     r"got 2"),
    (dict(output_padding=1), ValueError, r"parameter 'output_padding' must be"),
    (dict(output_padding=1.5), TypeError, r"parameter 'output_padding' must be"),
    (dict(padding="same"), ValueError,
     r"conv_transpose2d: parameter 'padding' must be explicit padding"),
    (dict(padding=5), ValueError,
     r"parameter 'padding' must be padding that leaves a non-empty output"),
    (dict(groups=3), ValueError, r"parameter 'w' must be of shape \(C_in=2, C_out/groups"),
])
def test_bad_transpose_arguments_get_clear_errors(kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        fftconv.conv_transpose2d(np.ones((1, 2, 3, 3)), np.ones((2, 1, 3, 3)), **kwargs)


def test_output_padding_below_the_dilation_only_is_accepted_as_in_torch():
    rng = np.random.default_rng(9)
    x, w = rng.standard_normal((1, 1, 4)), rng.standard_normal((1, 1, 3))
    y = fftconv.conv_transpose1d(x, w, stride=1, dilation=3, output_padding=2)
    ty = F.conv_transpose1d(torch.tensor(x), torch.tensor(w), stride=1, dilation=3,
                            output_padding=2)
    assert_conv_close(y, ty.numpy())
