"""fftconv on dask arrays (fftconv.dask): the lazy result equals the in-memory one for
any chunking, on the threaded scheduler and on a distributed LocalCluster."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fftconv
from fftconv import _signal
from fftconv.testing import assert_conv_close

da = pytest.importorskip("dask.array")   # the test extra installs dask
import dask  # noqa: E402

from fftconv import dask as fdask  # noqa: E402


@st.composite
def chunking(draw, size):
    """A random chunking of ``size``: irregular, possibly of 1-sample chunks."""
    cuts = draw(st.lists(st.integers(1, size - 1), max_size=4, unique=True)) if size > 1 else []
    edges = [0, *sorted(cuts), size]
    return tuple(b - a for a, b in zip(edges, edges[1:]))


@st.composite
def signal_case(draw):
    ndim = draw(st.integers(1, 2))
    shape = tuple(draw(st.integers(1, 30)) for _ in range(ndim))
    kshape = tuple(draw(st.integers(1, 9)) for _ in range(ndim))
    mode = draw(st.sampled_from(["full", "same", "valid"]))
    if mode == "valid" and not all(s >= k for s, k in zip(shape, kshape)):
        kshape = tuple(min(s, k) for s, k in zip(shape, kshape))
    chunks = tuple(draw(chunking(s)) for s in shape)
    return shape, kshape, mode, chunks


@settings(max_examples=30)
@given(case=signal_case(), seed=st.integers(0, 2**16), op=st.sampled_from(["convolve", "correlate"]),
       method=st.sampled_from(["fft", "auto"]), dtype=st.sampled_from([np.float64, np.float32]))
def test_random_chunkings_match_in_memory(case, seed, op, method, dtype):
    shape, kshape, mode, chunks = case
    rng = np.random.default_rng(seed)
    x, k = rng.standard_normal(shape).astype(dtype), rng.standard_normal(kshape).astype(dtype)
    lazy = getattr(fftconv, op)(da.from_array(x, chunks=chunks), k, mode=mode, method=method)
    want = getattr(fftconv, op)(x, k, mode=mode, method=method)
    assert isinstance(lazy, da.Array)
    assert lazy.shape == want.shape and lazy.dtype == want.dtype
    got = lazy.compute(scheduler="threads")
    assert got.dtype == want.dtype
    assert_conv_close(got, want)


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("xshape, kshape, axes", [
    ((3, 20, 17), (1, 5, 4), (1, 2)),    # a batch, one kernel
    ((3, 20, 17), (3, 5, 4), (1, 2)),    # a kernel per signal
    ((1, 20, 17), (3, 5, 4), (1, 2)),    # one signal, a stack of kernels
    ((20, 4, 17), (6, 1, 3), (0, 2)),    # batch axis in the middle
    ((20, 17, 2), (5, 17, 1), (0,)),     # one convolved axis
])
def test_axes_and_broadcasting(xshape, kshape, axes, mode):
    rng = np.random.default_rng(1)
    x, k = rng.standard_normal(xshape), rng.standard_normal(kshape) + 1j * rng.standard_normal(kshape)
    lazy = fftconv.correlate(da.from_array(x, chunks=(2, 7, 3)[:len(xshape)]), k, mode=mode,
                             axes=axes, method="fft")
    assert_conv_close(lazy.compute(), fftconv.correlate(x, k, mode=mode, axes=axes, method="fft"))


def test_kernel_larger_than_signal_and_chunks():
    """valid with the kernel the larger input, and 1-sample chunks (gathered, not failed)."""
    rng = np.random.default_rng(2)
    x, k = rng.standard_normal((6, 5)), rng.standard_normal((11, 9))
    for mode in ("full", "same", "valid"):
        lazy = fftconv.convolve(da.from_array(x, chunks=1), k, mode=mode)
        assert_conv_close(lazy.compute(), fftconv.convolve(x, k, mode=mode))


def test_single_chunk_integers_and_complex():
    rng = np.random.default_rng(3)
    xi = rng.integers(-5, 5, (16, 16))
    k = rng.standard_normal((3, 3)).astype(np.float32)
    lazy = fftconv.convolve(da.from_array(xi), k, mode="same")
    want = fftconv.convolve(xi, k, mode="same")
    assert lazy.dtype == want.dtype
    assert_conv_close(lazy.compute(), want)
    xc = rng.standard_normal((16, 9)) + 1j
    assert_conv_close(fftconv.correlate(da.from_array(xc, chunks=4), k + 1j).compute(),
                      fftconv.correlate(xc, k + 1j))


def test_each_block_runs_the_fft_path(monkeypatch):
    """method='fft': every output block is one run of the overlap-save reduction."""
    calls = []
    real = _signal.fft_convolve
    monkeypatch.setattr(_signal, "fft_convolve", lambda r: calls.append(r) or real(r))
    x = np.random.default_rng(4).standard_normal((40, 30))
    lazy = fftconv.convolve(da.from_array(x, chunks=(10, 15)), np.ones((5, 5)), mode="same",
                            method="fft")
    assert lazy.chunks == ((10,) * 4, (15, 15))          # 'same': the input's chunks
    assert_conv_close(lazy.compute(scheduler="sync"),
                      fftconv.convolve(x, np.ones((5, 5)), mode="same"))
    assert len(calls) == 8


def test_output_blocks_no_shorter_than_the_kernel_and_kernel_is_one_key():
    x = da.zeros((40, 30), chunks=((1, 2, 30, 7), (3, 27)))
    k = np.ones((5, 4))
    lazy = fftconv.convolve(x, k, mode="same")
    assert lazy.chunks == ((33, 7), (30,))              # 1- to 3-sample chunks merged
    assert all(min(c[:-1], default=k) >= k for c, k in zip(lazy.chunks, (5, 4)))
    keys = [key for key in dict(lazy.__dask_graph__()) if str(key[0]).startswith("fftconv-convolve-shared")]
    assert len(keys) == 1


def test_errors_before_anything_runs():
    x = da.zeros((10, 10), chunks=5)
    with pytest.raises(ValueError, match="convolve.*mode"):
        fftconv.convolve(x, np.ones((3, 3)), mode="wrong")
    with pytest.raises(ValueError, match="correlate.*in2"):
        fftconv.correlate(x, np.ones(3))
    with pytest.raises(TypeError, match="convolve.*in1"):
        fftconv.convolve(da.from_array(np.array(["a", "b", "c"])), np.ones(2))
    with pytest.raises(TypeError, match="convolve.*in1.*dask"):
        fftconv.convolve(np.ones(5), da.ones(2))
    # bool and integer signals follow the in-memory (scipy's) dtype rules
    for dtype in (bool, np.int16):
        signal = np.arange(7) % 2 == 1 if dtype is bool else np.arange(7, dtype=dtype)
        lazy = fftconv.convolve(da.from_array(signal, chunks=3), np.array([1, 2], dtype))
        expected = fftconv.convolve(signal, np.array([1, 2], dtype))
        assert lazy.dtype == expected.dtype
        np.testing.assert_array_equal(lazy.compute(), expected)


def test_threads_per_task_divide_the_cores():
    from fftconv import fftlib
    with dask.config.set(scheduler="sync"):
        assert fdask.task_threads() == fftlib.default_threads()
    with dask.config.set(scheduler="threads", num_workers=2):
        assert fdask.task_threads() == max(1, fftlib.default_threads() // 2)
    with dask.config.set({"fftconv.threads": 1}):
        assert fdask.task_threads() == 1


def test_distributed_cluster(dask_client):
    rng = np.random.default_rng(5)
    x, k = rng.standard_normal((64, 48)).astype(np.float32), rng.standard_normal((9, 7))
    for mode in ("full", "same", "valid"):
        lazy = fftconv.correlate(da.from_array(x, chunks=((20, 30, 14), (5, 43))), k, mode=mode)
        assert_conv_close(dask_client.compute(lazy).result(), fftconv.correlate(x, k, mode=mode))
    # two workers of one thread each, in this process: each task gets cores // 2 threads
    from fftconv import fftlib
    threads = dask_client.run(fdask.task_threads)
    assert set(threads.values()) == {max(1, fftlib.default_threads() // 2)}


def test_conv2d_batch_chunks(dask_client):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((7, 3, 12, 10)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    bias = rng.standard_normal(4).astype(np.float32)
    lazy = fftconv.conv2d(da.from_array(x, chunks=(3, 1, 12, 5)), w, bias, padding=1, stride=2)
    want = fftconv.conv2d(x, w, bias, padding=1, stride=2)
    assert lazy.shape == want.shape and lazy.dtype == want.dtype and lazy.chunks[0] == (3, 3, 1)
    assert_conv_close(lazy.compute(scheduler="threads"), want)
    assert_conv_close(dask_client.compute(lazy).result(), want)
    keys = [key for key in dict(lazy.__dask_graph__()) if str(key[0]).startswith("fftconv-weight")]
    assert len(keys) == 1
    with pytest.raises(ValueError, match="conv2d.*return_context"):
        fftconv.conv2d(da.from_array(x), w, return_context=True)
    with pytest.raises(ValueError, match="conv2d"):
        fftconv.conv2d(da.from_array(x), w[:, :2])


def test_without_dask_fftconv_works_and_the_dask_path_says_what_to_install():
    """fftconv's own modules never import dask (pyFFTW's interfaces import it when it
    is installed, so its absence is simulated, as in tests/test_optional_deps.py)."""
    code = textwrap.dedent("""
        import importlib.abc, sys
        class _Absent(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.partition(".")[0] in ("dask", "distributed", "zarr"):
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        sys.meta_path.insert(0, _Absent())
        import numpy as np, fftconv
        print(fftconv.convolve(np.ones(4), np.ones(2)).tolist())
        from fftconv import dask as fdask
        try:
            fdask.signal_op("convolve", np.ones(4), np.ones(2), "full", None, "auto",
                            flip=False, run=None)
        except ImportError as exc:
            print(exc)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out == ["[1.0, 2.0, 2.0, 2.0, 1.0]",
                   "convolve needs dask[array], which is not installed; install it with "
                   "pip install 'fftconv[dask]'"]


def test_docstring_examples():
    import doctest
    assert doctest.testmod(fdask, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0


def test_predict_over_a_dask_batch(dask_client):
    from fftconv import nn
    model = nn.lenet5()
    x = np.random.default_rng(7).standard_normal((9, 1, 32, 32)).astype(np.float32)
    want = nn.predict(model, x)
    lazy = nn.predict(model, da.from_array(x, chunks=(4, 1, 16, 32)), batch_size=3)
    assert lazy.chunks == ((4, 4, 1), (10,)) and lazy.dtype == want.dtype
    assert_conv_close(lazy.compute(scheduler="threads"), want)
    assert_conv_close(dask_client.compute(lazy).result(), want)
    assert model.training                      # the caller's model is left as it was
    keys = [key for key in dict(lazy.__dask_graph__()) if str(key[0]).startswith("fftconv-model")]
    assert len(keys) == 1
