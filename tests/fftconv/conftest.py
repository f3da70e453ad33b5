"""Shared fixtures: the seeded random geometries and their cached references."""

from functools import lru_cache

import numpy as np
import pytest
import scipy.signal

import fftconv

from fftconv._spec import make_spec
from fftconv.backends.base import pad_input
from fftconv.backends.direct import conv2d_backward_reference, conv2d_reference
from fftconv.testing import random_conv_inputs, random_geometry

N_GEOMETRIES = 200
SEED = 20261122


def conv_kwargs(geometry):
    return {k: geometry[k] for k in ("stride", "padding", "dilation", "groups")}


@lru_cache(maxsize=None)
def geometry(index):
    """The ``index``-th seeded random geometry (stable across runs)."""
    return random_geometry(np.random.default_rng([SEED, index]))


@lru_cache(maxsize=None)
def case(index):
    """``(geometry, spec, x, w, bias, dy)`` in float64 for geometry ``index``."""
    g = geometry(index)
    rng = np.random.default_rng([SEED, index, 1])
    x, w, bias = random_conv_inputs(rng, g)
    spec = make_spec("test", g["x_shape"], g["w_shape"], dtype=np.float64, **conv_kwargs(g))
    dy = rng.standard_normal(spec.output_shape)
    for a in (x, w, bias, dy):
        a.setflags(write=False)
    return g, spec, x, w, bias, dy


@lru_cache(maxsize=None)
def reference(index):
    """float64 oracle output of case ``index`` (no bias)."""
    _, spec, x, w, _, _ = case(index)
    return conv2d_reference(x, w, spec)


@lru_cache(maxsize=None)
def reference_grads(index):
    _, spec, x, w, _, dy = case(index)
    return conv2d_backward_reference(dy, x, w, spec)


def scipy_conv2d(x, w, spec):
    """Independent oracle built on ``scipy.signal.correlate``.

    Dilation is applied by inserting zeros into the kernel, stride by subsampling
    the stride-1 'valid' correlation, groups by slicing channel blocks.
    """
    xp = pad_input(x, spec.padding)
    (sh, sw), (dh, dw) = spec.stride, spec.dilation
    kernel = np.zeros((spec.c_out, spec.c_in_per_group, spec.span_h, spec.span_w))
    kernel[:, :, ::dh, ::dw] = w
    cg, og = spec.c_in_per_group, spec.c_out_per_group
    y = np.empty(spec.output_shape)
    for n in range(spec.n):
        for o in range(spec.c_out):
            g = o // og
            full = scipy.signal.correlate(xp[n, g * cg:(g + 1) * cg], kernel[o], mode="valid")
            y[n, o] = full[0, ::sh, ::sw][:spec.out_h, :spec.out_w]
    return y


def backend_cases():
    """Every backend, and the FFT backend once per available FFT engine."""
    from fftconv import fftlib
    cases = []
    for name in fftconv.available_backends():
        if name == "fft":
            cases += [f"fft[{engine}]" for engine in fftlib.available_engines()]
        else:
            cases.append(name)
    return cases


@pytest.fixture
def backend(request):
    """Parametrized indirectly with a case from :func:`backend_cases`; yields the
    backend name with the case's FFT engine in force."""
    from fftconv import fftlib
    name, _, engine = request.param.partition("[")
    if engine:
        with fftlib.set_fft_engine(engine.rstrip("]"), planner_effort="FFTW_ESTIMATE"):
            yield name
    else:
        yield name
