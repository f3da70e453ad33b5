"""FFT engines: agreement, precision, scoping, pyFFTW plans and wisdom."""

import json
import threading

import numpy as np
import pytest

from fftconv import fftlib
from fftconv.jsonfiles import CacheFileWarning

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
    with pytest.warns(CacheFileWarning, match="cannot use .*corrupt.json.*ignored"):
        assert fftlib.import_wisdom(corrupt) is False

    payload = json.loads(good.read_text())
    payload["wisdom"] = ["!!!", "", ""]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(payload))
    with pytest.warns(CacheFileWarning, match="ignored"):
        assert fftlib.import_wisdom(broken) is False

    payload = json.loads(good.read_text())
    payload["origin"]["machine"] = "elsewhere"
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps(payload))
    with pytest.warns(CacheFileWarning, match="another machine"):
        assert fftlib.import_wisdom(foreign) is False

    with pytest.warns(CacheFileWarning, match="cannot use"):
        assert fftlib.import_wisdom(tmp_path / "missing.json") is False


# -- FFTW's OpenMP threads sleep when idle ------------------------------------------
# What the setting costs or saves in CPU time is tracked by the asv benchmark
# benchmarks/bench_fftlib.py (FFTWIdleThreads); these tests check the setting itself.

_RUNTIME_REPORT_SCRIPT = """
import os
{imports}
print("env after:", os.environ.get("OMP_WAIT_POLICY", "-"))
"""


def _openmp_runtime_settings(env_extra: dict, imports="from fftconv import fftlib") -> dict:
    """Import in a fresh process; the wait settings pyFFTW's OpenMP runtime reports.

    ``OMP_DISPLAY_ENV=VERBOSE`` makes libgomp print its internal settings on
    standard error as it loads, so the values are the runtime's own, read after
    fftconv prepared the environment. Returns ``{'OMP_WAIT_POLICY': ...,
    'GOMP_SPINCOUNT': ..., 'env after': ...}`` (the last: the process environment's
    ``OMP_WAIT_POLICY`` once the import is done, ``'-'`` if unset).
    """
    import os
    import re
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in fftlib.OPENMP_WAIT_VARIABLES}
    env.update(env_extra, OMP_DISPLAY_ENV="VERBOSE")
    proc = subprocess.run([sys.executable, "-c", _RUNTIME_REPORT_SCRIPT.format(imports=imports)],
                          env=env, check=True, capture_output=True, text=True)
    found = dict(re.findall(r"^\s*(OMP_WAIT_POLICY|GOMP_SPINCOUNT) = '([^']*)'", proc.stderr,
                            re.MULTILINE))
    if set(found) != {"OMP_WAIT_POLICY", "GOMP_SPINCOUNT"}:
        pytest.skip("pyFFTW's OpenMP runtime is not libgomp (no OMP_DISPLAY_ENV report)")
    found["env after"] = proc.stdout.split("env after:")[1].strip()
    return found


@needs_pyfftw
def test_fftw_threads_sleep_when_idle_unless_the_user_chose_otherwise():
    # fftconv's default: the runtime loads with the passive policy (an idle worker
    # sleeps at once, spin count 0), and the process environment is left as it was.
    assert _openmp_runtime_settings({}) == {
        "OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "0", "env after": "-"}
    # Without fftconv the same runtime would spin before sleeping: the report above
    # is fftconv's doing, not the runtime's default.
    plain = _openmp_runtime_settings({}, imports="import pyfftw")
    assert int(plain["GOMP_SPINCOUNT"]) > 0
    # A user's own setting wins, and stays in the environment.
    spin = _openmp_runtime_settings({"OMP_WAIT_POLICY": "ACTIVE", "GOMP_SPINCOUNT": "infinite"})
    assert spin["OMP_WAIT_POLICY"] == "ACTIVE" and int(spin["GOMP_SPINCOUNT"]) > 10**9
    assert spin["env after"] == "ACTIVE"
    # Any one of the variables counts as the user's choice: fftconv then sets nothing.
    assert _openmp_runtime_settings({"GOMP_SPINCOUNT": "1000"})["GOMP_SPINCOUNT"] == "1000"


@pytest.mark.parametrize("user_env, seen_during_import", [
    ({}, "PASSIVE"),
    ({"OMP_WAIT_POLICY": "ACTIVE"}, "ACTIVE"),
    ({"KMP_BLOCKTIME": "0"}, None),
])
def test_the_wait_policy_is_set_only_while_pyfftw_loads(monkeypatch, user_env,
                                                        seen_during_import):
    """The mechanism, on any platform: what the environment holds while ``import
    pyfftw`` runs, and that it is restored afterwards (also when the import fails)."""
    import importlib.abc
    import os
    import sys

    seen = []

    class RecordingFinder(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "pyfftw":
                seen.append(os.environ.get("OMP_WAIT_POLICY"))
                raise ModuleNotFoundError("No module named 'pyfftw'", name=name)
            return None

    for name in fftlib.OPENMP_WAIT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in user_env.items():
        monkeypatch.setenv(name, value)
    for name in [m for m in sys.modules if m == "pyfftw" or m.startswith("pyfftw.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [RecordingFinder(), *sys.meta_path])
    assert fftlib._import_pyfftw() is None
    assert seen == [seen_during_import]
    assert {k: os.environ[k] for k in fftlib.OPENMP_WAIT_VARIABLES if k in os.environ} \
        == user_env
