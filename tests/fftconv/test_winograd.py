"""The Winograd backend: its transforms' defining identity in exact arithmetic,
every tile size against the direct oracle (forward and both gradients), the
refusals, and the tolerance per tile size."""

from fractions import Fraction

import numpy as np
import pytest

import fftconv
from fftconv.backends._winograd_transforms import MAX_ALPHA, exact_transforms, points
from fftconv.backends.direct import conv2d_backward_reference, conv2d_reference
from fftconv.backends.winograd import set_tile_size, tile_options
from fftconv.testing import (assert_conv_close, directional_derivative_error,
                             relative_error, winograd_tolerance)

SIZES = [(m, r) for r in range(1, 8) for m in range(1, 7) if m + r - 1 <= MAX_ALPHA]


@pytest.mark.parametrize("m, r", SIZES)
def test_transforms_satisfy_the_defining_identity_exactly(m, r):
    """``Aᵀ[(G g) ⊙ (Bᵀ d)] = valid correlation of d and g`` in rational arithmetic,
    for basis vectors g, d (so for every g, d: both sides are bilinear)."""
    at, g, bt = exact_transforms(m, r)
    alpha = m + r - 1
    assert (len(at), len(at[0]), len(g), len(g[0]), len(bt), len(bt[0])) == \
        (m, alpha, alpha, r, alpha, alpha)
    for u in range(r):
        for k in range(alpha):
            gu = [g[xi][u] for xi in range(alpha)]
            dk = [bt[xi][k] for xi in range(alpha)]
            y = [sum(at[i][xi] * gu[xi] * dk[xi] for xi in range(alpha)) for i in range(m)]
            assert y == [Fraction(int(k == i + u)) for i in range(m)]


def test_points_are_the_stated_ones_and_f23_is_lavins():
    assert points(4, 3) == (0, 1, -1, 2, -2)
    assert points(6, 3) == (0, 1, -1, 2, -2, Fraction(1, 2), Fraction(-1, 2))
    at, g, bt = exact_transforms(2, 3)
    assert [[int(v) for v in row] for row in at] == [[1, 1, 1, 0], [0, 1, -1, 1]]
    assert [[int(v) for v in row] for row in bt] == \
        [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, -1, 0, 1]]
    with pytest.raises(ValueError, match="m \\+ r - 1"):
        points(12, 3)


def test_float_identity_in_float64():
    rng = np.random.default_rng(0)
    from fftconv.backends._winograd_transforms import transform_matrices
    for m, r in SIZES:
        a, g, b = transform_matrices(m, r)
        d, k = rng.standard_normal(m + r - 1), rng.standard_normal(r)
        np.testing.assert_allclose(a @ ((g @ k) * (b @ d)), np.correlate(d, k, "valid"),
                                   rtol=1e-11, atol=1e-11)


CASES = [  # (x shape, w shape, padding, groups)
    ((2, 3, 9, 11), (4, 3, 3, 3), 1, 1),
    ((1, 4, 8, 7), (6, 2, 3, 3), ((0, 2), (1, 0)), 2),
    ((2, 4, 10, 9), (4, 1, 3, 3), 1, 4),                   # depthwise
    ((1, 2, 12, 10), (3, 2, 5, 5), 2, 1),
    ((2, 2, 9, 8), (3, 2, 3, 1), ((1, 1), (0, 0)), 1),     # r × 1
    ((1, 3, 7, 13), (2, 3, 1, 5), 0, 1),                   # 1 × r
    ((1, 2, 6, 9), (2, 2, 2, 7), 0, 1),
    ((3, 2, 5, 5), (2, 2, 3, 3), 3, 1),                    # padding beyond the kernel
]


@pytest.mark.parametrize("m", [None, 2, 4, 6])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_forward_and_gradients_match_direct(case, m):
    xs, ws, padding, groups = CASES[case]
    rng = np.random.default_rng([3, case])
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    kwargs = dict(padding=padding, groups=groups)
    spec = fftconv.make_spec("test", xs, ws, **kwargs)
    if m is not None and m + max(spec.kh, spec.kw) - 1 > MAX_ALPHA:
        m = 2
    dy = rng.standard_normal(spec.output_shape)
    dx_ref, dw_ref = conv2d_backward_reference(dy, x, w, spec)
    with set_tile_size(m) if m else fftconv.set_backend("winograd"):
        y, ctx = fftconv.conv2d(x, w, backend="winograd", return_context=True, **kwargs)
        dx, dw, _ = fftconv.conv2d_backward(dy, x, w, context=ctx, **kwargs)
        dx2, dw2, _ = fftconv.conv2d_backward(dy, x, w, backend="winograd", **kwargs)
    assert_conv_close(y, conv2d_reference(x, w, spec))
    for got in (dx, dx2):
        assert_conv_close(got, dx_ref)
    for got in (dw, dw2):
        assert_conv_close(got, dw_ref)
    lhs = np.vdot(y, dy)            # adjoint identity: backward is forward's transpose
    np.testing.assert_allclose([np.vdot(x, dx), np.vdot(w, dw)], [lhs, lhs], rtol=1e-11)


def test_gradients_by_random_projection_under_a_small_memory_budget():
    """Blocks of tile rows (a small budget) and one block give the same gradients,
    and they are the derivatives of the forward."""
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((2, 3, 20, 18)), rng.standard_normal((4, 3, 3, 3))
    r = rng.standard_normal((2, 4, 20, 18))
    dx, dw, _ = fftconv.conv2d_backward(r, x, w, padding=1, backend="winograd")
    with fftconv.set_memory_budget(64 << 10):
        dx_b, dw_b, _ = fftconv.conv2d_backward(r, x, w, padding=1, backend="winograd")
        y_b = fftconv.conv2d(x, w, padding=1, backend="winograd")
    assert_conv_close(dx_b, dx)
    assert_conv_close(dw_b, dw)
    assert_conv_close(y_b, fftconv.conv2d(x, w, padding=1, backend="direct"))

    def loss(xx=x, ww=w):
        return float(np.vdot(fftconv.conv2d(xx, ww, padding=1, backend="winograd"), r))
    assert directional_derivative_error(lambda v: loss(xx=v), dx, x, rng, eps=1e-2) < 1e-9
    assert directional_derivative_error(lambda v: loss(ww=v), dw, w, rng, eps=1e-2) < 1e-9


@pytest.mark.parametrize("m", [2, 4, 6])
def test_float32_error_within_the_tile_sizes_tolerance(m):
    rng = np.random.default_rng(m)
    x, w = rng.standard_normal((2, 64, 12, 12)), rng.standard_normal((8, 64, 3, 3))
    spec = fftconv.make_spec("test", x.shape, w.shape, padding=1)
    ref = conv2d_reference(x, w, spec)
    with set_tile_size(m):
        y = fftconv.conv2d(x.astype(np.float32), w.astype(np.float32), padding=1,
                           backend="winograd")
    assert y.dtype == np.float32
    assert_conv_close(y, ref, tol=winograd_tolerance(m + 2, np.float32))
    # the error grows with the tile: F(2, 3) is nearly as good as summation
    if m == 2:
        assert relative_error(y, ref) < winograd_tolerance(8, np.float32).norm / 10


def test_tolerances_grow_with_the_tile_and_fall_back_to_the_dtypes():
    norms = [winograd_tolerance(a, np.float32).norm for a in (3, 4, 6, 8, 10)]
    assert norms == sorted(norms)
    assert winograd_tolerance(1, np.float32) == fftconv.testing.tolerance(np.float32)
    assert winograd_tolerance(8, np.float64) == fftconv.testing.tolerance(np.float64)


@pytest.mark.parametrize("kwargs, reason", [
    (dict(stride=2), "stride 1 only"),
    (dict(dilation=(1, 2)), "dilation 1 only"),
])
def test_refuses_with_the_reason(kwargs, reason):
    spec = fftconv.make_spec("test", (1, 2, 9, 9), (2, 2, 3, 3), **kwargs)
    backend = fftconv.get_backend("winograd")
    assert reason in backend.applies(spec)
    with pytest.raises(NotImplementedError, match=reason):
        fftconv.conv2d(np.ones((1, 2, 9, 9)), np.ones((2, 2, 3, 3)), backend="winograd",
                       **kwargs)
    choice = fftconv.choose_backend(spec)
    assert "winograd" in choice.skipped and choice.name != "winograd"


def test_refuses_kernels_without_a_tile_and_other_ranks():
    backend = fftconv.get_backend("winograd")
    spec = fftconv.make_spec("test", (1, 1, 20, 20), (1, 1, 3, 12))
    assert "3×12 kernel" in backend.applies(spec)

    class Rank3:             # the N-d ConvSpec will carry a rank
        rank = 3
    assert "2-D" in backend.applies(Rank3())


def test_auto_prices_it_and_the_tile_options_follow_the_dtype():
    spec = fftconv.make_spec("test", (8, 64, 56, 56), (64, 64, 3, 3), padding=1,
                             dtype=np.float32)
    choice = fftconv.choose_backend(spec)
    assert "winograd" in choice.costs and choice.costs["winograd"] > 0
    assert tile_options(3, np.float32) == [2, 4, 6]
    assert tile_options(5, np.float32) == [2, 4]
    assert tile_options(1, np.float64) == [1]
    cases = fftconv.get_backend("winograd").calibration_cases(spec)
    assert [setting for setting, _ in cases] == [(2, 2), (4, 4), (6, 6)]


def _oracle(xs, ws, padding, groups, seed):
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    spec = fftconv.make_spec("test", xs, ws, padding=padding, groups=groups)
    dy = rng.standard_normal(spec.output_shape)
    return x, w, dy, spec


def _check_against_direct(x, w, dy, spec, padding, groups):
    kwargs = dict(padding=padding, groups=groups)
    dx_ref, dw_ref = conv2d_backward_reference(dy, x, w, spec)
    y, ctx = fftconv.conv2d(x, w, backend="winograd", return_context=True, **kwargs)
    dx, dw, _ = fftconv.conv2d_backward(dy, x, w, context=ctx, **kwargs)
    dx_only = fftconv.get_backend("winograd").grad_input(dy, w, spec)
    dw_only = fftconv.get_backend("winograd").grad_weight(dy, x, spec)
    assert_conv_close(y, conv2d_reference(x, w, spec))
    for got in (dx, dx_only):
        assert_conv_close(got, dx_ref)
    for got in (dw, dw_only):
        assert_conv_close(got, dw_ref)
    lhs = np.vdot(y, dy)
    np.testing.assert_allclose([np.vdot(x, dx), np.vdot(w, dw)], [lhs, lhs], rtol=1e-11)


SPLIT_CASES = [  # (x shape, w shape, padding, groups, m): threads forced to 3
    ((2, 5, 7, 7), (7, 5, 3, 3), 1, 1, 2),            # uneven slabs: 2/2/3 out, 1/2/2 in
    ((2, 5, 7, 7), (7, 5, 3, 3), 1, 1, 4),            # 8×8 of outputs for 7×7
    ((1, 4, 6, 9), (3, 4, 3, 1), ((1, 0), (2, 1)), 1, 4),   # r × 1, uneven padding
    ((3, 3, 5, 8), (4, 3, 2, 5), 1, 1, 2),            # rectangular, F(2, 5) on the columns
    ((2, 6, 7, 7), (6, 2, 3, 3), 1, 3, 2),            # groups: split by blocks instead
    ((1, 2, 90, 91), (3, 2, 3, 3), 1, 1, 2),          # many tiles: row blocks, 3 threads
]


@pytest.mark.parametrize("case", range(len(SPLIT_CASES)))
def test_split_across_the_pool_matches_direct(case, monkeypatch):
    """With three threads: few tiles split by channel slabs (uneven), groups and
    many tiles split by blocks (the dx strips of neighbouring blocks overlap)."""
    from fftconv.backends import winograd
    monkeypatch.setattr(winograd, "threads_for", lambda macs, minimum: 3)
    xs, ws, padding, groups, m = SPLIT_CASES[case]
    x, w, dy, spec = _oracle(xs, ws, padding, groups, [7, case])
    with set_tile_size(m):
        plan = fftconv.get_backend("winograd").plan(spec)
        slabs = plan.slabs()
        assert bool(slabs) == (groups == 1 and case < 4)
        if slabs:
            assert plan.blocks() == [(0, xs[0], 0, plan.nth)] and len(slabs) == 3
            assert sorted(o1 - o0 for o0, o1, _, _ in slabs) == \
                sorted(len(r) for r in np.array_split(np.arange(ws[0]), 3))
            assert slabs[0][0] == slabs[0][2] == 0 and slabs[-1][1::2] == (ws[0], xs[1])
        else:
            assert len(plan.blocks()) >= 3
        _check_against_direct(x, w, dy, spec, padding, groups)


@pytest.mark.parametrize("count, alpha, step", [(1, 4, 2), (5, 4, 2), (3, 6, 4), (4, 6, 2),
                                                (3, 8, 2), (6, 1, 1), (2, 7, 3)])
def test_overlap_add_by_offset_classes_equals_the_loop_over_offsets(count, alpha, step):
    from fftconv.backends.winograd import WinogradBackend
    rng = np.random.default_rng(count * 100 + alpha)
    source = rng.standard_normal((2, count, alpha, 3))
    expected = np.zeros((2, (count - 1) * step + alpha, 3))
    for t in range(count):
        for k in range(alpha):
            expected[:, t * step + k] += source[:, t, k]
    target = np.full_like(expected, np.nan)          # every entry must be written
    WinogradBackend._overlap_add(target, source, 1, step)
    np.testing.assert_allclose(target, expected, rtol=1e-14, atol=1e-14)


def test_results_are_not_scratch():
    """The work arrays are reused between calls; what a call returns is not."""
    x, w, dy, spec = _oracle((2, 3, 9, 9), (4, 3, 3, 3), 1, 1, 11)
    y = fftconv.conv2d(x, w, padding=1, backend="winograd")
    dx, dw, _ = fftconv.conv2d_backward(dy, x, w, padding=1, backend="winograd")
    kept = [a.copy() for a in (y, dx, dw)]
    fftconv.conv2d(2 * x, -w, padding=1, backend="winograd")
    fftconv.conv2d_backward(-dy, 3 * x, w, padding=1, backend="winograd")
    for before, now in zip(kept, (y, dx, dw)):
        np.testing.assert_array_equal(before, now)
