"""'auto': the cost model's choices, autotuning, calibration and their files."""

import json
import os
import warnings

import numpy as np
import pytest

import fftconv
from fftconv import select
from fftconv.jsonfiles import CacheFileWarning
from fftconv.bench import (Layer, SweepRow, crossover_figure, crossovers, format_sweep,
                           run_sweep, sweep_summary)


def spec(x, w, **kw):
    return fftconv.make_spec("test", x, w, dtype=np.float32, **kw)


@pytest.fixture(autouse=True)
def short_timings(monkeypatch):
    """Time autotune and sweeps by rounds alone here: the tests check what is
    chosen and remembered, and seconds of timing per call would only slow them."""
    from fftconv import bench, timing
    for module, name in ((select, "AUTOTUNE_SECONDS"), (bench, "SWEEP_SECONDS"),
                         (timing, "NEAR_TIE_SECONDS")):
        monkeypatch.setattr(module, name, 0.0)


@pytest.fixture
def model_constants(monkeypatch, tmp_path):
    """Pin the cost model to the shipped constants (no calibration file can interfere)."""
    monkeypatch.setenv("FFTCONV_CACHE_DIR", str(tmp_path))
    select.load_constants(reload=True)
    yield select.shipped_constants()
    monkeypatch.undo()
    select.load_constants(reload=True)


@pytest.mark.parametrize("x, w, kwargs, expected", [
    ((4, 8, 256, 256), (8, 8, 31, 31), {}, "fft"),           # huge kernel
    ((1, 1, 512, 512), (1, 1, 63, 63), {}, "fft"),
    ((8, 128, 28, 28), (128, 128, 1, 1), {}, ("im2col", "direct")),   # 1x1 kernel
    ((16, 256, 8, 8), (256, 256, 1, 1), {}, ("im2col", "direct")),
])
def test_clear_cases(model_constants, x, w, kwargs, expected):
    choice = fftconv.choose_backend(spec(x, w, **kwargs))
    assert choice.name in ((expected,) if isinstance(expected, str) else expected)
    assert choice.name == min(choice.costs, key=choice.costs.get)
    assert not choice.measured and "estimated forward time" in choice.reason


def test_choice_follows_a_mocked_cost(monkeypatch):
    """Which backend runs is decided by the costs alone (checked on the dispatch path)."""
    from fftconv.backends import _REGISTRY
    ran = []
    for name, backend in _REGISTRY.items():
        monkeypatch.setattr(backend, "cost", lambda s, n=name: {"direct": 3.0, "im2col": 2.0,
                                                                 "fft": 1.0}.get(n, 9.0))
        original = backend.forward
        monkeypatch.setattr(backend, "forward",
                            lambda x, w, s, n=name, f=original: ran.append(n) or f(x, w, s))
    x, w = np.ones((1, 1, 8, 8)), np.ones((1, 1, 3, 3))
    select.forget_choices()              # costs changed in place: memoized choices are stale
    fftconv.conv2d(x, w)
    assert ran == ["fft"]
    monkeypatch.setattr(_REGISTRY["im2col"], "cost", lambda s: 0.5)
    select.forget_choices()
    fftconv.conv2d(x, w)
    assert ran == ["fft", "im2col"]


def test_autotune_measures_once_and_remembers_on_disk(monkeypatch, tmp_path):
    monkeypatch.setenv("FFTCONV_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(select, "_TUNED", {})
    calls = []
    real = select._autotune_seconds
    monkeypatch.setattr(select, "_autotune_seconds",
                        lambda s, c: calls.append(sorted(c)) or real(s, c))
    s = spec((1, 2, 12, 12), (2, 2, 3, 3))
    first = fftconv.choose_backend(s, autotune=True)
    second = fftconv.choose_backend(s, autotune=True)
    assert calls == [sorted(fftconv.available_backends())]
    assert first.measured and second.name == first.name
    assert first.name == min(first.costs, key=first.costs.get)
    stored = json.loads((tmp_path / "autotune.json").read_text())
    assert stored["format"] == "fftconv-autotune" and len(stored["winners"]) == 1
    monkeypatch.setattr(select, "_TUNED", {})              # a new process reads the file
    assert fftconv.choose_backend(s, autotune=True).name == first.name
    assert len(calls) == 1
    with fftconv.autotune():                               # the context-manager form
        y = fftconv.conv2d(np.ones((1, 2, 12, 12), np.float32),
                           np.ones((2, 2, 3, 3), np.float32))
    assert len(calls) == 1 and y.shape == (1, 2, 10, 10)
    assert select.clear_autotune() == 1                    # forgotten, file removed
    assert not (tmp_path / "autotune.json").exists()
    fftconv.choose_backend(s, autotune=True)
    assert len(calls) == 2                                 # measured again


def test_autotune_forgets_winners_timed_with_other_source(monkeypatch, tmp_path):
    """A winner remembered from an edited or upgraded fftconv is measured again,
    and dropped from the file when the new winner is written."""
    monkeypatch.setenv("FFTCONV_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(select, "_TUNED", {})
    s = spec((1, 2, 12, 12), (2, 2, 3, 3))
    key = select._tune_key(s)
    assert key.endswith(f" #{select._source_digest()}") and len(select._source_digest()) == 12
    old_key = key.replace(select._source_digest(), "0" * 12)
    old = {"name": "fft", "seconds": {"direct": 9.0, "im2col": 9.0, "fft": 1.0}}
    (tmp_path / "autotune.json").write_text(json.dumps(
        {"format": "fftconv-autotune", "version": 1, "winners": {old_key: old}}))
    monkeypatch.setattr(select, "_autotune_seconds",
                        lambda s, c: {"direct": 1.0, "im2col": 2.0, "fft": 3.0})
    choice = fftconv.choose_backend(s, autotune=True)
    assert choice.name == "direct" and choice.costs["fft"] == 3.0    # measured, not recalled
    winners = json.loads((tmp_path / "autotune.json").read_text())["winners"]
    assert list(winners) == [key]


def test_autotune_and_the_sweep_name_the_fastest_by_one_rule(monkeypatch, tmp_path):
    """Both ask one rule (median_seconds / sample_seconds), with their own rounds and
    time, nothing else."""
    from fftconv import bench
    monkeypatch.setenv("FFTCONV_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(select, "_TUNED", {})
    asked = []

    def fake(calls, repeats, min_seconds=0.0):
        asked.append((sorted(calls), repeats, min_seconds))
        return {name: 1.0 + i for i, name in enumerate(sorted(calls))}
    monkeypatch.setattr(select, "median_seconds", fake)
    # the sweep takes the same rule's runs (sample_seconds) for medians and quartiles
    monkeypatch.setattr(bench, "sample_seconds", lambda calls, repeats, min_seconds=0.0: {
        name: [t] for name, t in fake(calls, repeats, min_seconds).items()})
    monkeypatch.setattr(select, "AUTOTUNE_SECONDS", 0.25)
    monkeypatch.setattr(bench, "SWEEP_SECONDS", 0.5)
    rows = run_sweep([Layer("3x3", 1, 2, 12, 12, 2, 3)], repeats=4, progress=False)
    names = sorted(fftconv.available_backends())
    assert asked == [(names, 4, 0.5), (names, select.AUTOTUNE_REPEATS, 0.25)]
    assert rows[0].fastest == rows[0].tuned == names[0]


def test_autotune_times_one_code_path_once(monkeypatch, tmp_path):
    """On a pointwise layer direct and im2col run one function: it is timed once,
    both get its time, and no near tie between them is timed again."""
    from fftconv import timing
    monkeypatch.setenv("FFTCONV_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(select, "_TUNED", {})
    timed = []
    real_rounds = timing.time_rounds

    def recorded(calls, *args, **kwargs):
        timed.append(sorted(calls))
        return real_rounds(calls, *args, **kwargs)
    monkeypatch.setattr(timing, "time_rounds", recorded)
    choice = fftconv.choose_backend(spec((2, 8, 16, 16), (8, 8, 1, 1)), autotune=True)
    assert timed[0] == ["direct", "fft"]                   # im2col: direct's code
    assert all("im2col" not in names for names in timed)
    assert choice.costs["im2col"] == choice.costs["direct"]


@pytest.mark.parametrize("content, corrupt", [
    ("{broken", True), ('{"format": "other"}', True),
    ('{"format": "fftconv-autotune", "version": 1, "winners": 3}', True),
    ('{"format": "fftconv-autotune", "version": 1, "winners": '
     '{"KEY": {"name": "nonexistent", "seconds": {}}}}', False)])
def test_corrupt_or_stale_autotune_file_never_breaks_a_call(monkeypatch, tmp_path, content,
                                                            corrupt):
    """A corrupt file is ignored with a warning; a stale winner is measured again."""
    monkeypatch.setenv("FFTCONV_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(select, "_TUNED", {})
    s = spec((1, 1, 10, 10), (1, 1, 3, 3))
    (tmp_path / "autotune.json").write_text(content.replace("KEY", select._tune_key(s)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CacheFileWarning)
        choice = fftconv.choose_backend(s, autotune=True)
    assert choice.measured and choice.name in fftconv.available_backends()
    named = [w for w in caught if issubclass(w.category, CacheFileWarning)
             and "autotune.json" in str(w.message)]
    assert bool(named) == corrupt


@pytest.mark.parametrize("content", ["not json", '{"format": "fftconv-cost-model"}',
                                     "STALE", "NEGATIVE"])
def test_bad_calibration_files_fall_back_to_shipped(monkeypatch, tmp_path, content):
    monkeypatch.setenv("FFTCONV_CACHE_DIR", str(tmp_path))
    good = {"format": "fftconv-cost-model", "version": 1, "origin": select._constants.origin(),
            "constants": select.shipped_constants()}
    if content == "STALE":
        good["origin"] = dict(good["origin"], threads=999)
        content = json.dumps(good)
    elif content == "NEGATIVE":
        bad = json.loads(json.dumps(select.shipped_constants()))
        bad["fft"]["float32"]["fft"] = -1.0
        content = json.dumps(dict(good, constants=bad))
    (tmp_path / "cost_model.json").write_text(content)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", CacheFileWarning)
            assert select.load_constants(reload=True) == select.shipped_constants()
        named = [w for w in caught if issubclass(w.category, CacheFileWarning)
                 and "cost_model.json" in str(w.message)]
        assert bool(named) == (content != json.dumps(good))   # stale: silently absent
        assert select.constants_source() == "shipped defaults"
        assert fftconv.choose_backend(spec((1, 1, 10, 10), (1, 1, 3, 3))).name
    finally:
        monkeypatch.delenv("FFTCONV_CACHE_DIR")
        select.load_constants(reload=True)


def test_calibration_fits_known_constants_and_is_used(monkeypatch, tmp_path):
    """On synthetic timings that follow the model exactly, the fit recovers it."""
    monkeypatch.setenv("FFTCONV_CACHE_DIR", str(tmp_path))
    truth = json.loads(json.dumps(select.shipped_constants()))
    truth["im2col"]["float32"]["taps"] = 3 * truth["im2col"]["float32"]["taps"] + 1e-6
    truth["fft"]["float32"]["fft"] *= 2.0           # per-backend constants move freely

    def fake_measure(s, candidates, repeats=3):
        return {n: select.estimate(n, s, truth) for n in candidates}
    monkeypatch.setattr(select, "_measure", fake_measure)
    try:
        constants, report = select.calibrate(dtypes=("float32",), repeats=1)
        assert all(q["max_rel_error"] < 1e-6 for q in report.values())
        assert select.constants_source() == os.path.join(str(tmp_path), "cost_model.json")
        s = spec((2, 16, 32, 32), (16, 16, 3, 3))
        assert select.estimate("im2col", s) == pytest.approx(select.estimate("im2col", s, truth))
    finally:
        monkeypatch.delenv("FFTCONV_CACHE_DIR")
        select.load_constants(reload=True)


def test_save_constants_rejects_malformed_tables(tmp_path, monkeypatch):
    monkeypatch.setenv("FFTCONV_CACHE_DIR", str(tmp_path))
    with pytest.raises(ValueError, match=r"save_constants: parameter 'constants'"):
        select.save_constants({"direct": {}})


def test_sweep_reports_auto_and_autotune(monkeypatch, tmp_path):
    monkeypatch.setenv("FFTCONV_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(select, "_TUNED", {})
    layers = [Layer("a", 1, 2, 12, 12, 2, 3), Layer("b", 1, 1, 20, 20, 1, 9)]
    rows = run_sweep(layers, repeats=1, progress=False)
    assert [set(r.seconds) for r in rows] == [set(fftconv.available_backends())] * 2
    assert all(r.tuned in r.seconds and r.auto in r.seconds for r in rows)
    text = format_sweep(rows)
    assert "auto (cost model) within 1.2x of the fastest:" in text
    summary = sweep_summary(rows)
    assert summary["layers"] == 2 and 0 <= summary["auto_within"] <= 2


def test_sweep_times_one_code_path_once_and_says_so(monkeypatch):
    from fftconv import bench
    timed = []
    real_seconds = bench.sample_seconds
    monkeypatch.setattr(bench, "sample_seconds",
                        lambda calls, *args, **kwargs: timed.append(sorted(calls)) or
                        real_seconds(calls, *args, **kwargs))
    rows = run_sweep([Layer("1x1", 2, 8, 16, 16, 8, 1), Layer("3x3", 2, 8, 16, 16, 8, 3)],
                     repeats=1, autotune_check=False, progress=False)
    assert timed == [["direct", "fft"], ["direct", "fft", "im2col", "winograd"]]
    assert rows[0].seconds["im2col"] == rows[0].seconds["direct"]
    assert rows[0].borrowed == ("im2col", "winograd") and rows[1].borrowed == ()
    table = format_sweep(rows).splitlines()
    assert "=" in table[2] and "=" not in table[3]          # (no '=' in these layer names)


def test_sweep_skips_only_on_request():
    layers = [Layer("big-k", 1, 1, 64, 64, 1, 31)]
    rows = run_sweep(layers, repeats=1, autotune_check=False, max_estimate_ratio=1.0,
                     progress=False)
    applicable = {n for n in fftconv.available_backends()      # Winograd: kernels <= 7
                  if fftconv.get_backend(n).supports(layers[0].spec("float32"))}
    assert set(rows[0].skipped) | set(rows[0].seconds) == applicable
    assert len(rows[0].seconds) == 1 and "skip" in format_sweep(rows)


def test_sweep_table_tells_not_applicable_from_skipped():
    # winograd does not apply at stride 2; at stride 1 it is timed
    layers = [Layer("s1", 1, 2, 8, 8, 2, 3), Layer("s2", 1, 2, 8, 8, 2, 3, stride=2)]
    rows = run_sweep(layers, repeats=1, autotune_check=False, progress=False)
    assert "winograd" in rows[0].seconds and "winograd" not in rows[1].seconds
    assert "winograd" not in rows[1].skipped
    table = format_sweep(rows).splitlines()
    assert "n/a" not in table[2] and table[3].count("n/a") == 1
    assert "'n/a' = does not apply to the layer" in format_sweep(rows)


def test_crossovers_and_figure():
    assert crossovers([1, 3, 5], [1.0, 2.0, 4.0], [4.0, 2.0, 1.0]) == [3.0]
    assert crossovers([1, 3], [1.0, 2.0], [3.0, 4.0]) == []
    rows = [SweepRow(Layer(str(k), 1, 1, 32, 32, 1, k), {"direct": 0.001 * k, "fft": 0.004},
                     "direct" if k < 4 else "fft") for k in (1, 3, 5, 7)]
    fig = crossover_figure([("toy", rows)])
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("kernel size") and len(ax.lines) >= 2
    assert any(t.get_text().startswith("direct→fft") for t in ax.texts)


def test_im2col_features_count_its_copies_per_block_and_none_for_a_pointwise_layer():
    from fftconv.backends import im2col
    small = spec((2, 16, 32, 32), (16, 16, 3, 3))
    big = spec((1, 64, 512, 512), (8, 64, 5, 5))               # 1.6 GB of columns
    # one block: one unfolding copy, one moving the padded rows' product into place
    assert select.features("im2col", small)["taps"] == 2
    blocks = len(im2col._blocks(big))
    assert blocks > 100 and select.features("im2col", big)["taps"] == 2 * blocks
    waste = (507 * 512 + 508) / (508 * 508)           # the padded row width, 512 for 508
    assert select.features("im2col", big)["bytes"] == pytest.approx(
        (2 * 64 * 25 * waste + 8 * (1 + 2 * waste)) * 508 * 508 * 4)
    pointwise = select.features("im2col", spec((2, 16, 32, 32), (8, 16, 1, 1)))
    assert pointwise["taps"] == 0 and pointwise["bytes"] == 2 * 8 * 32 * 32 * 4


class _Priced(fftconv.Backend):
    """A backend whose forward and backward estimates are given numbers."""

    def __init__(self, name, forward, backward):
        self.name, self._f, self._b = name, forward, backward

    def cost(self, s):
        return self._f

    def backward_cost(self, s):
        return self._b

    def forward(self, x, w, s):
        from fftconv.backends.direct import conv2d_reference
        return conv2d_reference(x, w, s)


def test_backward_aware_choice_prices_both_passes_from_a_cost_table():
    """Fast forward, slow backward: chosen for inference, passed over for training;
    the memoized choices of the two are kept apart."""
    registry = {"quickfwd": _Priced("quickfwd", 1.0, 10.0),
                "balanced": _Priced("balanced", 2.0, 3.0)}
    s = spec((1, 2, 8, 8), (2, 2, 3, 3))
    select.forget_choices()
    inference = fftconv.choose_backend(s, registry=registry)
    training = fftconv.choose_backend(s, registry=registry, backward=True)
    assert inference.name == "quickfwd" and inference.costs == {"quickfwd": 1.0, "balanced": 2.0}
    assert training.name == "balanced" and training.costs == {"quickfwd": 11.0, "balanced": 5.0}
    assert training.backward and "forward+backward" in training.reason
    assert fftconv.choose_backend(s, registry=registry).name == "quickfwd"
    with pytest.raises(TypeError, match="backward"):
        fftconv.choose_backend(s, registry=registry, backward="yes")


def test_default_backward_features_are_the_seed_formulas_forwards():
    from fftconv.backends.base import add_features, grad_input_spec, grad_weight_spec
    backend = fftconv.Backend()
    s = spec((2, 3, 9, 9), (4, 3, 3, 3), stride=2, padding=1)
    gi, gw = grad_input_spec(s), grad_weight_spec(s)
    assert (gi.n, gi.c_in, gi.c_out) == (2, 4, 3) and (gw.n, gw.c_in, gw.c_out) == (3, 2, 4)
    assert gw.kernel == s.out_size
    assert backend.backward_features(s) == add_features(backend.features(gi),
                                                        backend.features(gw))
    # the seed formula's dx forward runs exactly on grad_input_spec's geometry
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(s.input_shape), rng.standard_normal(s.weight_shape)
    dy = rng.standard_normal(s.output_shape)
    seen = []
    from fftconv.backends.base import grad_input_via_forward
    from fftconv.backends.direct import conv2d_reference
    dx = grad_input_via_forward(lambda a, b, g: seen.append(g) or conv2d_reference(a, b, g),
                                dy, w, s)
    assert seen == [gi] and dx.shape == s.input_shape


def test_every_registered_backend_prices_its_backward():
    s = spec((4, 16, 14, 14), (16, 16, 3, 3), padding=1)
    for name, backend in fftconv.backends.registered().items():
        if backend.supports(s):
            assert backend.backward_cost(s) > 0
            assert backend.training_cost(s) == pytest.approx(backend.cost(s)
                                                             + backend.backward_cost(s))


def test_training_conv2d_under_auto_takes_the_backward_aware_choice(monkeypatch):
    from fftconv.nn import Conv2d
    layer = Conv2d(2, 3, 3, padding=1, seed=0)
    x = np.ones((1, 2, 6, 6))
    asked = []
    real = select.choose_backend
    monkeypatch.setattr("fftconv.nn.layers.choose_backend",
                        lambda s, **kw: asked.append(kw) or real(s, **kw))
    layer.train()
    layer.forward(x)
    assert asked == [{"backward": True}]
    layer.eval()
    layer.forward(x)
    assert asked == [{"backward": True}]
