"""Which kernels the BLAS runs, against what the CPU could run.

OpenBLAS as numpy and scipy ship it (``DYNAMIC_ARCH``) picks its kernels when the
library loads: from the CPU's identity, or from ``OPENBLAS_CORETYPE`` when that is
set. Machines whose older OpenBLAS builds compute wrong results on AVX-512 pin it
to an AVX2 family (``OPENBLAS_CORETYPE=Haswell``, with ``OPENBLAS_L2_SIZE``): the
2-core AMD EPYC (Zen 5, AVX-512) the benchmarks run on does, and there one
thread's float32 GEMM runs at about 100 GFLOP/s with the Haswell kernels and
185 GFLOP/s with the SkylakeX ones OpenBLAS 0.3.31 picks by itself when both
variables are unset (1024³ and the Winograd backend's 64 × 64 × 1568 products
alike). Every GEMM-based backend moves with it, while PyTorch's oneDNN finds the
AVX-512 units by itself, so a comparison with torch under the pinned kernels
measures the BLAS setting as much as the algorithms.

The variables are read when the library loads, before any of fftconv runs, so
fftconv never changes them: :func:`kernel_advice` says what runs and how to
benchmark with the CPU's own kernels (``fftconv bench`` and ``fftconv
calibrate`` print it; the report's "Measured on" block shows the kernels), and
``docs/benchmarking.rst`` gives the command.
"""

from __future__ import annotations

import os

from .errors import bad_type, bad_value

__all__ = ["AVX512_CORETYPE", "AVX512_KERNELS", "cpu_has_avx512", "openblas_kernels",
           "kernel_advice", "kernel_note"]

#: The OpenBLAS core type whose kernels use the AVX-512 subset Skylake-X
#: introduced (F, CD, BW, DQ, VL), which every AVX-512 CPU since has.
AVX512_CORETYPE = "SkylakeX"

#: OpenBLAS core types (lower case) that run AVX-512 kernels.
AVX512_KERNELS = frozenset({"skylakex", "cooperlake", "sapphirerapids"})


def cpu_has_avx512() -> bool:
    """Whether the CPU runs the AVX-512 subset of :data:`AVX512_CORETYPE`'s kernels.

    Read from numpy's runtime CPU dispatch (its ``AVX512_SKX`` group: F, CD, BW,
    DQ, VL), which also checks that the operating system saves the AVX-512
    registers; ``False`` where numpy does not expose it.

    Examples
    --------
    >>> isinstance(cpu_has_avx512(), bool)
    True
    """
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:                        # numpy < 2
        try:
            from numpy.core._multiarray_umath import __cpu_features__ as features
        except ImportError:
            return False
    return bool(features.get("AVX512_SKX", False))


def openblas_kernels() -> list[str]:
    """The core type (``architecture``) of each OpenBLAS loaded in the process,
    e.g. ``['Haswell']``; ``[]`` without OpenBLAS (MKL, BLIS, Accelerate).

    Examples
    --------
    >>> all(isinstance(kernels, str) for kernels in openblas_kernels())
    True
    """
    import numpy  # noqa: F401  (its BLAS must be loaded to be listed)
    from threadpoolctl import threadpool_info

    return [str(pool.get("architecture") or "unknown") for pool in threadpool_info()
            if pool.get("internal_api") == "openblas"]


def kernel_advice() -> str | None:
    """What to know when OpenBLAS runs AVX2 (or older) kernels on an AVX-512 CPU.

    Returns
    -------
    str or None
        One sentence naming the kernels in use, why (``OPENBLAS_CORETYPE`` as
        set, or OpenBLAS's own detection) and how to run the AVX-512 ones for a
        benchmark; ``None`` when the kernels match the CPU or there is no
        OpenBLAS.

    Examples
    --------
    >>> advice = kernel_advice()
    >>> advice is None or "AVX-512" in advice
    True
    """
    if not cpu_has_avx512():
        return None
    below = sorted({k for k in openblas_kernels() if k.lower() not in AVX512_KERNELS})
    if not below:
        return None
    kernels = "/".join(below)
    pinned = os.environ.get("OPENBLAS_CORETYPE")
    if pinned:
        return (f"OpenBLAS runs its {kernels} kernels (OPENBLAS_CORETYPE={pinned} is set) "
                f"on a CPU with AVX-512, about half the float32 GEMM throughput of its "
                f"AVX-512 kernels; to benchmark with those, unset OPENBLAS_CORETYPE and "
                f"OPENBLAS_L2_SIZE for that command alone (env -u OPENBLAS_CORETYPE -u "
                f"OPENBLAS_L2_SIZE fftconv ...); keep them for tests (the pin guards older "
                f"OpenBLAS builds that compute wrongly on some AVX-512 CPUs)")
    return (f"OpenBLAS runs its {kernels} kernels on a CPU with AVX-512, about half the "
            f"float32 GEMM throughput of its AVX-512 kernels; OPENBLAS_CORETYPE="
            f"{AVX512_CORETYPE} selects those")


def kernel_note(command: str) -> str | None:
    """:func:`kernel_advice` as a line for ``fftconv <command>``'s standard error
    (timings and calibrations depend on it), or ``None``.

    Parameters
    ----------
    command : str
        The subcommand the line is printed by, e.g. ``'bench'`` (non-empty).

    Raises
    ------
    TypeError, ValueError
        For a ``command`` that is not a non-empty str.

    Examples
    --------
    >>> note = kernel_note("bench")
    >>> note is None or note.startswith("fftconv bench: note: OpenBLAS runs its")
    True
    """
    if not isinstance(command, str):
        raise bad_type("kernel_note", "command", command, "a str (the subcommand's name)")
    if not command.strip():
        raise bad_value("kernel_note", "command", command, "a non-empty subcommand name")
    advice = kernel_advice()
    return None if advice is None else f"fftconv {command}: note: {advice}"
