"""padding_mode on conv1d/conv2d/conv3d: exactly torch.nn.Conv1d/2d/3d's
(F.pad by the layer's padding, then an unpadded convolution), gradients
included (the adjoint of the padding folds them back)."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import fftconv
from fftconv._padding import fold_padding, pad_by_mode
from fftconv.testing import assert_conv_close

MODES = ("reflect", "replicate", "circular")


def _torch_layer(rank, w, b, stride, padding, dilation, groups, mode):
    c_out, cg, *kernel = w.shape
    layer = getattr(torch.nn, f"Conv{rank}d")(
        cg * groups, c_out, kernel, stride=stride, padding=padding, dilation=dilation,
        groups=groups, bias=True, padding_mode=mode).double()
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(w))
        layer.bias.copy_(torch.tensor(b))
    return layer


@st.composite
def cases(draw):
    rank = draw(st.sampled_from([1, 2, 3]))
    mode = draw(st.sampled_from(MODES))
    groups = draw(st.sampled_from([1, 2]))
    same = draw(st.booleans())
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(rank))
    if same:
        stride, padding = (1,) * rank, "same"
        pads = [d * (k - 1) for k, d in zip(kernel, dilation)]
        pads = [t - t // 2 for t in pads]                  # the larger half
    else:
        stride = tuple(draw(st.integers(1, 2)) for _ in range(rank))
        padding = tuple(draw(st.integers(0, 2)) for _ in range(rank))
        pads = list(padding)
    # reflect needs pad < size; every mode needs the kernel to fit
    size = tuple(max(p + 1, d * (k - 1) + 1) + draw(st.integers(0, 2))
                 for p, k, d in zip(pads, kernel, dilation))
    return dict(rank=rank, mode=mode, groups=groups, kernel=kernel, dilation=dilation,
                stride=stride, padding=padding, size=size, batch=draw(st.integers(1, 2)))


@settings(max_examples=30)
@given(c=cases(), seed=st.integers(0, 2**16))
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")
def test_padding_modes_match_torch_layers_forward_and_gradients(c, seed):
    rng = np.random.default_rng(seed)
    rank, g = c["rank"], c["groups"]
    x = rng.standard_normal((c["batch"], 2 * g, *c["size"]))
    w = rng.standard_normal((2 * g, 2, *c["kernel"]))
    b = rng.standard_normal(2 * g)
    kw = dict(stride=c["stride"], padding=c["padding"], dilation=c["dilation"], groups=g)
    layer = _torch_layer(rank, w, b, c["stride"], c["padding"], c["dilation"], g, c["mode"])
    tx = torch.tensor(x, requires_grad=True)
    ty = layer(tx)
    dy = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(dy))
    conv = getattr(fftconv, f"conv{rank}d")
    for backend in ("direct", "im2col", "fft"):
        y = conv(x, w, b, backend=backend, padding_mode=c["mode"], **kw)
        assert_conv_close(y, ty.detach().numpy(), err_msg=backend)
        dx, dw, db = fftconv.conv_backward(dy, x, w, backend=backend, padding_mode=c["mode"],
                                           **kw)
        assert_conv_close(dx, tx.grad.numpy(), err_msg=f"{backend} dx")
        assert_conv_close(dw, layer.weight.grad.numpy(), err_msg=f"{backend} dw")
        assert_conv_close(db, layer.bias.grad.numpy(), err_msg=f"{backend} db")


@pytest.mark.parametrize("mode", MODES)
def test_fold_is_the_adjoint_of_the_padding(mode):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 5, 4, 6))
    pads = ((2, 1), (0, 3), (4, 5))            # within reflect's and circular's limits
    padded = pad_by_mode("t", x, pads, mode)
    v = rng.standard_normal(padded.shape)
    lhs = np.vdot(padded, v)
    rhs = np.vdot(x, fold_padding(v, pads, x.shape[2:], mode))
    assert abs(lhs - rhs) <= 1e-12 * abs(lhs)


def test_zeros_mode_is_the_default_and_context_round_trips():
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((1, 2, 8, 7)), rng.standard_normal((3, 2, 3, 3))
    np.testing.assert_array_equal(fftconv.conv2d(x, w, padding=1),
                                  fftconv.conv2d(x, w, padding=1, padding_mode="zeros"))
    y, ctx = fftconv.conv2d(x, w, padding=1, padding_mode="circular", backend="fft",
                            return_context=True)
    dy = rng.standard_normal(y.shape)
    a = fftconv.conv2d_backward(dy, x, w, padding=1, padding_mode="circular", context=ctx)
    b = fftconv.conv2d_backward(dy, x, w, padding=1, padding_mode="circular",
                                backend="direct")
    for u, v in zip(a, b):
        assert_conv_close(u, v)


@pytest.mark.parametrize("kwargs, exc, pattern", [
    (dict(padding_mode="mirror"), ValueError,
     r"conv2d: parameter 'padding_mode' must be one of 'zeros', 'reflect', 'replicate', "
     r"'circular'; got 'mirror'"),
    (dict(padding_mode=None), TypeError, r"parameter 'padding_mode' must be one of"),
    (dict(padding=4, padding_mode="reflect"), ValueError,
     r"conv2d: parameter 'padding' must be pads smaller than the input along each axis for "
     r"padding_mode='reflect' \(axis 0 has length 4\)"),
    (dict(padding=5, padding_mode="circular"), ValueError,
     r"pads at most the input's length along each axis for padding_mode='circular'"),
])
def test_bad_padding_mode_gets_a_clear_error(kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        fftconv.conv2d(np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3)), **kwargs)


def test_circular_pad_equal_to_the_axis_matches_torch():
    rng = np.random.default_rng(8)
    x, w = rng.standard_normal((1, 1, 3)), rng.standard_normal((1, 1, 3))
    layer = _torch_layer(1, w, np.zeros(1), 1, 3, 1, 1, "circular")
    y = fftconv.conv1d(x, w, padding=3, padding_mode="circular")
    assert_conv_close(y, layer(torch.tensor(x)).detach().numpy())


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("padding, dilation, cyclic", [
    ("same", 1, True), ("same", 2, True), (1, 1, True), (0, 1, False), (2, 1, False),
])
def test_circular_fft_is_one_cyclic_convolution_when_exact(rank, padding, dilation, cyclic):
    # stride 1, dilated kernel within the axis, at most n outputs: no padding at all
    rng = np.random.default_rng(rank)
    x, w = rng.standard_normal((2, 4) + (7,) * rank), rng.standard_normal((6, 2) + (3,) * rank)
    b = rng.standard_normal(6)
    layer = _torch_layer(rank, w, b, 1, padding, dilation, 2, "circular")
    tx = torch.tensor(x, requires_grad=True)
    ty = layer(tx)
    dy = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(dy))
    kw = dict(padding=padding, dilation=dilation, groups=2, padding_mode="circular")
    y, ctx = getattr(fftconv, f"conv{rank}d")(x, w, b, backend="fft", return_context=True, **kw)
    assert ("cyclic_spec" in ctx.saved) == cyclic
    assert_conv_close(y, ty.detach().numpy())
    for context in (ctx, None):
        dx, dw, db = fftconv.conv_backward(dy, x, w, backend="fft", context=context, **kw)
        assert_conv_close(dx, tx.grad.numpy())
        assert_conv_close(dw, layer.weight.grad.numpy())
        assert_conv_close(db, layer.bias.grad.numpy())


def test_cyclic_rule_says_why_not():
    from fftconv.backends._nd import cyclic_applies
    spec = fftconv.make_spec("t", (1, 1, 8), (1, 1, 3), padding=1, rank=1)
    assert cyclic_applies(spec) is None
    assert "stride" in cyclic_applies(fftconv.make_spec("t", (1, 1, 8), (1, 1, 3), padding=1,
                                                        stride=2, rank=1))
    assert "more outputs" in cyclic_applies(fftconv.make_spec("t", (1, 1, 8), (1, 1, 3),
                                                              padding=2, rank=1))
    assert "longer" in cyclic_applies(fftconv.make_spec("t", (1, 1, 4), (1, 1, 3), padding=2,
                                                        dilation=2, rank=1))
