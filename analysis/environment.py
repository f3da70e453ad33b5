"""What a measurement was made on: CPU, cores, BLAS, FFT engine, versions, date, command.

Timings mean little without the machine and the libraries behind them, so every
report that shows timings opens with :func:`environment`'s rows ("Measured on").
The facts about the process (CPU model, cores, the BLAS libraries loaded, the FFT
engine, package versions) are read once by :func:`probe`; :func:`environment`
turns them, the date and the command line into display rows. Given all its
inputs it is a pure function, so the rows can be tested exactly.

Examples
--------
>>> import datetime
>>> rows = environment(["fftconv", "demo", "--quick"],
...                    datetime.datetime(2026, 12, 4, 13, 30, tzinfo=datetime.timezone.utc),
...                    threads=2)
>>> labels = [label for label, _ in rows]
>>> labels[:3], "FFT engine" in labels
(['CPU', 'cores', 'BLAS'], True)
>>> dict(rows)["date (UTC)"], dict(rows)["command"]
('2026-12-04 13:30:00 UTC', 'fftconv demo --quick')
"""

from __future__ import annotations

import datetime
import os
import platform
import shlex
import sys
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

import fftconv
import fftconv.blas
import fftconv.fftlib
import fftconv.select
from fftconv.checks import integer
from fftconv.errors import bad_type

__all__ = ["Machine", "probe", "environment", "format_command"]

#: Packages whose versions the rows list, in display order, with their labels.
PACKAGES = (("numpy", "numpy"), ("scipy", "scipy"), ("fftconv", "fftconv"),
            ("torch", "torch"), ("matplotlib", "matplotlib"), ("pyFFTW", "pyFFTW"),
            ("threadpoolctl", "threadpoolctl"))


@dataclass(frozen=True)
class Machine:
    """The facts about this process that timings depend on (see :func:`probe`).

    Attributes
    ----------
    cpu : str
        CPU model name (``/proc/cpuinfo``; :func:`platform.processor` elsewhere).
    cores_available : int
        Cores this process may run on (its CPU affinity).
    cores_total : int
        Logical cores of the machine (:func:`os.cpu_count`).
    default_threads : int
        Threads the FFT engine and BLAS use when nobody limits them.
    blas : tuple of dict
        One dict per BLAS library loaded, with keys ``library``, ``version``,
        ``threading_layer``, ``architecture``, ``num_threads`` and ``used_by``
        (threadpoolctl's ``internal_api``, ``version``, ... and the package whose
        wheel ships the library).
    blas_note : str
        :func:`fftconv.blas.kernel_advice` when OpenBLAS runs kernels below the
        CPU's (AVX2 on an AVX-512 CPU), else empty: shown as its own row, since
        it halves the GEMM-based backends' speed beside PyTorch's.
    fft_engine : str
        The FFT engine (:func:`fftconv.fftlib.get_fft_engine`) with its library and
        version.
    versions : dict
        ``{label: version or 'not installed'}`` for :data:`PACKAGES`.
    python : str
        Version and implementation.
    system : str
        Operating system, release and architecture.
    load : str
        The 1, 5 and 15 minute load averages when probed.
    backends : tuple of str
        Registered convolution backends.
    cost_model : str
        Where the constants of ``'auto'``'s cost model come from.
    """

    cpu: str
    cores_available: int
    cores_total: int
    default_threads: int
    blas: tuple = ()
    blas_note: str = ""
    fft_engine: str = ""
    versions: dict = field(default_factory=dict)
    python: str = ""
    system: str = ""
    load: str = ""
    backends: tuple = ()
    cost_model: str = ""


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


def _used_by(filepath: str) -> str:
    """The package whose wheel ships a library: ``.../numpy.libs/libopenblas.so`` → numpy."""
    for part in reversed(filepath.replace("\\", "/").split("/")[:-1]):
        if part.endswith(".libs"):
            return part[:-len(".libs")]
        if part in ("lib", "lib64"):          # a system library
            break
    return ""


def _blas() -> tuple:
    import numpy  # noqa: F401  (its BLAS must be loaded to be listed)
    import scipy.linalg  # noqa: F401
    from threadpoolctl import threadpool_info

    found = []
    for pool in threadpool_info():
        if pool.get("user_api") != "blas":
            continue
        found.append({"library": str(pool.get("internal_api") or "unknown"),
                      "version": str(pool.get("version") or "unknown version"),
                      "threading_layer": str(pool.get("threading_layer") or "unknown"),
                      "architecture": str(pool.get("architecture") or ""),
                      "num_threads": int(pool.get("num_threads") or 0),
                      "used_by": _used_by(str(pool.get("filepath") or ""))})
    return tuple(found)


def _fft_engine() -> str:
    engine = fftconv.fftlib.get_fft_engine()
    if engine.name == "pyfftw":
        pyfftw = fftconv.fftlib.pyfftw
        return (f"pyFFTW {pyfftw.__version__} on FFTW {pyfftw.fftw_version} "
                f"({getattr(engine, 'planner_effort', 'FFTW_MEASURE')} plans)")
    if engine.name == "scipy":
        return f"scipy.fft (pocketfft) from scipy {_version('scipy')}"
    return "numpy.fft (pocketfft, one thread)"


def probe() -> Machine:
    """Read the facts about this process that :func:`environment` shows.

    Returns
    -------
    Machine

    Examples
    --------
    >>> machine = probe()
    >>> machine.cores_available <= machine.cores_total
    True
    """
    try:
        load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    except (AttributeError, OSError):
        load = "unknown"
    return Machine(
        cpu=_cpu_model(),
        cores_available=fftconv.fftlib.default_threads(),
        cores_total=os.cpu_count() or 1,
        default_threads=fftconv.fftlib.get_fft_engine().threads,
        blas=_blas(),
        blas_note=fftconv.blas.kernel_advice() or "",
        fft_engine=_fft_engine(),
        versions={label: (fftconv.__version__ if dist == "fftconv" else _version(dist))
                  for label, dist in PACKAGES},
        python=f"{platform.python_version()} ({platform.python_implementation()})",
        system=f"{platform.system()} {platform.release()} ({platform.machine()})",
        load=load,
        backends=tuple(fftconv.available_backends()),
        cost_model=fftconv.select.constants_source(),
    )


def format_command(argv) -> str:
    """A command line as a shell would take it; ``python -m`` for a package's ``__main__``.

    Examples
    --------
    >>> format_command(["/venv/bin/fftconv", "demo", "--out", "my report"])
    "fftconv demo --out 'my report'"
    >>> format_command(["/src/fftconv/__main__.py", "demo"])
    'python -m fftconv demo'
    """
    if isinstance(argv, str) or not hasattr(argv, "__iter__"):
        raise bad_type("format_command", "argv", argv, "a sequence of str (like sys.argv)")
    argv = list(argv)
    if not argv or not all(isinstance(a, str) for a in argv):
        raise bad_type("format_command", "argv", argv, "a non-empty sequence of str")
    program = os.path.basename(argv[0]) or argv[0]
    if program == "__main__.py":
        program = f"python -m {os.path.basename(os.path.dirname(argv[0])) or '?'}"
        return " ".join([program, shlex.join(argv[1:])]).strip()
    return shlex.join([program, *argv[1:]])


def _blas_text(blas, threads) -> str:
    if not blas:
        return "none loaded"
    parts = []
    for lib in blas:
        name = {"openblas": "OpenBLAS", "mkl": "MKL", "blis": "BLIS"}.get(
            lib["library"], lib["library"])
        details = [f"{lib['threading_layer']} threading"]
        if lib["architecture"]:
            details.append(f"{lib['architecture']} kernels")
        n = threads or lib["num_threads"]
        details.append(f"{n} thread{'s' if n != 1 else ''}")
        owner = f" ({lib['used_by']}'s)" if lib["used_by"] else ""
        parts.append(f"{name} {lib['version']}{owner}: {', '.join(details)}")
    return "; ".join(dict.fromkeys(parts))


def environment(argv=None, now=None, threads=None, machine=None) -> list[tuple[str, str]]:
    """The rows of a report's "Measured on" block, in display order.

    Parameters
    ----------
    argv : sequence of str, optional
        The command line (default :data:`sys.argv`), shown by :func:`format_command`.
    now : datetime.datetime, optional
        When the measurement started (default: now); shown in UTC. A naive datetime
        is taken as UTC.
    threads : int, optional
        Threads the measurement gave BLAS and the FFT engine (default: the
        libraries' own, ``machine.default_threads``).
    machine : Machine, optional
        The facts to show (default :func:`probe`).

    Returns
    -------
    list of (str, str)
        ``(label, value)``: CPU, cores, BLAS, FFT engine, Python and the package
        versions (torch "not installed" when absent), operating system, load
        average, backends, cost model, date (UTC), command. The same inputs give the
        same rows.

    Raises
    ------
    TypeError, ValueError
        For a bad ``now``, ``threads`` or ``argv``.
    """
    func = "environment"
    if now is None:
        now = datetime.datetime.now(datetime.timezone.utc)
    elif not isinstance(now, datetime.datetime):
        raise bad_type(func, "now", now, "a datetime.datetime")
    if threads is not None:
        threads = integer(func, "threads", threads)
    if machine is None:
        machine = probe()
    elif not isinstance(machine, Machine):
        raise bad_type(func, "machine", machine, "an analysis.environment.Machine")
    command = format_command(sys.argv if argv is None else argv)
    if now.tzinfo is None:
        now = now.replace(tzinfo=datetime.timezone.utc)
    used = threads or machine.default_threads
    limited = "set by the run" if threads else "the libraries' default"
    rows = [
        ("CPU", machine.cpu),
        ("cores", f"{used} thread{'s' if used != 1 else ''} used ({limited}); "
                  f"{machine.cores_available} of {machine.cores_total} cores available "
                  "to the process"),
        ("BLAS", _blas_text(machine.blas, threads)),
        *((("BLAS kernels", machine.blas_note),) if machine.blas_note else ()),
        ("FFT engine", f"{machine.fft_engine}, {used} thread{'s' if used != 1 else ''}"),
        ("Python", machine.python),
        *((label, machine.versions.get(label, "not installed")) for label, _ in PACKAGES),
        ("operating system", machine.system),
        ("load average (1, 5, 15 min) at start", machine.load),
        ("backends", ", ".join(machine.backends)),
        ("cost model of 'auto'", machine.cost_model),
        ("date (UTC)", f"{now.astimezone(datetime.timezone.utc):%Y-%m-%d %H:%M:%S} UTC"),
        ("command", command),
    ]
    return [(label, str(value)) for label, value in rows]
