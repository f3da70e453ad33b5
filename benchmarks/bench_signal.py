"""Single-image convolution: fftconv.convolve against scipy.signal."""

import numpy as np
import scipy.fft
import scipy.signal

import fftconv

CASES = {"1024^2*63^2": ((1024, 1024), (63, 63)), "4096^2*31^2": ((4096, 4096), (31, 31)),
         "100000*101": ((100000,), (101,))}


class Convolve:
    params = [list(CASES), ["fftconv", "scipy.fftconvolve", "scipy.oaconvolve"]]
    param_names = ["case", "implementation"]
    timeout = 180

    def setup(self, case, implementation):
        image, kernel = CASES[case]
        rng = np.random.default_rng(0)
        self.a = rng.standard_normal(image).astype(np.float32)
        self.b = rng.standard_normal(kernel).astype(np.float32)
        self.time_convolve(case, implementation)               # plans, caches

    def time_convolve(self, case, implementation):
        if implementation == "fftconv":
            fftconv.convolve(self.a, self.b, method="fft")
        else:
            with scipy.fft.set_workers(2):
                getattr(scipy.signal, implementation.split(".")[1])(self.a, self.b)
