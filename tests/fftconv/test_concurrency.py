"""Concurrent use is safe: several threads running every backend, the signal ops and
template matching at once get results bit-identical to one thread.

The settings of fftconv (``set_fft_engine``, ``set_backend``, ...) are context
variables, as ``scipy.fft.set_backend``'s: a new thread starts from the defaults,
so the jobs run in a copy of the caller's context (``contextvars.copy_context``),
as a user's threads would to share the caller's settings.
"""

import contextvars
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import fftconv

pytest.importorskip("analysis")
from analysis.matching import match_template  # noqa: E402


def _jobs():
    """``name → callable`` returning the arrays each job computes."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 6, 33, 29))
    w = rng.standard_normal((8, 3, 5, 3))
    kwargs = dict(stride=(2, 1), padding=(2, 1), groups=2)
    dy = rng.standard_normal(fftconv.conv2d(x, w, backend="direct", **kwargs).shape)
    scene = rng.random((300, 280)).astype(np.float32)
    template = scene[100:140, 50:95].copy()
    signal, kernel = rng.standard_normal((3, 700)), rng.standard_normal((1, 31))
    jobs = {}
    for name in ("direct", "im2col", "fft"):
        def layer(name=name):
            y, ctx = fftconv.conv2d(x, w, backend=name, return_context=True, **kwargs)
            return (y,) + tuple(fftconv.conv2d_backward(dy, x, w, backend=name, context=ctx,
                                                        **kwargs))
        jobs[name] = layer
    for method in ("ccoeff_normed", "sqdiff"):
        jobs[f"match {method}"] = lambda method=method: (match_template(scene, template,
                                                                         method=method),)
    jobs["match masked"] = lambda: (match_template(
        scene, template, mask=(np.arange(45) % 3 > 0)[None].repeat(40, 0)),)
    jobs["correlate"] = lambda: (fftconv.correlate(signal, kernel, mode="same", axes=1,
                                                   method="fft"),)
    return jobs


def test_threads_running_everything_at_once_match_one_thread():
    jobs = _jobs()
    alone = {name: job() for name, job in jobs.items()}
    rounds = 3
    with ThreadPoolExecutor(4) as pool:
        futures = [(name, pool.submit(contextvars.copy_context().run, job))
                   for _ in range(rounds) for name, job in jobs.items()]
        for name, future in futures:
            for got, want in zip(future.result(), alone[name]):
                assert np.array_equal(got, want), name
