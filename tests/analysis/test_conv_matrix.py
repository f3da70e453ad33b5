"""Convolution as a matrix (seed 004) and FC layers as convolutions (seed 003)."""

import numpy as np
import pytest
import scipy.signal
import scipy.sparse

import fftconv
from analysis.complexity import output_shape
from analysis.conv_matrix import conv_matrix, fc_to_conv
from fftconv import nn
from fftconv.testing import assert_conv_close, random_conv_inputs, random_geometry

SEED = 20260802
BACKENDS = fftconv.available_backends()


def kwargs_of(g):
    return {k: g[k] for k in ("stride", "padding", "dilation", "groups")}


def rot180(a):
    return a[..., ::-1, ::-1]


@pytest.mark.parametrize("index", range(40))
def test_matrix_is_conv2d_and_its_transpose_is_the_input_gradient(index):
    """For random stride, padding, dilation and groups: ``A x = conv2d(x)`` and
    ``Aᵀ dy = conv2d_backward(dy)[0]`` (seed 004: backward is the transpose of forward)."""
    rng = np.random.default_rng([SEED, index])
    g = random_geometry(rng, max_extra=5)
    x, w, _ = random_conv_inputs(rng, g)
    kwargs = kwargs_of(g)
    # The exact oracle: 'auto' may pick the FFT backend, whose rounding is not the point.
    y = fftconv.conv2d(x, w, backend="direct", **kwargs)
    dy = rng.standard_normal(y.shape)
    dx = fftconv.conv2d_backward(dy, x, w, needs="input", backend="direct", **kwargs)[0]
    a = conv_matrix(x.shape, w, sparse=True, **kwargs)
    assert isinstance(a, scipy.sparse.csr_array)
    assert a.shape == (y.size, x.size)
    assert_conv_close((a @ x.ravel()).reshape(y.shape), y)
    assert_conv_close((a.T @ dy.ravel()).reshape(x.shape), dx)
    if a.shape[0] * a.shape[1] <= 2_000_000:
        dense = conv_matrix(x.shape, w, **kwargs)
        assert isinstance(dense, np.ndarray) and dense.dtype == np.float64
        np.testing.assert_array_equal(dense, a.toarray())


def test_matrix_keeps_float32_and_converts_integers():
    w32 = np.ones((2, 1, 2, 2), np.float32)
    assert conv_matrix((1, 1, 3, 3), w32).dtype == np.float32
    assert conv_matrix((1, 1, 3, 3), w32, sparse=True).dtype == np.float32
    assert conv_matrix((1, 1, 3, 3), np.ones((2, 1, 2, 2), np.int64)).dtype == np.float64


def test_seed_004_affine_form_and_its_transpose():
    """Seed 004's 3×3 input, 2×2 kernel: the 4×9 matrix, dW = dY ⊗ X, dX = Aᵀ dY."""
    w11, w12, w21, w22 = 2.0, 3.0, 5.0, 7.0
    w = np.array([[[[w11, w12], [w21, w22]]]])
    expected = np.array([
        [w11, w12, 0, w21, w22, 0, 0, 0, 0],
        [0, w11, w12, 0, w21, w22, 0, 0, 0],
        [0, 0, 0, w11, w12, 0, w21, w22, 0],
        [0, 0, 0, 0, w11, w12, 0, w21, w22],
    ])
    a = conv_matrix((1, 1, 3, 3), w)
    np.testing.assert_array_equal(a, expected)
    rng = np.random.default_rng(SEED)
    x, dy = rng.standard_normal((1, 1, 3, 3)), rng.standard_normal((1, 1, 2, 2))
    dx, dw, db = fftconv.conv2d_backward(dy, x, w)
    # dX is the 9x4 matrix of the seed times dY, i.e. Aᵀ dY ...
    np.testing.assert_allclose(dx.ravel(), expected.T @ dy.ravel(), rtol=1e-12)
    # ... which is the wide convolution rot180(W) ⊗̃ dY = rot180(dY) ⊗̃ W.
    np.testing.assert_allclose(dx, fftconv.conv2d(dy, rot180(w), padding=1), rtol=1e-12)
    np.testing.assert_allclose(dx, fftconv.conv2d(w, rot180(dy), padding=1), rtol=1e-12)
    # dW = dY ⊗ X (valid cross-correlation) and db = Σ dY.
    np.testing.assert_allclose(dw, fftconv.conv2d(x, dy), rtol=1e-12)
    np.testing.assert_allclose(db, dy.sum(axis=(0, 2, 3)), rtol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("index", range(6))
def test_wide_convolution_is_commutative(backend, index):
    """Seed 004: rot180(W) ⊗̃ X = rot180(X) ⊗̃ W (⊗̃: cross-correlation with full zero
    padding), both being the full convolution of X and W."""
    rng = np.random.default_rng([SEED, 1, index])
    xh, xw, kh, kw = (int(v) for v in rng.integers(1, 7, size=4))
    x, w = rng.standard_normal((xh, xw)), rng.standard_normal((kh, kw))
    left = fftconv.conv2d(x[None, None], rot180(w)[None, None], padding=(kh - 1, kw - 1),
                          backend=backend)
    right = fftconv.conv2d(w[None, None], rot180(x)[None, None], padding=(xh - 1, xw - 1),
                           backend=backend)
    assert_conv_close(left, right)
    assert_conv_close(left[0, 0], scipy.signal.convolve2d(x, w, mode="full"))
    a_w = conv_matrix((1, 1, xh, xw), rot180(w)[None, None], padding=(kh - 1, kw - 1))
    a_x = conv_matrix((1, 1, kh, kw), rot180(x)[None, None], padding=(xh - 1, xw - 1))
    assert_conv_close(a_w @ x.ravel(), a_x @ w.ravel())


@pytest.mark.parametrize("kernel", [1, 3, 5, 7])
@pytest.mark.parametrize("dilation", [1, 2, 3])
def test_dilated_same_padding_rule(kernel, dilation):
    """Seed 004: with kernel K and dilation D, P = D(K−1)/2 keeps the width; the layer is
    then a square matrix, equal to padding='same'."""
    pad = dilation * (kernel - 1) // 2
    size = dilation * (kernel - 1) + 3
    shape = (1, 2, size, size + 1)
    w = np.random.default_rng([SEED, 2, kernel, dilation]).standard_normal((2, 2, kernel, kernel))
    assert output_shape(shape, w.shape, padding=pad, dilation=dilation) == shape
    a = conv_matrix(shape, w, padding=pad, dilation=dilation)
    assert a.shape[0] == a.shape[1]
    np.testing.assert_array_equal(a, conv_matrix(shape, w, padding="same", dilation=dilation))


@pytest.mark.parametrize("kernel, dilation", [(2, 1), (4, 1), (2, 3), (4, 3)])
def test_same_padding_is_asymmetric_when_d_k_minus_1_is_odd(kernel, dilation):
    """D(K−1) odd: no symmetric P keeps the size; 'same' pads one more zero at the end."""
    total = dilation * (kernel - 1)
    shape, w_shape = (1, 1, 9, 9), (1, 1, kernel, kernel)
    for pad in (total // 2, total // 2 + 1):
        assert output_shape(shape, w_shape, padding=pad, dilation=dilation) != shape
    asym = ((total // 2, total - total // 2),) * 2
    assert output_shape(shape, w_shape, padding=asym, dilation=dilation) == shape
    assert output_shape(shape, w_shape, padding="same", dilation=dilation) == shape


def test_fc_to_conv_gives_identical_outputs():
    rng = np.random.default_rng([SEED, 3])
    weight, bias = rng.standard_normal((7, 3 * 4 * 5)), rng.standard_normal(7)
    x = rng.standard_normal((6, 3, 4, 5))
    fc = x.reshape(6, -1) @ weight.T + bias
    for backend in BACKENDS:
        conv = fftconv.conv2d(x, fc_to_conv(weight, (3, 4, 5)), bias, backend=backend)
        assert conv.shape == (6, 7, 1, 1)
        assert_conv_close(conv[:, :, 0, 0], fc)
    assert np.shares_memory(fc_to_conv(weight, (3, 4, 5)), weight)


# -- a LeNet-5-shaped network with random weights --------------------------------

def random_lenet(rng):
    """Weights of LeNet-5's layers (C3 masked by the connection table; FC tail as
    matrices, as a trainer would store them)."""
    mask = nn.lenet5_connection_table()[:, :, None, None]
    return dict(
        c1=rng.standard_normal((6, 1, 5, 5)) * 0.3, b1=rng.standard_normal(6) * 0.1,
        s2=rng.standard_normal(6), s2b=rng.standard_normal(6) * 0.1,
        c3=rng.standard_normal((16, 6, 5, 5)) * 0.3 * mask, b3=rng.standard_normal(16) * 0.1,
        s4=rng.standard_normal(16), s4b=rng.standard_normal(16) * 0.1,
        c5=rng.standard_normal((120, 400)) * 0.1, b5=rng.standard_normal(120) * 0.1,
        f6=rng.standard_normal((84, 120)) * 0.1, b6=rng.standard_normal(84) * 0.1,
        out=rng.standard_normal((10, 84)) * 0.1, bout=rng.standard_normal(10) * 0.1,
    )


def subsample(h, coef, bias, backend):
    """LeNet-5's S layers: 2×2 window sums × a coefficient + a bias, then a sigmoid."""
    c = h.shape[1]
    sums = fftconv.conv2d(h, np.ones((c, 1, 2, 2)), stride=2, groups=c, backend=backend)
    return 1 / (1 + np.exp(-(coef[:, None, None] * sums + bias[:, None, None])))


def lenet_features(x, p, backend):
    h = np.tanh(fftconv.conv2d(x, p["c1"], p["b1"], backend=backend))
    h = subsample(h, p["s2"], p["s2b"], backend)
    h = np.tanh(fftconv.conv2d(h, p["c3"], p["b3"], backend=backend))
    return subsample(h, p["s4"], p["s4b"], backend)


def lenet_with_fc_tail(x, p, backend):
    """(N, 1, 32, 32) → (N, 10): flatten the S4 maps, then three FC layers."""
    h = lenet_features(x, p, backend).reshape(len(x), -1)
    h = np.tanh(h @ p["c5"].T + p["b5"])
    h = np.tanh(h @ p["f6"].T + p["b6"])
    return h @ p["out"].T + p["bout"]


def lenet_all_conv(x, p, backend):
    """The same network with its FC tail converted: (N, 1, H, W) → (N, 10, OH, OW)."""
    h = lenet_features(x, p, backend)
    h = np.tanh(fftconv.conv2d(h, fc_to_conv(p["c5"], (16, 5, 5)), p["b5"], backend=backend))
    h = np.tanh(fftconv.conv2d(h, fc_to_conv(p["f6"], (120, 1, 1)), p["b6"], backend=backend))
    return fftconv.conv2d(h, fc_to_conv(p["out"], (84, 1, 1)), p["bout"], backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_lenet5_all_conv_equals_fc_tail_and_slides_over_larger_images(backend):
    """Seed 003: the converted LeNet-5 gives the same scores on 32×32 digits, and on a
    larger image one pass gives the score map of every 32×32 window at stride 4
    (the product of the two subsampling strides)."""
    pooling = fftconv.make_spec("s2", (1, 6, 28, 28), (6, 1, 2, 2), stride=2, groups=6)
    if not fftconv.get_backend(backend).supports(pooling):     # Winograd: stride 1 only
        with pytest.raises(NotImplementedError, match="stride 1 only"):
            fftconv.conv2d(np.ones((1, 6, 28, 28)), np.ones((6, 1, 2, 2)), stride=2,
                           groups=6, backend=backend)
        return
    rng = np.random.default_rng([SEED, 4])
    p = random_lenet(rng)
    digits = rng.standard_normal((3, 1, 32, 32))
    reference = lenet_with_fc_tail(digits, p, backend)
    converted = lenet_all_conv(digits, p, backend)
    assert converted.shape == (3, 10, 1, 1)
    assert_conv_close(converted[:, :, 0, 0], reference)

    page = rng.standard_normal((2, 1, 32 + 4 * 3, 32 + 4 * 2))
    scores = lenet_all_conv(page, p, backend)
    assert scores.shape == (2, 10, 4, 3)
    windows = np.stack([page[:, :, 4 * i:4 * i + 32, 4 * j:4 * j + 32]
                        for i in range(4) for j in range(3)], axis=1)
    slid = lenet_with_fc_tail(windows.reshape(-1, 1, 32, 32), p, backend)
    slid = slid.reshape(2, 4, 3, 10).transpose(0, 3, 1, 2)
    assert_conv_close(scores, slid)


@pytest.mark.parametrize("call, exc, pattern", [
    (lambda: conv_matrix((1, 1, 3), np.ones((1, 1, 2, 2))), ValueError,
     r"conv_matrix: parameter 'input_shape' must be a tuple of 4 positive ints"),
    (lambda: conv_matrix((1, 1, 3, 3), [[1.0]]), TypeError,
     r"conv_matrix: parameter 'w' must be an array \(a numpy.ndarray or .*; got \[\[1.0\]\]"),
    (lambda: conv_matrix((1, 1, 3, 3), np.ones((1, 1, 2))), ValueError,
     r"conv_matrix: parameter 'w' must be a 4-d array \(C_out, C_in/groups, kh, kw\)"),
    (lambda: conv_matrix((1, 1, 3, 3), np.ones((1, 1, 2, 2), complex)), TypeError,
     r"parameter 'w' must be an array of dtype float32, float64 or an integer type"),
    (lambda: conv_matrix((1, 1, 3, 3), np.ones((1, 1, 0, 2))), ValueError,
     r"parameter 'w' must be a non-empty array"),
    (lambda: conv_matrix((1, 2, 3, 3), np.ones((1, 1, 2, 2))), ValueError,
     r"conv_matrix: parameter 'w' must be of shape \(C_out, C_in/groups=2"),
    (lambda: conv_matrix((1, 1, 3, 3), np.ones((1, 1, 2, 2)), sparse="yes"), TypeError,
     r"conv_matrix: parameter 'sparse' must be a bool"),
    (lambda: conv_matrix((1, 1, 3, 3), np.ones((1, 1, 2, 2)), padding="full"), ValueError,
     r"conv_matrix: parameter 'padding'"),
    (lambda: fc_to_conv(np.ones((4, 10)), (2, 2, 2)), ValueError,
     r"fc_to_conv: parameter 'in_shape' must be a \(C, H, W\) with C·H·W = in_features = 10; "
     r"got \(2, 2, 2\)"),
    (lambda: fc_to_conv(np.ones(10), (10, 1, 1)), ValueError,
     r"fc_to_conv: parameter 'linear_weight' must be a 2-d array"),
    (lambda: fc_to_conv(np.ones((4, 10)), (10, 1)), ValueError,
     r"fc_to_conv: parameter 'in_shape' must be a tuple of 3 positive ints \(C, H, W\)"),
    (lambda: fc_to_conv("w", (10, 1, 1)), TypeError, r"parameter 'linear_weight'"),
])
def test_errors(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()
