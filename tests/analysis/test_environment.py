"""analysis.environment: the "Measured on" rows are complete, deterministic and true."""

import dataclasses
import datetime
import os
import re

import numpy as np
import pytest
import scipy

import fftconv
import fftconv.blas
from analysis.environment import Machine, environment, format_command, probe

NOW = datetime.datetime(2026, 12, 4, 13, 30, 5, tzinfo=datetime.timezone.utc)
LABELS = ["CPU", "cores", "BLAS", "FFT engine", "Python", "numpy", "scipy", "fftconv",
          "torch", "matplotlib", "pyFFTW", "threadpoolctl", "operating system",
          "load average (1, 5, 15 min) at start", "backends", "cost model of 'auto'",
          "date (UTC)", "command"]

FAKE = Machine(
    cpu="Example CPU 9000", cores_available=3, cores_total=8, default_threads=3,
    blas=({"library": "openblas", "version": "0.3.30", "threading_layer": "pthreads",
           "architecture": "Haswell", "num_threads": 3, "used_by": "numpy"},
          {"library": "mkl", "version": "2024.1", "threading_layer": "intel",
           "architecture": "", "num_threads": 3, "used_by": ""}),
    fft_engine="scipy.fft (pocketfft) from scipy 1.0", versions={"numpy": "2.0", "torch": "2.1"},
    python="3.11.0 (CPython)", system="Linux 6 (x86_64)", load="0.10, 0.20, 0.30",
    backends=("direct", "fft"), cost_model="shipped defaults")


def test_every_row_is_present_in_order():
    rows = environment(["fftconv", "demo"], NOW, threads=2)
    # "BLAS kernels" only where OpenBLAS runs kernels below the CPU's
    expected = LABELS[:3] + (["BLAS kernels"] if fftconv.blas.kernel_advice() else []) + LABELS[3:]
    assert [label for label, _ in rows] == expected
    assert all(isinstance(value, str) and value for _, value in rows)


def test_given_its_inputs_it_is_a_pure_function():
    first = environment(["fftconv", "demo", "--quick"], NOW, 1, FAKE)
    assert first == environment(["fftconv", "demo", "--quick"], NOW, 1, FAKE)
    assert dict(first) == {
        "CPU": "Example CPU 9000",
        "cores": "1 thread used (set by the run); 3 of 8 cores available to the process",
        "BLAS": "OpenBLAS 0.3.30 (numpy's): pthreads threading, Haswell kernels, 1 thread; "
                "MKL 2024.1: intel threading, 1 thread",
        "FFT engine": "scipy.fft (pocketfft) from scipy 1.0, 1 thread",
        "Python": "3.11.0 (CPython)", "numpy": "2.0", "scipy": "not installed",
        "fftconv": "not installed", "torch": "2.1", "matplotlib": "not installed",
        "pyFFTW": "not installed", "threadpoolctl": "not installed",
        "operating system": "Linux 6 (x86_64)",
        "load average (1, 5, 15 min) at start": "0.10, 0.20, 0.30",
        "backends": "direct, fft", "cost model of 'auto'": "shipped defaults",
        "date (UTC)": "2026-12-04 13:30:05 UTC", "command": "fftconv demo --quick"}
    # without threads, the libraries' defaults
    assert dict(environment(["x"], NOW, None, FAKE))["cores"].startswith(
        "3 threads used (the libraries' default)")


def test_a_blas_note_is_its_own_row_after_blas():
    noted = dataclasses.replace(FAKE, blas_note="OpenBLAS runs its Haswell kernels ...")
    labels = [label for label, _ in environment(["x"], NOW, 1, noted)]
    assert labels[labels.index("BLAS") + 1] == "BLAS kernels"
    assert dict(environment(["x"], NOW, 1, noted))["BLAS kernels"] == noted.blas_note
    assert "BLAS kernels" not in dict(environment(["x"], NOW, 1, FAKE))


def test_the_date_is_shown_in_utc_whatever_the_zone_given():
    plus2 = NOW.astimezone(datetime.timezone(datetime.timedelta(hours=2)))
    assert dict(environment(["x"], plus2, 1, FAKE))["date (UTC)"] == "2026-12-04 13:30:05 UTC"
    naive = NOW.replace(tzinfo=None)                                 # taken as UTC
    assert dict(environment(["x"], naive, 1, FAKE))["date (UTC)"] == "2026-12-04 13:30:05 UTC"


def test_the_probed_values_are_this_process():
    rows = dict(environment(["fftconv"], NOW))
    assert rows["numpy"] == np.__version__
    assert rows["scipy"] == scipy.__version__
    assert rows["fftconv"] == fftconv.__version__
    assert rows["backends"] == ", ".join(fftconv.available_backends())
    engine = fftconv.fftlib.get_fft_engine()
    expected = {"pyfftw": "pyFFTW", "scipy": "scipy.fft", "numpy": "numpy.fft"}[engine.name]
    assert rows["FFT engine"].startswith(expected)
    assert rows["FFT engine"].endswith(f", {engine.threads} thread" +
                                       ("s" if engine.threads != 1 else ""))
    used, available, total = map(int, re.match(
        r"(\d+) threads? used .*; (\d+) of (\d+) cores", rows["cores"]).groups())
    assert 1 <= available <= total == os.cpu_count() and used == engine.threads
    # numpy links a BLAS, and threadpoolctl names its library and version
    assert re.search(r"(OpenBLAS|MKL|BLIS|\w+) [\w.]+", rows["BLAS"]), rows["BLAS"]
    assert rows["BLAS"] != "none loaded"


def test_probe_is_stable_within_a_process():
    a, b = probe(), probe()
    assert (a.cpu, a.blas, a.fft_engine, a.versions) == (b.cpu, b.blas, b.fft_engine, b.versions)


@pytest.mark.parametrize("argv, text", [
    (["/usr/local/bin/fftconv", "demo", "--out", "a b"], "fftconv demo --out 'a b'"),
    (["/src/fftconv/__main__.py", "demo", "--quick"], "python -m fftconv demo --quick"),
    (["/src/fftconv/__main__.py"], "python -m fftconv"),
    (("pytest", "-q"), "pytest -q"),
])
def test_format_command(argv, text):
    assert format_command(argv) == text


def test_bad_inputs_name_the_function_and_parameter():
    with pytest.raises(TypeError, match=r"environment: parameter 'now' must be a "
                                        r"datetime.datetime; got '2026'"):
        environment(["x"], "2026")
    with pytest.raises(ValueError, match=r"environment: parameter 'threads' must be an "
                                         r"int >= 1; got 0"):
        environment(["x"], NOW, 0)
    with pytest.raises(TypeError, match=r"environment: parameter 'machine' must be an "
                                        r"analysis.environment.Machine"):
        environment(["x"], NOW, 1, {"cpu": "x"})
    with pytest.raises(TypeError, match=r"format_command: parameter 'argv' must be a "
                                        r"sequence of str"):
        environment("fftconv demo", NOW, 1, FAKE)
    with pytest.raises(TypeError, match=r"format_command: parameter 'argv' must be a "
                                        r"non-empty sequence of str"):
        format_command([])
