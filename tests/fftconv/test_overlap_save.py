"""fftconv.overlap_save: the tiled FFT correlation against scipy, for every geometry."""

import threading

import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings, strategies as st

import fftconv
from fftconv import fftlib, overlap_save
from fftconv.overlap_save import OverlapSave
from fftconv.testing import assert_conv_close, tolerance


def _reference(x, w, pad):
    """``y[b, g, k] = Σ_c correlate(pad(x[b, g, c]), w[g, k, c], 'valid')`` by scipy."""
    b, g, c = x.shape[:3]
    k = w.shape[1]
    xp = np.pad(x, [(0, 0)] * 3 + list(pad))
    out = None
    for bi in range(b):
        for gi in range(g):
            for ki in range(k):
                # scipy conjugates its second input; the engine correlates w as given
                y = sum(scipy.signal.correlate(xp[bi, gi, ci], np.conj(w[gi, ki, ci]),
                                               mode="valid", method="direct")
                        for ci in range(c))
                if out is None:
                    out = np.zeros((b, g, k) + y.shape, dtype=np.result_type(x, w))
                out[bi, gi, ki] = y
    return out


@st.composite
def geometries(draw):
    d = draw(st.integers(1, 3))
    kernel = tuple(draw(st.integers(1, 6)) for _ in range(d))
    pad = tuple((draw(st.integers(0, 5)), draw(st.integers(0, 5))) for _ in range(d))
    signal = tuple(draw(st.integers(max(1, k - lo - hi), 30 if d < 3 else 12))
                   for k, (lo, hi) in zip(kernel, pad))
    lead = tuple(draw(st.integers(1, 3)) for _ in range(4))          # B, G, C, K
    return lead, signal, kernel, pad


@settings(max_examples=60, deadline=None)
@given(geometry=geometries(), centre=st.booleans(), threads=st.sampled_from([1, 2]),
       seed=st.integers(0, 2 ** 16))
def test_every_geometry_matches_scipy(geometry, centre, threads, seed):
    (b, g, c, k), signal, kernel, pad = geometry
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((b, g, c) + signal) + 3.0          # an offset, for centring
    w = rng.standard_normal((g, k, c) + kernel)
    with fftlib.set_fft_engine("pyfftw", threads=threads):
        engine = OverlapSave(w, x.shape, pad=pad, centre=centre)
        got = engine.run(x)
    want = _reference(x, w, pad)
    assert got.shape == engine.out_shape == want.shape
    assert_conv_close(got, want)


@pytest.mark.parametrize("dtype", [np.float32, np.complex64, np.complex128])
def test_precisions_and_complex_kernels(dtype):
    rng = np.random.default_rng(1)
    shape, kernel = (1, 1, 2, 70, 45), (1, 2, 2, 7, 4)
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal(kernel).astype(dtype)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape).astype(dtype)
        w = w + 1j * rng.standard_normal(kernel).astype(dtype)
    engine = OverlapSave(w, x.shape, pad=((2, 1), (0, 3)))
    got = engine.run(x)
    assert got.dtype == np.dtype(dtype)
    want = _reference(x.astype(np.complex128 if x.dtype.kind == "c" else np.float64),
                      w.astype(np.complex128 if w.dtype.kind == "c" else np.float64),
                      ((2, 1), (0, 3)))
    assert_conv_close(got, want, dtype=dtype)


def test_centring_keeps_the_digits_of_an_offset_signal():
    """float32 data at an offset of 1e4: without centring the FFT's rounding is
    relative to the offset, with it to the data's variation."""
    rng = np.random.default_rng(2)
    x = (rng.random((1, 1, 1, 200, 200)) + 1e4).astype(np.float32)
    w = rng.standard_normal((1, 1, 1, 15, 15))
    w -= w.mean()                                       # a zero-sum kernel
    want = _reference(x.astype(np.float64), w, ((0, 0), (0, 0)))
    errors = {}
    for centre in (False, True):
        got = OverlapSave(w, x.shape, dtype=np.float32, centre=centre).run(x)
        errors[centre] = float(np.abs(got - want).max())
    assert errors[True] < errors[False] / 100
    assert errors[True] <= tolerance(np.float32).atol * np.abs(want).max()


def test_chunks_and_threads_change_nothing(monkeypatch):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 1, 1, 150, 90))
    w = rng.standard_normal((1, 1, 1, 11, 6))
    with fftlib.set_fft_engine("pyfftw", threads=1):
        whole = OverlapSave(w, x.shape, tiles=(32, 32)).run(x)
    monkeypatch.setattr(overlap_save, "CHUNK_BYTES", 1)      # one tile row per chunk
    with fftlib.set_fft_engine("pyfftw", threads=2):
        engine = OverlapSave(w, x.shape, tiles=(32, 32))
        assert len(engine.chunks()) == engine.plan.counts[0] > 2
        chunked = engine.run(x)
    assert_conv_close(chunked, whole)


def test_on_chunk_sees_every_output_row_once_on_the_worker_threads():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((1, 1, 1, 1200, 500))     # enough points for two threads
    w = rng.standard_normal((1, 1, 1, 9, 3))
    seen, threads = [], set()

    def on_chunk(chunk):
        seen.append((chunk.rows.start, chunk.rows.stop))
        threads.add(threading.get_ident())
        assert chunk.inputs == slice(chunk.rows.start, chunk.rows.stop + 8)
        assert chunk.workspace.array("mine", (3,), np.float64).shape == (3,)

    with fftlib.set_fft_engine("pyfftw", threads=2), fftconv.set_memory_budget(1_000_000):
        engine = OverlapSave(w, x.shape, tiles=(24, 48))
        engine.run(x, on_chunk=on_chunk)
    rows = sorted(seen)
    assert rows[0][0] == 0 and rows[-1][1] == engine.out_shape[3]
    assert all(a[1] == b[0] for a, b in zip(rows, rows[1:]))          # no gap, no overlap
    assert len(threads) == 2                                           # both threads worked


def test_small_runs_stay_on_the_calling_thread():
    """Below the FFT engine's parallel threshold waking threads costs more than it
    gains: every chunk runs on the caller's thread."""
    seen = set()
    with fftlib.set_fft_engine("pyfftw", threads=2):
        engine = OverlapSave(np.ones((1, 1, 1, 5)), (1, 1, 1, 20_000))
        engine.run(np.ones((1, 1, 1, 20_000)),
                   on_chunk=lambda chunk: seen.add(threading.get_ident()))
    assert seen == {threading.get_ident()}
    seen.clear()
    with fftlib.set_fft_engine("pyfftw", threads=2):        # a caller's own choice
        engine = OverlapSave(np.ones((1, 1, 1, 5)), (1, 1, 1, 20_000), parallel=True)
        engine.run(np.ones((1, 1, 1, 20_000)),
                   on_chunk=lambda chunk: seen.add(threading.get_ident()))
    assert len(seen) == 2


def test_the_plan_is_the_cost_models_and_shares_out_among_threads():
    with fftlib.set_fft_engine("pyfftw", threads=2):
        engine = OverlapSave(np.ones((1, 1, 1, 64, 64)), (1, 1, 1, 1024, 1024))
    rows = engine.plan.counts[0]
    assert rows % 2 == 0 or rows >= 8                         # even work for two threads
    assert OverlapSave.estimate((1, 1, 1, 64, 64), (1, 1, 1, 1024, 1024)) > 0
    assert engine.seconds() == pytest.approx(
        OverlapSave.estimate((1, 1, 1, 64, 64), (1, 1, 1, 1024, 1024), dtype=np.float64))


def test_out_and_any_strides():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, 1, 1, 80, 120))[..., ::2]             # a strided signal
    w = rng.standard_normal((1, 1, 1, 5, 5))
    engine = OverlapSave(w, x.shape)
    out = np.empty(engine.out_shape, np.float32)
    assert engine.run(x, out=out) is out
    assert_conv_close(out, _reference(x, w, ((0, 0), (0, 0))))


@pytest.mark.parametrize("kwargs, message", [
    ({"kernels": np.ones((3, 3))}, "kernels"),
    ({"signal_shape": (1, 2, 1, 10, 10)}, "signal_shape"),
    ({"pad": ((1, 1),)}, "pad"),
    ({"pad": ((-1, 0), (0, 0))}, "pad"),
    ({"dtype": np.int32}, "dtype"),
    ({"tiles": (2, 2)}, "tiles"),
    ({"kernels": np.ones((1, 1, 1, 20, 3))}, "kernels"),
    ({"centre": True, "dtype": np.complex128}, "centre"),
    ({"parallel": "yes"}, "parallel"),
])
def test_bad_arguments_name_the_parameter(kwargs, message):
    args = {"kernels": np.ones((1, 1, 1, 3, 3)), "signal_shape": (1, 1, 1, 10, 10)}
    args.update(kwargs)
    kernels, shape = args.pop("kernels"), args.pop("signal_shape")
    with pytest.raises((TypeError, ValueError), match=f"OverlapSave.*{message}"):
        OverlapSave(kernels, shape, **args)


def test_run_checks_its_arrays():
    engine = OverlapSave(np.ones((1, 1, 1, 3, 3)), (1, 1, 1, 10, 10))
    with pytest.raises(ValueError, match="OverlapSave.run.*signal"):
        engine.run(np.ones((1, 1, 1, 10, 11)))
    with pytest.raises(ValueError, match="OverlapSave.run.*out"):
        engine.run(np.ones((1, 1, 1, 10, 10)), out=np.empty((8, 8)))
