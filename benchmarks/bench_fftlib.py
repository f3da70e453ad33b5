"""The FFT engines: what FFTW's idle OpenMP threads cost the rest of the process.

fftconv loads pyFFTW's OpenMP runtime with ``OMP_WAIT_POLICY=PASSIVE``
(:func:`fftconv.fftlib._import_pyfftw`), so a worker sleeps as soon as a threaded
transform ends instead of spinning on a core that BLAS, the thread pool or the
next backend wants. The tests check that setting (the runtime's own report of its
wait policy); this tracks its effect: the CPU time that the process's other
threads use while the main thread sleeps for :data:`IDLE_SECONDS` after a threaded
transform, in a fresh process. ``'user-spin'`` is a user's own choice to spin
(``OMP_WAIT_POLICY=ACTIVE``, ``GOMP_SPINCOUNT=infinite``), which fftconv keeps: it
shows that the measurement sees a spinning worker (close to the whole idle time).
"""

import os
import subprocess
import sys

from fftconv import fftlib

#: How long the main thread idles after the transforms.
IDLE_SECONDS = 0.2

_SCRIPT = f"""
import os, threading, time
import numpy as np
from fftconv import fftlib
a = np.ones((8, 256, 256), np.float32)          # 2**19 values: a threaded transform
with fftlib.set_fft_engine("pyfftw", threads=2):
    for _ in range(3):
        fftlib.rfftn(a, axes=(1, 2))
main = threading.get_native_id()
def other_threads_cpu_ns():
    return sum(int(open(f"/proc/self/task/{{t}}/schedstat").read().split()[0])
               for t in os.listdir("/proc/self/task") if int(t) != main)
before = other_threads_cpu_ns()
time.sleep({IDLE_SECONDS})
print((other_threads_cpu_ns() - before) / 1e6)
"""

POLICIES = {"fftconv-default": {},
            "user-spin": {"OMP_WAIT_POLICY": "ACTIVE", "GOMP_SPINCOUNT": "infinite"}}


class FFTWIdleThreads:
    """CPU milliseconds FFTW's idle threads use in :data:`IDLE_SECONDS` after a transform."""

    params = [list(POLICIES)]
    param_names = ["policy"]
    unit = "ms"
    timeout = 120

    def setup(self, policy):
        if "pyfftw" not in fftlib.available_engines():
            raise NotImplementedError("pyFFTW is not installed")
        if not os.path.exists("/proc/self/schedstat"):
            raise NotImplementedError("per-thread CPU time from /proc (Linux)")

    def track_idle_thread_cpu(self, policy):
        env = {k: v for k, v in os.environ.items() if k not in fftlib.OPENMP_WAIT_VARIABLES}
        env.update(POLICIES[policy])
        out = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, check=True,
                             capture_output=True, text=True, timeout=100).stdout
        return float(out.split()[-1])
