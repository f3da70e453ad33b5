"""conv1d / conv3d: exactly torch.nn.functional.conv1d / conv3d, forward and
gradients, on every backend that computes ranks other than 2; the geometry
class over any rank; the 2-D names kept for rank-2 specs."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

import fftconv
from fftconv import ConvSpec, make_spec
from fftconv.testing import assert_conv_close, directional_derivative_error

ND_BACKENDS = ("direct", "im2col", "fft", "auto")


@st.composite
def geometries(draw, rank):
    """A small random layer of ``rank`` spatial axes that torch accepts (symmetric padding)."""
    groups = draw(st.sampled_from([1, 2]))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel, stride, dilation, padding, size = [], [], [], [], []
    small = rank == 3
    for _ in range(rank):
        k = draw(st.integers(1, 3 if small else 6))
        d = draw(st.integers(1, 2))
        p = draw(st.integers(0, 2))
        span = d * (k - 1) + 1
        n = max(1, span - 2 * p) + draw(st.integers(0, 3 if small else 9))
        kernel.append(k), dilation.append(d), padding.append(p), size.append(n)
        stride.append(draw(st.integers(1, 2 if small else 3)))
    batch = draw(st.integers(1, 2))
    return dict(x=(batch, c_in, *size), w=(c_out, c_in // groups, *kernel),
                kw=dict(stride=tuple(stride), padding=tuple(padding),
                        dilation=tuple(dilation), groups=groups))


def _torch_reference(rank, x, w, b, dy, kw):
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ty = getattr(F, f"conv{rank}d")(tx, tw, tb, **kw)
    ty.backward(torch.tensor(dy))
    return ty.detach().numpy(), tx.grad.numpy(), tw.grad.numpy(), tb.grad.numpy()


def _check_against_torch(rank, g, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal(g["x"]), rng.standard_normal(g["w"])
    b = rng.standard_normal(g["w"][0])
    spec = make_spec("t", g["x"], g["w"], rank=rank, **g["kw"])
    dy = rng.standard_normal(spec.output_shape)
    ty, tdx, tdw, tdb = _torch_reference(rank, x, w, b, dy, g["kw"])
    forward = getattr(fftconv, f"conv{rank}d")
    cast = [a.astype(dtype) for a in (x, w, b, dy)]
    for backend in ND_BACKENDS:
        y = forward(*cast[:3], backend=backend, **g["kw"])
        assert y.dtype == dtype and y.shape == ty.shape
        assert_conv_close(y, ty, dtype, err_msg=backend)
        dx, dw, db = fftconv.conv_backward(cast[3], *cast[:2], backend=backend, **g["kw"])
        assert_conv_close(dx, tdx, dtype, err_msg=f"{backend} dx")
        assert_conv_close(dw, tdw, dtype, err_msg=f"{backend} dw")
        assert_conv_close(db, tdb, dtype, err_msg=f"{backend} db")


@settings(max_examples=25)
@given(g=geometries(1), seed=st.integers(0, 2**16))
def test_conv1d_matches_torch_on_every_backend(g, seed):
    _check_against_torch(1, g, seed)


@settings(max_examples=12)
@given(g=geometries(3), seed=st.integers(0, 2**16))
def test_conv3d_matches_torch_on_every_backend(g, seed):
    _check_against_torch(3, g, seed)


@pytest.mark.parametrize("rank", [1, 3])
def test_float32_stays_float32_and_matches_torch(rank):
    g = dict(x=(2, 4) + (9,) * rank, w=(4, 2) + (3,) * rank,
             kw=dict(stride=2, padding=1, dilation=1, groups=2))
    _check_against_torch(rank, g, 7, np.float32)


@pytest.mark.parametrize("rank", [1, 3])
@pytest.mark.parametrize("backend", ["direct", "im2col", "fft"])
def test_same_padding_keeps_size_with_odd_pad_last(rank, backend):
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((1, 2) + (6,) * rank), rng.standard_normal((3, 2) + (4,) * rank)
    y = getattr(fftconv, f"conv{rank}d")(x, w, padding="same", backend=backend)
    tin = F.pad(torch.tensor(x), (1, 2) * rank)           # total 3: the odd pad at the end
    ty = getattr(F, f"conv{rank}d")(tin, torch.tensor(w)).numpy()
    assert y.shape == x.shape[:1] + (3,) + x.shape[2:]
    assert_conv_close(y, ty)


@pytest.mark.parametrize("rank", [1, 3])
def test_gradients_pass_random_projection_check(rank):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((1, 2) + (7,) * rank)
    w = rng.standard_normal((2, 2) + (3,) * rank)
    conv = getattr(fftconv, f"conv{rank}d")
    dy = rng.standard_normal(conv(x, w, stride=2, padding=1).shape)
    dx, dw, _ = fftconv.conv_backward(dy, x, w, stride=2, padding=1, backend="fft")

    def loss_x(xv):
        return float(np.sum(conv(xv, w, stride=2, padding=1, backend="direct") * dy))

    def loss_w(wv):
        return float(np.sum(conv(x, wv, stride=2, padding=1, backend="direct") * dy))
    assert directional_derivative_error(loss_x, dx, x, rng) < 1e-6
    assert directional_derivative_error(loss_w, dw, w, rng) < 1e-6


@pytest.mark.parametrize("rank", [1, 3])
def test_fft_backward_reuses_the_forward_context(rank):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 2) + (8,) * rank)
    w = rng.standard_normal((3, 2) + (3,) * rank)
    conv = getattr(fftconv, f"conv{rank}d")
    y, ctx = conv(x, w, padding=1, backend="fft", return_context=True)
    assert ctx.backend == "fft" and ctx.spec.rank == rank
    assert {"input_spectra", "kernel_spectra"} <= set(ctx.saved)
    dy = rng.standard_normal(y.shape)
    with_ctx = fftconv.conv_backward(dy, x, w, padding=1, context=ctx)
    without = fftconv.conv_backward(dy, x, w, padding=1, backend="direct")
    for a, b in zip(with_ctx, without):
        assert_conv_close(a, b)


def test_conv2d_backward_and_conv_backward_agree_in_2d():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 2, 7, 6)), rng.standard_normal((4, 2, 3, 2))
    dy = rng.standard_normal((2, 4, 3, 5))
    a = fftconv.conv2d_backward(dy, x, w, stride=(2, 1))
    b = fftconv.conv_backward(dy, x, w, stride=(2, 1))
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


# -- the geometry class ------------------------------------------------------------------

def test_spec_of_any_rank_and_the_2d_names():
    spec = make_spec("t", (2, 4, 5, 6, 7), (6, 2, 3, 1, 3), stride=(1, 2, 1), padding=1,
                     groups=2, rank=3)
    assert spec.rank == 3 and spec.size == (5, 6, 7) and spec.kernel == (3, 1, 3)
    assert spec.output_shape == (2, 6, 5, 4, 7)
    assert spec.padding == ((1, 1),) * 3 and spec.taps == 9
    assert spec.macs == 2 * 5 * 4 * 7 * 6 * 9 * 2
    with pytest.raises(AttributeError, match=r"ConvSpec\.kh is defined for rank-2.*rank 3"):
        spec.kh
    flat = make_spec("t", (2, 4, 9, 8), (6, 4, 3, 2), padding=((1, 0), (2, 2)))
    assert flat.rank == 2 and (flat.h, flat.w, flat.kh, flat.kw) == (9, 8, 3, 2)
    assert (flat.out_h, flat.out_w, flat.padded_h, flat.span_w) == (8, 11, 10, 2)
    # the 2-D constructor, by position and by keyword, is the same spec
    assert ConvSpec(2, 4, 9, 8, 6, 3, 2, (1, 1), ((1, 0), (2, 2)), (1, 1), 1) == flat
    assert ConvSpec(n=2, c_in=4, size=(9, 8), c_out=6, kernel=(3, 2),
                    padding=((1, 0), (2, 2))) == flat
    assert flat.replace(h=10).size == (10, 8)
    assert str(flat) == ("ConvSpec(x=(2, 4, 9, 8), w=(6, 4, 3, 2), stride=(1, 1), "
                         "padding=((1, 0), (2, 2)), dilation=(1, 1), groups=1, dtype=float64)")


@pytest.mark.parametrize("call, exc, pattern", [
    (lambda: fftconv.conv1d(np.ones((1, 1, 4, 4)), np.ones((1, 1, 3))), ValueError,
     r"conv1d: parameter 'x' must be a 3-d array"),
    (lambda: fftconv.conv3d(np.ones((1, 1, 4, 4, 4)), np.ones((1, 1, 3, 3, 3)),
                            stride=(1, 2)), TypeError,
     r"conv3d: parameter 'stride' must be a positive int or a tuple of 3 positive ints"),
    (lambda: fftconv.conv1d(np.ones((1, 1, 4)), np.ones((1, 1, 3)), stride=2, padding="same"),
     ValueError, r"conv1d: parameter 'padding' must be explicit padding when stride=\(2,\)"),
    (lambda: fftconv.conv1d(np.ones((1, 1, 4)), np.ones((1, 1, 9))), ValueError,
     r"conv1d: parameter 'w' must be a kernel whose dilated size \(9,\) fits the padded "
     r"input \(4,\)"),
    (lambda: fftconv.conv3d(np.ones((1, 4, 4, 4, 4)), np.ones((2, 3, 1, 1, 1)), groups=2),
     ValueError, r"parameter 'w' must be of shape \(C_out, C_in/groups=2, kd, kh, kw\)"),
    (lambda: fftconv.conv_backward(np.ones((1, 1, 2)), np.ones((1, 1)), np.ones((1, 1, 3))),
     ValueError, r"conv_backward: parameter 'x' must be a 3-, 4- or 5-d array"),
    (lambda: fftconv.conv_backward(np.ones((1, 1, 3)), np.ones((1, 1, 4)), np.ones((1, 1, 3))),
     ValueError, r"conv_backward: parameter 'dy' must be of the forward output's shape "
     r"\(N, C_out, OL\) = \(1, 1, 2\)"),
])
def test_bad_nd_input_gets_a_clear_error(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


def test_a_2d_only_backend_is_refused_for_other_ranks_and_auto_skips_it():
    @fftconv.register_backend
    class Flat(fftconv.Backend):
        name = "flat-only"

        def forward(self, x, w, spec):
            return np.full(spec.output_shape, -1.0)          # never reached for rank 1
    try:
        x, w = np.ones((1, 1, 6)), np.ones((1, 1, 3))
        with pytest.raises(NotImplementedError,
                           match=r"backend 'flat-only' does not support .*over \(2,\) spatial axes"):
            fftconv.conv1d(x, w, backend="flat-only")
        spec = make_spec("t", x.shape, w.shape, rank=1)
        choice = fftconv.choose_backend(spec)
        assert "flat-only" in choice.skipped and choice.name in ("direct", "im2col", "fft")
        np.testing.assert_allclose(fftconv.conv1d(x, w), 3.0)
    finally:
        fftconv.unregister_backend("flat-only")


def test_auto_picks_fft_for_a_long_1d_kernel_and_a_tiny_one_elsewhere():
    long = make_spec("t", (1, 1, 16000), (1, 1, 1025), padding="same", rank=1)
    assert fftconv.choose_backend(long).name == "fft"
    tiny = make_spec("t", (1, 1, 32), (1, 1, 3), rank=1)
    assert fftconv.choose_backend(tiny).name != "fft"


@pytest.mark.parametrize("budget", [1 << 13, 1 << 16])
def test_im2col_chunks_within_the_memory_budget_give_the_same_result(budget):
    # 8 KiB: slabs of the first output axis of one image; 64 KiB: whole images
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((3, 2, 6, 5, 7)), rng.standard_normal((4, 2, 3, 2, 3))
    dy = rng.standard_normal((3, 4, 2, 4, 5))
    kw = dict(stride=(1, 1, 1), padding=(0, 0, 0), dilation=(2, 1, 1))
    want = fftconv.conv3d(x, w, backend="direct", **kw)
    want_grads = fftconv.conv_backward(dy, x, w, backend="direct", **kw)
    with fftconv.set_memory_budget(budget):
        assert_conv_close(fftconv.conv3d(x, w, backend="im2col", **kw), want)
        for got, ref in zip(fftconv.conv_backward(dy, x, w, backend="im2col", **kw),
                            want_grads):
            assert_conv_close(got, ref)
