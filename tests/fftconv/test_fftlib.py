"""FFT engines: agreement, precision, scoping, pyFFTW plans and wisdom."""

import json
import threading

import numpy as np
import pytest

from fftconv import fftlib

ENGINES = fftlib.available_engines()
needs_pyfftw = pytest.mark.skipif("pyfftw" not in ENGINES, reason="pyfftw not installed")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("engine", ENGINES)
def test_transforms_agree_with_numpy_and_keep_precision(engine, dtype):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((6, 10, 3)).astype(dtype)
    z = (a + 1j * rng.standard_normal(a.shape)).astype(np.result_type(dtype, np.complex64))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    with fftlib.set_fft_engine(engine, threads=2):
        spec = fftlib.rfftn(a, axes=(0, 1), s=(8, 12))
        assert spec.dtype == np.result_type(dtype, np.complex64)
        np.testing.assert_allclose(spec, np.fft.rfftn(a, (8, 12), (0, 1)), atol=tol * 50)
        back = fftlib.irfftn(spec, s=(8, 12), axes=(0, 1))
        assert back.dtype == dtype
        np.testing.assert_allclose(back[:6, :10], a, atol=tol * 10)
        np.testing.assert_allclose(back[6:], 0, atol=tol * 10)
        full = fftlib.fftn(z, axes=(1,))
        np.testing.assert_allclose(full, np.fft.fftn(z, axes=(1,)), atol=tol * 50)
        np.testing.assert_allclose(fftlib.ifftn(full, axes=(1,)), z, atol=tol * 10)


@pytest.mark.parametrize("aligned", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("engine", ENGINES)
def test_transforms_into_strided_outputs(engine, dtype, aligned):
    """rfftn_into / irfftn_into write any (transposed) layout, aligned or not."""
    rng = np.random.default_rng(1)
    cdtype = np.result_type(dtype, np.complex64)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    offset = 0 if aligned else 1                          # one element off alignment
    a = rng.standard_normal((3, 2, 4, 16, 12)).astype(dtype)
    storage = fftlib.empty_aligned(16 * 7 * 2 * 3 * 4 + offset, cdtype)
    freq_major = storage[offset:].reshape(16, 7, 2, 3, 4)
    out = freq_major.transpose(3, 2, 4, 0, 1)             # (3, 2, 4, 16, 7), strided
    with fftlib.set_fft_engine(engine, threads=2):
        assert fftlib.rfftn_into(a, out, axes=(-2, -1)) is out
        np.testing.assert_allclose(out, np.fft.rfftn(a, axes=(-2, -1)), atol=tol * 50)
        # negative strides on both sides: planned through contiguous copies
        flipped_in = np.ascontiguousarray(a[..., ::-1])[..., ::-1]
        flipped_out = np.empty(out.shape[:-1] + (out.shape[-1],), out.dtype)[..., ::-1]
        assert flipped_in.strides[-1] < 0 and flipped_out.strides[-1] < 0
        fftlib.rfftn_into(flipped_in, flipped_out, axes=(-2, -1))
        np.testing.assert_allclose(flipped_out, out, atol=tol * 50)
        spectrum = out.copy()
        back = np.empty_like(a)
        assert fftlib.irfftn_into(out, back, axes=(-2, -1)) is back
        np.testing.assert_allclose(back, a, atol=tol * 10)
        fftlib.irfftn_into(spectrum, back, axes=(-2, -1), scaled=False)
        np.testing.assert_allclose(back, a * (16 * 12), atol=tol * 10 * 16 * 12)


@pytest.mark.parametrize("call, pattern", [
    (lambda: fftlib.rfftn_into([1.0, 2.0], np.empty(2, np.complex128), (0,)),
     r"rfftn_into: parameter 'a' must be a numpy.ndarray"),
    (lambda: fftlib.rfftn_into(np.ones(4), np.empty(3, np.complex64), (0,)),
     r"rfftn_into: parameter 'out' must be a complex128 array"),
    (lambda: fftlib.rfftn_into(np.ones(4, np.int64), np.empty(3, np.complex128), (0,)),
     r"rfftn_into: parameter 'a' must be a float32 or float64 array"),
    (lambda: fftlib.rfftn_into(np.ones(4), np.empty(4, np.complex128), (0,)),
     r"rfftn_into: parameter 'out' must be shape \(3,\)"),
    (lambda: fftlib.rfftn_into(np.ones((2, 4)), np.empty((2, 3), np.complex128), (1, 1)),
     r"rfftn_into: parameter 'axes' must be distinct axis indices"),
    (lambda: fftlib.irfftn_into(np.ones(3, np.complex128), np.empty(6, np.float32), (0,)),
     r"irfftn_into: parameter 'a' must be a complex64 array"),
    (lambda: fftlib.irfftn_into(np.ones(3, np.complex128), np.empty(6), ("x",)),
     r"irfftn_into: parameter 'axes' must be a sequence of axis indices"),
])
def test_transforms_into_reject_bad_arrays(call, pattern):
    with pytest.raises((TypeError, ValueError), match=pattern):
        call()


def test_set_fft_engine_as_call_and_as_context():
    default = fftlib.get_fft_engine()
    with fftlib.set_fft_engine("numpy") as engine:
        assert engine.name == "numpy" and fftlib.get_fft_engine() is engine
        with fftlib.set_fft_engine("scipy", threads=1):
            assert fftlib.get_fft_engine().name == "scipy"
            assert fftlib.get_fft_engine().threads == 1
        assert fftlib.get_fft_engine().name == "numpy"
    assert fftlib.get_fft_engine() is default

    def worker(result):
        fftlib.set_fft_engine("numpy")              # plain call: rest of this thread
        result.append(fftlib.get_fft_engine().name)

    seen = []
    thread = threading.Thread(target=worker, args=(seen,))
    thread.start()
    thread.join()
    assert seen == ["numpy"] and fftlib.get_fft_engine() is default


def test_default_engine_is_pyfftw_when_installed_with_measure():
    # The suite runs under FFTW_ESTIMATE (tests/conftest.py); look past it.
    engine = fftlib._engine("pyfftw" if "pyfftw" in ENGINES else "scipy", None, None)
    assert engine.threads == fftlib.default_threads()
    if "pyfftw" in ENGINES:
        assert engine.planner_effort == "FFTW_MEASURE"


@pytest.mark.parametrize("kwargs, pattern", [
    (dict(name="cufft"), r"set_fft_engine: parameter 'name' must be one of 'numpy', 'scipy'"),
    (dict(name=3), r"parameter 'name' must be an engine name"),
    (dict(name="scipy", threads=0), r"parameter 'threads' must be None or a positive int"),
    (dict(name="pyfftw", planner_effort="FAST"), r"parameter 'planner_effort' must be one of"),
])
def test_engine_errors(kwargs, pattern):
    with pytest.raises((ValueError, TypeError), match=pattern):
        fftlib.set_fft_engine(**kwargs)


def test_next_fast_len_is_the_smallest_fast_length():
    def fast(n):
        while n % 2 == 0:
            n //= 2
        return n in fftlib.FAST_ODD_PARTS
    for n in range(1, 3000):
        m = fftlib.next_fast_len(n)
        assert m >= n and fast(m) and not any(fast(k) for k in range(n, m))
    assert fftlib.fast_lengths(60, 130) == [60, 64, 72, 80, 96, 120, 128]


@needs_pyfftw
def test_pyfftw_plans_are_cached_per_thread_with_measure():
    with fftlib.set_fft_engine("pyfftw", threads=1, planner_effort="FFTW_MEASURE") as engine:
        a = np.ones((16, 16), np.float32)
        before = engine.plan_count()
        first = fftlib.rfftn(a, axes=(0, 1))
        second = fftlib.rfftn(2 * a, axes=(0, 1))
        assert engine.plan_count() == before + 1
        assert not np.shares_memory(first, second)        # outputs never alias
        np.testing.assert_allclose(first[0, 0], 256.0)
        counts = []
        thread = threading.Thread(target=lambda: counts.append(engine.plan_count()))
        thread.start()
        thread.join()
        assert counts == [0]                               # no plan shared across threads


@needs_pyfftw
def test_wisdom_round_trip_and_bad_files(tmp_path):
    with fftlib.set_fft_engine("pyfftw", threads=1, planner_effort="FFTW_MEASURE"):
        fftlib.rfftn(np.ones((30, 30)), axes=(0, 1))
    good = tmp_path / "wisdom.json"
    fftlib.export_wisdom(good)
    assert fftlib.import_wisdom(good) is True

    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text("{not json")
    with pytest.warns(RuntimeWarning, match="cannot use .*corrupt.json.*ignored"):
        assert fftlib.import_wisdom(corrupt) is False

    payload = json.loads(good.read_text())
    payload["wisdom"] = ["!!!", "", ""]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(payload))
    with pytest.warns(RuntimeWarning, match="ignored"):
        assert fftlib.import_wisdom(broken) is False

    payload = json.loads(good.read_text())
    payload["origin"]["machine"] = "elsewhere"
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps(payload))
    with pytest.warns(RuntimeWarning, match="another machine"):
        assert fftlib.import_wisdom(foreign) is False

    with pytest.warns(RuntimeWarning, match="cannot use"):
        assert fftlib.import_wisdom(tmp_path / "missing.json") is False


# -- FFTW's OpenMP threads sleep when idle ------------------------------------------

_IDLE_CPU_SCRIPT = """
import os, threading, time
import numpy as np
from fftconv import fftlib
a = np.ones((8, 256, 256), np.float32)          # 2**19 values: a threaded transform
with fftlib.set_fft_engine("pyfftw", threads=2):
    for _ in range(3):
        fftlib.rfftn(a, axes=(1, 2))
main = threading.get_native_id()
def other_threads_cpu_ns():
    return sum(int(open(f"/proc/self/task/{t}/schedstat").read().split()[0])
               for t in os.listdir("/proc/self/task") if int(t) != main)
before = other_threads_cpu_ns()
time.sleep(0.2)
print(os.environ.get("OMP_WAIT_POLICY", "-"), (other_threads_cpu_ns() - before) / 1e6)
"""


def _idle_cpu_after_fft(env_extra: dict) -> tuple[str, float]:
    """Run a threaded transform in a fresh process; return the OMP_WAIT_POLICY it
    sees afterwards and the CPU ms its other threads burn in the next 0.2 s."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in fftlib.OPENMP_WAIT_VARIABLES}
    env.update(env_extra)
    out = subprocess.run([sys.executable, "-c", _IDLE_CPU_SCRIPT], env=env, check=True,
                         capture_output=True, text=True, timeout=120).stdout.split()
    return out[0], float(out[1])


@needs_pyfftw
@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/schedstat"),
                    reason="per-thread CPU time from /proc (Linux)")
def test_fftw_threads_sleep_when_idle_unless_the_user_chose_otherwise():
    # fftconv's default: FFTW's idle worker sleeps at once after a transform (0 ms
    # measured here; libgomp's default spin burned 9-11 ms), and the process
    # environment is left as it was.
    policy, idle_ms = _idle_cpu_after_fft({})
    assert policy == "-"
    assert idle_ms < 1, f"FFTW's idle threads used {idle_ms:.1f} ms of CPU in 200 ms"
    # A user's own setting wins (here: spin for ever), which also shows that the
    # measurement above would see a spinning worker.
    policy, idle_ms = _idle_cpu_after_fft({"OMP_WAIT_POLICY": "ACTIVE",
                                           "GOMP_SPINCOUNT": "infinite"})
    assert policy == "ACTIVE"
    assert idle_ms > 100, f"a spinning worker used only {idle_ms:.1f} ms of 200 ms"
