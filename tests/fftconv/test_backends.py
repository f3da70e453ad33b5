"""Every registered backend against the direct oracle and scipy, forward and backward.

The geometries are 200 seeded random draws (see ``fftconv.testing.random_geometry``):
stride 1–3, dilation 1–3, groups 1/2/4/depthwise, every padding form, non-square
images and kernels, batch 1–4.
"""

import re

import numpy as np
import pytest

import fftconv
from fftconv.backends.base import grad_input_via_forward, grad_weight_via_forward
from fftconv.testing import (assert_conv_close, directional_derivative_error,
                             numerical_gradient, tolerance, winograd_tolerance)

from .conftest import (N_GEOMETRIES, backend_cases, case, conv_kwargs, reference,
                       reference_grads, scipy_conv2d)

BACKENDS = backend_cases()
GEOMETRIES = range(N_GEOMETRIES)


def refuses(backend, spec, call) -> bool:
    """Whether ``backend`` does not apply to ``spec``; if so, ``call()`` must raise
    ``NotImplementedError`` giving the backend's reason (a backend limited to
    some geometries, such as Winograd's stride 1, is tested on those)."""
    reason = fftconv.get_backend(backend).applies(spec)
    if reason is None:
        return False
    with pytest.raises(NotImplementedError, match=re.escape(reason)):
        call()
    return True


def tolerance_of(backend, spec, dtype):
    """The tolerance table's entry for ``backend`` on ``spec`` (Winograd's depends
    on its tile size, :func:`fftconv.testing.winograd_tolerance`)."""
    if backend == "winograd":
        plan = fftconv.get_backend(backend).plan(spec.replace(dtype=np.dtype(dtype)))
        return winograd_tolerance(max(plan.a_h, plan.a_w), dtype)
    return tolerance(dtype)


@pytest.mark.parametrize("index", GEOMETRIES)
def test_oracle_matches_scipy(index):
    _, spec, x, w, _, _ = case(index)
    assert_conv_close(reference(index), scipy_conv2d(x, w, spec), err_msg=str(spec))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
@pytest.mark.parametrize("index", GEOMETRIES)
def test_forward_matches_oracle(index, backend, dtype):
    g, spec, x, w, bias, _ = case(index)

    def run():
        return fftconv.conv2d(x.astype(dtype), w.astype(dtype), bias.astype(dtype),
                              backend=backend, **conv_kwargs(g))
    if refuses(backend, spec, run):
        return
    y = run()
    assert y.dtype == dtype
    expected = reference(index) + bias[:, None, None]
    assert_conv_close(y, expected, dtype=dtype, err_msg=f"{backend} {spec}",
                      tol=tolerance_of(backend, spec, dtype))


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
@pytest.mark.parametrize("index", range(0, N_GEOMETRIES, 4))
def test_forward_matches_scipy(index, backend):
    g, spec, x, w, _, _ = case(index)
    if refuses(backend, spec, lambda: fftconv.conv2d(x, w, backend=backend, **conv_kwargs(g))):
        return
    y = fftconv.conv2d(x, w, backend=backend, **conv_kwargs(g))
    assert_conv_close(y, scipy_conv2d(x, w, spec), err_msg=f"{backend} {spec}")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
@pytest.mark.parametrize("index", GEOMETRIES)
def test_backward_matches_oracle(index, backend, dtype):
    g, spec, x, w, _, dy = case(index)

    def run():
        return fftconv.conv2d_backward(dy.astype(dtype), x.astype(dtype), w.astype(dtype),
                                       backend=backend, **conv_kwargs(g))
    if refuses(backend, spec, run):
        return
    dx, dw, db = run()
    dx_ref, dw_ref = reference_grads(index)
    assert dx.dtype == dw.dtype == db.dtype == dtype
    tol = tolerance_of(backend, spec, dtype)
    assert_conv_close(dx, dx_ref, dtype=dtype, err_msg=f"dx {backend} {spec}", tol=tol)
    assert_conv_close(dw, dw_ref, dtype=dtype, err_msg=f"dw {backend} {spec}", tol=tol)
    assert_conv_close(db, dy.sum(axis=(0, 2, 3)), dtype=dtype)


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
@pytest.mark.parametrize("index", range(0, N_GEOMETRIES, 2))
def test_seed_formulas_on_every_forward(index, backend):
    """The default gradients (seed 000's formulas run through ``forward``) are exact,
    whatever backend supplies the forward pass."""
    _, spec, x, w, _, dy = case(index)
    chosen, oracle = fftconv.get_backend(backend), fftconv.get_backend("direct")

    def forward(xx, ww, s):           # the backend wherever it applies to the derived layer
        return (chosen if chosen.supports(s) else oracle).forward(xx, ww, s)
    dx_ref, dw_ref = reference_grads(index)
    assert_conv_close(grad_input_via_forward(forward, dy, w, spec), dx_ref, err_msg=str(spec))
    assert_conv_close(grad_weight_via_forward(forward, dy, x, spec), dw_ref, err_msg=str(spec))


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
@pytest.mark.parametrize("index", range(0, N_GEOMETRIES, 5))
def test_adjoint_identity(index, backend):
    """``<conv(x, w), y> == <x, conv_xᵀ(y)> == <w, conv_wᵀ(y, x)>``: backward is the
    transpose of forward (seed 004)."""
    g, spec, x, w, _, dy = case(index)
    if refuses(backend, spec, lambda: fftconv.conv2d(x, w, backend=backend, **conv_kwargs(g))):
        return
    y = fftconv.conv2d(x, w, backend=backend, **conv_kwargs(g))
    dx, dw, _ = fftconv.conv2d_backward(dy, x, w, backend=backend, **conv_kwargs(g))
    lhs = np.vdot(y, dy)
    np.testing.assert_allclose(np.vdot(x, dx), lhs, rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(np.vdot(w, dw), lhs, rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
@pytest.mark.parametrize("index", range(1, N_GEOMETRIES, 10))
def test_gradients_by_random_projection(index, backend):
    """Central differences of ``L = <conv2d(x, w) + b, r>`` along random directions."""
    g, spec, x, w, bias, r = case(index)
    kw = conv_kwargs(g)
    if refuses(backend, spec, lambda: fftconv.conv2d_backward(r, x, w, backend=backend, **kw)):
        return
    dx, dw, db = fftconv.conv2d_backward(r, x, w, backend=backend, **kw)
    rng = np.random.default_rng(index)

    def loss(xx=x, ww=w, bb=bias):
        return float(np.vdot(fftconv.conv2d(xx, ww, bb, backend=backend, **kw), r))
    # L is linear in each argument, so a large step loses nothing to truncation.
    for grad, arg in ((dx, "xx"), (dw, "ww"), (db, "bb")):
        value = {"xx": x, "ww": w, "bb": bias}[arg]
        err = directional_derivative_error(lambda v: loss(**{arg: v}), grad, value, rng,
                                           eps=1e-2)
        assert err < 1e-9, (arg, err)


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
@pytest.mark.parametrize("kwargs", [
    dict(stride=2, padding=1),
    dict(stride=(3, 2), padding=((0, 2), (1, 0)), dilation=(1, 2)),
    dict(groups=2, dilation=2, padding="same"),
    dict(groups=2, padding=((0, 2), (1, 0))),
])
def test_gradients_elementwise_finite_differences(backend, kwargs):
    """Every element of dx and dw against central differences on a small layer,
    including stride remainders where the last rows of x are not covered."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 2, 7, 8))
    w = rng.standard_normal((4, 2 // kwargs.get("groups", 1), 3, 2))
    r = rng.standard_normal(fftconv.conv2d(x, w, **kwargs).shape)
    spec = fftconv.make_spec("test", x.shape, w.shape, **kwargs)
    if refuses(backend, spec, lambda: fftconv.conv2d_backward(r, x, w, backend=backend,
                                                              **kwargs)):
        return
    dx, dw, _ = fftconv.conv2d_backward(r, x, w, backend=backend, **kwargs)
    np.testing.assert_allclose(
        dx, numerical_gradient(lambda v: np.vdot(fftconv.conv2d(v, w, **kwargs), r), x, eps=1e-2),
        rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(
        dw, numerical_gradient(lambda v: np.vdot(fftconv.conv2d(x, v, **kwargs), r), w, eps=1e-2),
        rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_uncovered_inputs_get_exactly_zero_gradient(backend):
    x, w = np.ones((1, 1, 6, 7)), np.ones((1, 1, 3, 2))
    if refuses(backend, fftconv.make_spec("test", x.shape, w.shape, stride=2),
               lambda: fftconv.conv2d(x, w, stride=2, backend=backend)):
        return
    # stride remainder: row 5 and column 6 are never read
    dx, _, _ = fftconv.conv2d_backward(np.ones((1, 1, 2, 3)), x, w, stride=2,
                                       backend=backend)
    assert np.all(dx[0, 0, 5, :] == 0) and np.all(dx[0, 0, :, 6] == 0)
    assert np.all(dx[0, 0, :5, :6] > 0)
    # stride 2 with dilation 2: odd rows and columns are never read
    dy = np.ones(fftconv.conv2d(x, w, stride=2, dilation=2).shape)       # (1, 1, 1, 3)
    dx, _, _ = fftconv.conv2d_backward(dy, x, w, stride=2, dilation=2, backend=backend)
    assert np.all(dx[0, 0, 1::2, :] == 0) and np.all(dx[0, 0, :, 1::2] == 0)
    assert np.all(dx[0, 0, 0::2, 0::2] > 0)


@pytest.mark.parametrize("backend", ["direct", "im2col"], indirect=True)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("index", range(3, N_GEOMETRIES, 20))
def test_nonfinite_input_reaches_exactly_its_windows(index, backend, bad):
    g, spec, x, w, _, _ = case(index)
    rng = np.random.default_rng(index)
    x = x.copy()
    pos = tuple(int(rng.integers(0, s)) for s in x.shape)
    x[pos] = bad
    indicator = np.zeros_like(x)
    indicator[pos] = 1.0
    from fftconv.backends.direct import conv2d_reference
    touched = conv2d_reference(indicator, np.ones_like(w), spec) > 0
    y = fftconv.conv2d(x, w, backend=backend, **conv_kwargs(g))
    np.testing.assert_array_equal(~np.isfinite(y), touched)
    clean = reference(index)
    np.testing.assert_allclose(y[~touched], clean[~touched], rtol=1e-10, atol=1e-10)


def test_integer_input_computes_in_float64():
    x = np.arange(16).reshape(1, 1, 4, 4)
    w = np.ones((1, 1, 2, 2), dtype=np.int32)
    y = fftconv.conv2d(x, w)
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y[0, 0], [[10, 14, 18], [26, 30, 34], [42, 46, 50]])


def test_mixed_precision_promotes():
    x = np.ones((1, 1, 4, 4), np.float32)
    w = np.ones((1, 1, 2, 2), np.float64)
    assert fftconv.conv2d(x, w).dtype == np.float64


def test_same_padding_keeps_size_and_puts_odd_pad_last():
    x = np.random.default_rng(0).standard_normal((1, 1, 6, 5))
    w = np.ones((1, 1, 2, 4))
    y = fftconv.conv2d(x, w, padding="same")
    assert y.shape == x.shape
    # kh=2: total 1 → (0, 1); kw=4: total 3 → (1, 2), as in PyTorch.
    np.testing.assert_allclose(y, fftconv.conv2d(x, w, padding=((0, 1), (1, 2))))


@pytest.mark.parametrize("name", ["direct", "im2col"])
@pytest.mark.parametrize("groups", [1, 3])
def test_pointwise_fast_paths_match_the_oracle(name, groups):
    """1×1 kernels at stride 1 skip the column copy / channel-major round trip."""
    from fftconv.backends.direct import conv2d_backward_reference, conv2d_reference
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 6, 5, 7)).astype(np.float32)
    w = rng.standard_normal((9, 6 // groups, 1, 1)).astype(np.float32)
    spec = fftconv.make_spec("test", x.shape, w.shape, groups=groups, dtype=np.float32)
    y = fftconv.conv2d(x, w, groups=groups, backend=name)
    assert y.flags.c_contiguous and y.shape == (3, 9, 5, 7)
    assert_conv_close(y, conv2d_reference(x.astype(float), w.astype(float), spec))
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx, dw, _ = fftconv.conv2d_backward(dy, x, w, groups=groups, backend=name)
    dx_ref, dw_ref = conv2d_backward_reference(dy.astype(float), x.astype(float),
                                               w.astype(float), spec)
    assert_conv_close(dx, dx_ref)
    assert_conv_close(dw, dw_ref)


@pytest.mark.parametrize("shapes, kwargs, pointwise", [
    (((2, 6, 5, 7), (4, 6, 1, 1)), {}, True),
    (((2, 6, 5, 7), (6, 2, 1, 1)), {"groups": 3}, True),
    (((2, 6, 5, 7), (4, 6, 1, 1)), {"stride": 2}, False),    # strided: a column copy
    (((2, 6, 5, 7), (4, 6, 1, 1)), {"padding": 1}, False),
    (((2, 6, 5, 7), (4, 6, 3, 3)), {}, False),
])
def test_backends_share_a_forward_path_only_where_they_run_the_same_code(shapes, kwargs,
                                                                           pointwise):
    """Autotune and the sweep time a shared path once (``Backend.forward_path``): the
    claim holds only if the backends' results are identical to the last bit."""
    from fftconv.backends import get_backend
    spec = fftconv.make_spec("test", *shapes, dtype=np.float32, **kwargs)
    direct, im2col, fft = (get_backend(name) for name in ("direct", "im2col", "fft"))
    assert (direct.forward_path(spec) == im2col.forward_path(spec)) is pointwise
    assert fft.forward_path(spec) == "fft"
    if pointwise:
        rng = np.random.default_rng(5)
        x, w = (rng.standard_normal(s).astype(np.float32) for s in shapes)
        np.testing.assert_array_equal(direct.forward(x, w, spec), im2col.forward(x, w, spec))


@pytest.mark.parametrize("index", range(0, N_GEOMETRIES, 9))
def test_direct_offsets_split_across_threads_agree(index, monkeypatch):
    """The threaded split of the kernel offsets sums the same terms."""
    from fftconv.backends import _parallel, direct
    monkeypatch.setattr(direct, "DIRECT_SPLIT_MIN_MACS", 0)
    monkeypatch.setattr(_parallel, "blas_threads", lambda: 3)
    g, spec, x, w, _, _ = case(index)
    assert_conv_close(fftconv.conv2d(x, w, backend="direct", **conv_kwargs(g)),
                      reference(index), err_msg=str(spec))


@pytest.mark.parametrize("name", ["direct", "im2col"])
@pytest.mark.parametrize("index", range(0, N_GEOMETRIES, 9))
def test_gradients_split_across_threads_agree(index, name, monkeypatch):
    """The gradients' offsets (direct) and blocks of rows (im2col), split three ways."""
    from fftconv.backends import _parallel, direct, im2col
    monkeypatch.setattr(_parallel, "blas_threads", lambda: 3)
    monkeypatch.setattr(direct, "DIRECT_SPLIT_MIN_MACS", 0)
    monkeypatch.setattr(im2col, "IM2COL_SPLIT_MIN_MACS", 0)
    g, spec, x, w, _, dy = case(index)
    dx, dw, _ = fftconv.conv2d_backward(dy, x, w, backend=name, **conv_kwargs(g))
    dx_ref, dw_ref = reference_grads(index)
    assert_conv_close(dx, dx_ref, err_msg=f"dx {spec}")
    assert_conv_close(dw, dw_ref, err_msg=f"dw {spec}")


def test_gradients_leave_no_blas_threads_running(monkeypatch):
    """Every product of a backward pass runs inside ``one_blas_thread``: BLAS's own
    workers, once woken, spin before they sleep and take a core from what runs next."""
    from fftconv.backends import _parallel
    outside = []
    real_matmul = np.matmul

    def watched(*args, **kwargs):
        outside.append(_parallel._single_depth == 0)
        return real_matmul(*args, **kwargs)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 6, 12, 12)).astype(np.float32)
    w = rng.standard_normal((4, 6, 3, 3)).astype(np.float32)
    dy = rng.standard_normal((2, 4, 10, 10)).astype(np.float32)
    monkeypatch.setattr(np, "matmul", watched)
    for name in ("direct", "im2col"):
        fftconv.conv2d_backward(dy, x, w, backend=name)
    assert outside and not any(outside)


@pytest.mark.parametrize("band_bytes", [1, 2_000, 60_000])
@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("index", range(0, N_GEOMETRIES, 9))
def test_direct_bands_of_output_rows_agree(index, threads, band_bytes, monkeypatch):
    """The banded forward, with bands of one row, of a few rows and of whole images."""
    from fftconv.backends import _parallel, direct
    monkeypatch.setattr(direct, "DIRECT_BAND_MIN_BYTES", 0)
    monkeypatch.setattr(direct, "DIRECT_BAND_MIN_BYTES_DEPTHWISE", 0)
    monkeypatch.setattr(direct, "DIRECT_BAND_BYTES", band_bytes)
    monkeypatch.setattr(direct, "DIRECT_SPLIT_MIN_MACS", 0)
    monkeypatch.setattr(_parallel, "blas_threads", lambda: threads)
    g, spec, x, w, _, _ = case(index)
    assert_conv_close(fftconv.conv2d(x, w, backend="direct", **conv_kwargs(g)),
                      reference(index), err_msg=str(spec))


@pytest.mark.parametrize("block_bytes", [1, 2_000, 60_000])
@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("index", range(0, N_GEOMETRIES, 9))
def test_im2col_blocks_of_output_rows_agree(index, threads, block_bytes, monkeypatch):
    """The blocked forward and gradients, with column blocks of one row, of a few
    rows and of whole images, split across threads (on 3 threads with one-row
    blocks, threads share images, and their gradients' bands overlap)."""
    from fftconv.backends import _parallel, im2col
    monkeypatch.setattr(im2col, "IM2COL_BLOCK_BYTES", block_bytes)
    monkeypatch.setattr(im2col, "IM2COL_MIN_COPY_BYTES", 0)
    monkeypatch.setattr(im2col, "IM2COL_SPLIT_MIN_MACS", 0)
    monkeypatch.setattr(_parallel, "blas_threads", lambda: threads)
    g, spec, x, w, _, dy = case(index)
    if block_bytes == 1:                      # every output row a block of its own
        assert len(im2col._blocks(spec)) == spec.n * spec.out_h
    assert_conv_close(fftconv.conv2d(x, w, backend="im2col", **conv_kwargs(g)),
                      reference(index), err_msg=str(spec))
    dx, dw, _ = fftconv.conv2d_backward(dy, x, w, backend="im2col", **conv_kwargs(g))
    dx_ref, dw_ref = reference_grads(index)
    assert_conv_close(dx, dx_ref, err_msg=f"dx {spec}")
    assert_conv_close(dw, dw_ref, err_msg=f"dw {spec}")


PADDED_ROW_CASES = [
    # (x shape, w shape, kwargs): C 1/3, K 1/3/5/7, pad 0..3, groups, non-square
    ((5, 1, 9, 13), (4, 1, 3, 3), {"padding": 1}),
    ((3, 3, 11, 8), (6, 3, 5, 5), {"padding": 2}),
    ((7, 3, 10, 10), (5, 3, 7, 7), {"padding": 3}),
    ((2, 1, 12, 9), (3, 1, 5, 3), {"padding": ((0, 2), (1, 3))}),
    ((4, 4, 8, 11), (6, 2, 3, 3), {"padding": 1, "groups": 2}),
    ((3, 6, 9, 7), (6, 1, 3, 3), {"padding": 1, "groups": 6}),
    ((2, 3, 13, 10), (4, 3, 3, 2), {"dilation": (2, 3), "padding": 2}),
    ((5, 3, 7, 12), (4, 3, 1, 3), {"padding": (0, 1)}),
    ((3, 2, 10, 9), (4, 2, 5, 5), {}),
]


@pytest.mark.parametrize("block_bytes", [1, 3_000, 10**9])
@pytest.mark.parametrize("padded", [True, False])
@pytest.mark.parametrize("shapes", PADDED_ROW_CASES)
def test_im2col_padded_rows_match_the_oracle(shapes, padded, block_bytes, monkeypatch):
    """The product on the padded row width (and the gather it replaces) against the
    direct oracle in float64: forward, both gradients and the transpose identity,
    with blocks of single rows, of a few rows and of whole images (batches that
    split unevenly), on 1 and 3 threads."""
    from fftconv.backends import _parallel, im2col
    from fftconv.backends.direct import conv2d_backward_reference, conv2d_reference
    xs, ws, kwargs = shapes
    monkeypatch.setattr(im2col, "padded_rows", lambda spec: padded)
    monkeypatch.setattr(im2col, "IM2COL_BLOCK_BYTES", block_bytes)
    monkeypatch.setattr(im2col, "IM2COL_MIN_COPY_BYTES", 0)
    monkeypatch.setattr(im2col, "IM2COL_SPLIT_MIN_MACS", 0)
    rng = np.random.default_rng(len(xs) + sum(xs) + sum(ws))
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    spec = fftconv.make_spec("test", xs, ws, **kwargs)
    dy = rng.standard_normal(spec.output_shape)
    dx_ref, dw_ref = conv2d_backward_reference(dy, x, w, spec)
    for threads in (1, 3):
        monkeypatch.setattr(_parallel, "blas_threads", lambda: threads)
        y = fftconv.conv2d(x, w, backend="im2col", **kwargs)
        assert_conv_close(y, conv2d_reference(x, w, spec), err_msg=str(spec))
        dx, dw, _ = fftconv.conv2d_backward(dy, x, w, backend="im2col", **kwargs)
        assert_conv_close(dx, dx_ref, err_msg=f"dx {spec}")
        assert_conv_close(dw, dw_ref, err_msg=f"dw {spec}")
        lhs = np.vdot(y, dy)
        np.testing.assert_allclose(np.vdot(x, dx), lhs, rtol=1e-11, atol=1e-11)
        np.testing.assert_allclose(np.vdot(w, dw), lhs, rtol=1e-11, atol=1e-11)


def test_im2col_padded_rows_keep_nonfinite_inputs_in_their_taps():
    """The overhang columns multiply zeros of dy; an infinite input there would
    make 0·inf = NaN, so the backward gathers instead and dw is NaN only where
    the oracle's is."""
    from fftconv.backends.direct import conv2d_backward_reference
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((2, 3, 8, 8)), rng.standard_normal((4, 3, 5, 5))
    x[0, 1, 0, 7] = np.inf
    spec = fftconv.make_spec("test", x.shape, w.shape, padding=2)
    assert fftconv.backends.im2col.padded_rows(spec)
    dy = rng.standard_normal(spec.output_shape)
    _, dw, _ = fftconv.conv2d_backward(dy, x, w, padding=2, backend="im2col")
    _, dw_ref = conv2d_backward_reference(dy, x, w, spec)
    np.testing.assert_array_equal(np.isnan(dw), np.isnan(dw_ref))


def test_im2col_images_shared_by_threads():
    """The images whose rows fall to more than one thread, which the input
    gradient gives a private buffer per thread."""
    from fftconv.backends._parallel import row_blocks, shares
    from fftconv.backends.im2col import _shared_images
    assert _shared_images(shares(row_blocks(4, 6, 1, 10**9, 2), 2)) == set()  # 2 images each
    assert _shared_images(shares(row_blocks(1, 6, 1, 2, 2), 2)) == {0}       # one image's bands
    # 3 images of 2 bands each over 2 threads: 3 bands each, the middle image split
    parts = shares(row_blocks(3, 4, 1, 2, 2), 2)
    assert [len(part) for part in parts] == [3, 3] and _shared_images(parts) == {1}


@pytest.mark.parametrize("block_bytes, copy_bytes, budget, threads, blocks", [
    (4 << 20, 64 << 10, 1 << 30, 1, 1),       # 2.6 MB of columns: one block
    (1 << 20, 64 << 10, 1 << 30, 1, 3),       # 1 MB holds 18 images: 3 blocks of 16
    (1 << 20, 64 << 10, 1 << 30, 2, 4),       # an even count for 2 threads: 4 of 12
    (1 << 20, 1 << 20, 1 << 30, 1, 1),        # 9 offsets' copies of 1 MB: one block
    (1 << 20, 64 << 10, 1 << 19, 2, 12),      # 0.5 MB budget, 2 threads: 4 images each
    (1 << 20, 8 << 20, 1 << 30, 1, 1),        # 72 MB wanted, past the cap: one block...
    (1 << 20, 8 << 20, 1 << 30, 2, 2),        # ... per thread
])
def test_im2col_forward_block_sizes(block_bytes, copy_bytes, budget, threads, blocks,
                                    monkeypatch):
    from fftconv.backends import _parallel, im2col
    monkeypatch.setattr(im2col, "IM2COL_BLOCK_BYTES", block_bytes)
    monkeypatch.setattr(im2col, "IM2COL_MIN_COPY_BYTES", copy_bytes)
    monkeypatch.setattr(im2col, "IM2COL_BLOCK_MAX_BYTES", 32 << 20)
    monkeypatch.setattr(im2col, "IM2COL_SPLIT_MIN_MACS", 0)
    monkeypatch.setattr(_parallel, "blas_threads", lambda: threads)
    spec = fftconv.make_spec("test", (48, 8, 16, 16), (8, 8, 3, 3), dtype=np.float32)
    monkeypatch.setattr(im2col, "padded_rows", lambda spec: False)    # rows of OW = 14
    assert im2col._row_bytes(spec) * spec.out_h * spec.n == 48 * 72 * 14 * 14 * 4
    with fftconv.set_memory_budget(budget):
        assert len(im2col._blocks(spec)) == blocks
        # one unfolding copy per block, and one moving its product into place
        # where a block holds several images
        assert im2col.forward_steps(spec) == blocks * (2 if blocks < spec.n else 1)


@pytest.mark.parametrize("n, out_h, threads, band_bytes, sizes", [
    (3, 7, 1, 1, [1] * 21),                      # a row at a time
    (2, 9, 1, 3 * 128, [3] * 6),                 # three rows of 128 bytes each
    (2, 58, 2, 47 * 128, [29] * 4),              # equal halves, not 47 + 11
    (1, 7, 2, 10**9, [4, 3]),                    # one image, split for two threads
    (3, 7, 2, 3 * 128, [2, 2, 2, 1] * 3),        # 3 images: an even count of bands
    (4, 5, 1, 10**9, [20]),                      # whole images
    (8, 5, 2, 3 * 5 * 128, [10] * 4),            # two images each, for two threads
])
def test_direct_bands_cover_every_row_once_in_even_shares(n, out_h, threads, band_bytes, sizes,
                                                           monkeypatch):
    from fftconv.backends import _parallel, direct
    monkeypatch.setattr(direct, "DIRECT_BAND_BYTES", band_bytes)
    spec = fftconv.make_spec("test", (n, 2, out_h + 2, 6), (3, 2, 3, 3), dtype=np.float32)
    assert direct._column_bytes(spec) * spec.out_w == 128           # bytes per output row
    bands = direct._bands(spec, threads)
    rows = [(m, i) for n0, n1, i0, i1 in bands for m in range(n0, n1) for i in range(i0, i1)]
    assert sorted(rows) == [(m, i) for m in range(n) for i in range(out_h)]
    assert [(n1 - n0) * (i1 - i0) for n0, n1, i0, i1 in bands] == sizes
    shares = [sum((n1 - n0) * (i1 - i0) for n0, n1, i0, i1 in share)
              for share in _parallel.shares(bands, threads)]
    assert len(shares) == min(threads, len(bands)) and max(shares) - min(shares) <= 1


def test_run_parts_keeps_order_and_uses_the_pool():
    import threading

    from fftconv.backends._parallel import run_parts
    names = run_parts(lambda part: (part, threading.current_thread().name), [0, 1, 2])
    assert [part for part, _ in names] == [0, 1, 2]
    assert names[0][1] == threading.current_thread().name
    assert all(name.startswith("fftconv") for _, name in names[1:])


@pytest.mark.parametrize("name", ["direct", "im2col"])
def test_products_split_across_threads_agree(name, monkeypatch):
    """im2col's column blocks and the pointwise product, split three ways."""
    from fftconv.backends import _parallel, base, direct, im2col
    from fftconv.backends.direct import conv2d_reference
    monkeypatch.setattr(_parallel, "blas_threads", lambda: 3)
    monkeypatch.setattr(direct, "DIRECT_SPLIT_MIN_MACS", 0)
    monkeypatch.setattr(im2col, "IM2COL_SPLIT_MIN_MACS", 0)
    monkeypatch.setattr(base, "POINTWISE_SPLIT_MIN_MACS", 0)
    rng = np.random.default_rng(11)
    for k, groups in ((1, 1), (1, 2), (3, 2)):
        x = rng.standard_normal((2, 4, 9, 7))
        w = rng.standard_normal((6, 4 // groups, k, k))
        spec = fftconv.make_spec("test", x.shape, w.shape, groups=groups)
        assert_conv_close(fftconv.conv2d(x, w, groups=groups, backend=name),
                          conv2d_reference(x, w, spec), err_msg=str(spec))


def test_one_blas_thread_is_shared_by_concurrent_callers():
    """A caller leaving its context does not lift the limit another caller is under."""
    import threading

    from threadpoolctl import threadpool_limits

    from fftconv.backends._parallel import _library_threads, blas_threads, one_blas_thread

    def enter_and_leave():
        with one_blas_thread():
            pass

    with threadpool_limits(2):
        with one_blas_thread():
            assert _library_threads() == 1
            assert blas_threads() == 2          # the count to split work by: the user's
            other = threading.Thread(target=enter_and_leave)
            other.start()
            other.join()
            assert _library_threads() == 1      # still limited: this caller is inside
        assert _library_threads() == blas_threads() == 2     # restored by the last to leave


@pytest.mark.parametrize("name, method", [("direct", "forward"), ("direct", "grad_input"),
                                          ("direct", "grad_weight"), ("im2col", "forward"),
                                          ("im2col", "grad_input"), ("im2col", "grad_weight")])
def test_work_splits_by_the_users_thread_count(name, method, monkeypatch):
    """The split is decided under the BLAS count in force, not under the limit of 1
    that the backend's own ``one_blas_thread`` sets while it runs."""
    from threadpoolctl import threadpool_limits

    from fftconv.backends import _parallel, direct, get_backend, im2col
    monkeypatch.setattr(direct, "DIRECT_SPLIT_MIN_MACS", 0)
    monkeypatch.setattr(im2col, "IM2COL_SPLIT_MIN_MACS", 0)
    parts = []
    real_run_parts = _parallel.run_parts

    def counted(fn, work):
        parts.append(len(work))
        return real_run_parts(fn, work)
    monkeypatch.setattr(direct, "run_parts", counted)
    monkeypatch.setattr(im2col, "run_parts", counted)
    spec = fftconv.make_spec("test", (2, 4, 10, 10), (4, 4, 3, 3), dtype=np.float32)
    rng = np.random.default_rng(2)
    x, w, dy = (rng.standard_normal(s).astype(np.float32)
                for s in (spec.input_shape, spec.weight_shape, spec.output_shape))
    args = {"forward": (x, w), "grad_input": (dy, w), "grad_weight": (dy, x)}[method]
    with threadpool_limits(2):
        if _parallel.blas_threads() < 2:
            pytest.skip("this BLAS runs on one thread only")
        getattr(get_backend(name), method)(*args, spec)
    assert parts == [2]
