"""Backend registry, scoped choice, 'auto', and the im2col memory guard."""

import threading

import numpy as np
import pytest

import fftconv
from fftconv.backends import _REGISTRY, Backend
from fftconv.select import resolve_backend
from fftconv import get_memory_budget, set_memory_budget
from fftconv.backends.im2col import _blocks
from fftconv._spec import make_spec


def test_builtin_backends_are_registered():
    assert {"direct", "im2col"} <= set(fftconv.available_backends())
    assert fftconv.get_backend("direct").name == "direct"


def test_set_backend_nests_and_explicit_argument_wins():
    spec = make_spec("t", (1, 1, 5, 5), (1, 1, 3, 3))
    assert fftconv.current_backend_name() == "auto"
    with fftconv.set_backend("direct"):
        assert resolve_backend("t", None, spec).name == "direct"
        with fftconv.set_backend("im2col"):
            assert resolve_backend("t", None, spec).name == "im2col"
            assert resolve_backend("t", "direct", spec).name == "direct"
        assert fftconv.current_backend_name() == "direct"
    assert fftconv.current_backend_name() == "auto"


def test_set_backend_is_thread_local():
    seen = {}
    inside, release = threading.Event(), threading.Event()

    def worker():
        inside.wait()
        seen["worker"] = fftconv.current_backend_name()
        release.set()

    thread = threading.Thread(target=worker)
    thread.start()
    with fftconv.set_backend("im2col"):
        inside.set()
        release.wait(10)
    thread.join()
    assert seen["worker"] == "auto"


class _Refuses(Backend):
    name = "refuses"

    def supports(self, spec):
        return False

    def cost(self, spec):
        return 0.0


def test_named_backend_that_cannot_run_raises(monkeypatch):
    monkeypatch.setitem(_REGISTRY, "refuses", _Refuses())
    x, w = np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3))
    with pytest.raises(NotImplementedError,
                       match=r"conv2d: backend 'refuses' does not support ConvSpec\(x=\(1, 1, 4, 4\)"):
        fftconv.conv2d(x, w, backend="refuses")
    # 'auto' skips it even though its cost is the lowest.
    assert fftconv.choose_backend(make_spec("t", x.shape, w.shape)).name != "refuses"
    np.testing.assert_array_equal(fftconv.conv2d(x, w), np.full((1, 1, 2, 2), 9.0))


def test_choose_backend_reports_every_candidate():
    choice = fftconv.choose_backend(make_spec("t", (8, 64, 32, 32), (64, 64, 3, 3)))
    assert set(choice.costs) == set(fftconv.available_backends())
    assert choice.costs[choice.name] == min(choice.costs.values())
    assert choice.reason.startswith(f"chose {choice.name!r}")


@pytest.mark.parametrize("budget", [20_000, 5000, "smallest"])
def test_im2col_memory_budget_chunks_without_changing_results(budget):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((5, 3, 12, 11)), rng.standard_normal((4, 3, 3, 2))
    kwargs = dict(stride=(2, 1), padding=1)
    spec = make_spec("t", x.shape, w.shape, **kwargs)
    if budget == "smallest":          # one output row per block: the finest chunks
        budget = fftconv.get_backend("im2col").working_set(spec)
    dy = rng.standard_normal(spec.output_shape)
    full = fftconv.conv2d(x, w, backend="im2col", **kwargs)
    grads = fftconv.conv2d_backward(dy, x, w, backend="im2col", **kwargs)
    with set_memory_budget(budget):
        assert get_memory_budget() == budget
        chunks = _blocks(spec)          # the forward's and the gradients'
        assert len(chunks) > 1
        covered = np.zeros((spec.n, spec.out_h), int)
        for n0, n1, r0, r1 in chunks:
            covered[n0:n1, r0:r1] += 1
        assert np.all(covered == 1)
        np.testing.assert_allclose(fftconv.conv2d(x, w, backend="im2col", **kwargs), full)
        for a, b in zip(fftconv.conv2d_backward(dy, x, w, backend="im2col", **kwargs), grads):
            np.testing.assert_allclose(a, b)
    assert get_memory_budget() == 1 << 30


@pytest.mark.parametrize("spec_arg, names, error, match", [
    ("not a spec", ["direct"], TypeError, r"same_code: parameter 'spec'.*ConvSpec"),
    (None, [3], TypeError, r"same_code: parameter 'backend'"),
    (None, ["nonexistent"], ValueError, r"same_code: parameter 'backend'.*'direct'"),
    (None, ["auto"], ValueError, r"same_code: parameter 'backend'.*concrete"),
])
def test_same_code_rejects_bad_input(spec_arg, names, error, match):
    from fftconv.backends import same_code
    spec = make_spec("t", (1, 2, 8, 8), (2, 2, 1, 1)) if spec_arg is None else spec_arg
    with pytest.raises(error, match=match):
        same_code(spec, names)
