"""fftconv.blas: the advice names the kernels OpenBLAS runs below an AVX-512 CPU's, and
stays silent where they match or there is no OpenBLAS."""

import pytest

from fftconv import blas


@pytest.fixture
def machine(monkeypatch):
    """Set what the CPU has, which OpenBLAS kernels are loaded and the environment."""
    def set_(avx512, kernels, coretype=None):
        monkeypatch.setattr(blas, "cpu_has_avx512", lambda: avx512)
        monkeypatch.setattr(blas, "openblas_kernels", lambda: list(kernels))
        if coretype is None:
            monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
        else:
            monkeypatch.setenv("OPENBLAS_CORETYPE", coretype)
    return set_


def test_avx2_kernels_pinned_on_an_avx512_cpu_say_how_to_benchmark(machine):
    machine(True, ["Haswell", "Haswell"], coretype="Haswell")
    advice = blas.kernel_advice()
    assert advice.startswith("OpenBLAS runs its Haswell kernels (OPENBLAS_CORETYPE=Haswell "
                             "is set) on a CPU with AVX-512")
    assert "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE" in advice
    assert "keep them for tests" in advice


def test_avx2_kernels_chosen_by_openblas_name_the_coretype_to_set(machine):
    machine(True, ["Zen"])
    advice = blas.kernel_advice()
    assert "its Zen kernels on a CPU with AVX-512" in advice
    assert f"OPENBLAS_CORETYPE={blas.AVX512_CORETYPE}" in advice


@pytest.mark.parametrize("avx512, kernels", [
    (True, ["SkylakeX"]), (True, ["Cooperlake", "SapphireRapids"]),   # kernels match
    (False, ["Haswell"]),                                             # no AVX-512
    (True, []),                                                       # MKL, BLIS: no OpenBLAS
])
def test_no_advice_where_nothing_is_lost(machine, avx512, kernels):
    machine(avx512, kernels, coretype="Haswell")
    assert blas.kernel_advice() is None


def test_the_probes_read_this_process():
    assert isinstance(blas.cpu_has_avx512(), bool)
    kernels = blas.openblas_kernels()
    assert all(isinstance(k, str) and k for k in kernels)


def test_the_note_names_the_command(machine):
    machine(True, ["Haswell"], coretype="Haswell")
    assert blas.kernel_note("bench").startswith("fftconv bench: note: OpenBLAS runs its Haswell")
    machine(True, ["SkylakeX"])
    assert blas.kernel_note("bench") is None


@pytest.mark.parametrize("command, error, message", [
    (None, TypeError, r"kernel_note: parameter 'command' must be a str"),
    (3, TypeError, r"kernel_note: parameter 'command' must be a str"),
    ("  ", ValueError, r"kernel_note: parameter 'command' must be a non-empty subcommand"),
])
def test_the_note_refuses_a_bad_command(command, error, message):
    with pytest.raises(error, match=message):
        blas.kernel_note(command)
