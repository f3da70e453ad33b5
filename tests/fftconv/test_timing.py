"""Side-by-side timing: rounds, time budgets and weights that change every call."""

import types

import numpy as np
import pytest

import fftconv
from fftconv import timing
from fftconv.timing import changing_weights, time_rounds


@pytest.fixture
def clock(monkeypatch):
    """A clock that moves only when a timed function says it has run."""
    now = [0.0]
    monkeypatch.setattr(timing, "time", types.SimpleNamespace(perf_counter=lambda: now[0]))

    def costing(seconds):
        def run():
            now[0] += seconds
        return run
    return costing


@pytest.mark.parametrize("settle, min_seconds, rounds", [
    (0, 0.0, 3),        # rounds alone
    (0, 0.1, 3),        # the rounds already fill the budget
    (0, 1.0, 25),       # 0.04 s a round: the 25th reaches 1 s
    (1, 1.0, 13),       # settling runs count too: 0.08 s a round
])
def test_rounds_go_on_until_the_time_budget_is_spent(clock, settle, min_seconds, rounds):
    runs = time_rounds({"fast": clock(0.01), "slow": clock(0.03)}, repeats=3, warmup=2,
                       settle=settle, min_seconds=min_seconds)
    assert {name: len(t) for name, t in runs.items()} == {"fast": rounds, "slow": rounds}
    assert runs["fast"] == pytest.approx([0.01] * rounds)
    assert runs["slow"] == pytest.approx([0.03] * rounds)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"min_seconds": "1"}, TypeError, r"time_rounds: parameter 'min_seconds' must be a number"),
    ({"min_seconds": True}, TypeError, r"time_rounds: parameter 'min_seconds' must be a number"),
    ({"min_seconds": -0.5}, ValueError, r"'min_seconds' must be a finite number >= 0; got -0.5"),
    ({"min_seconds": float("inf")}, ValueError, r"'min_seconds' must be a finite number >= 0"),
    ({"settle": -1}, ValueError, r"time_rounds: parameter 'settle' must be an int >= 0; got -1"),
    ({"settle": 1.5}, TypeError, r"parameter 'settle' must be an int >= 0; got 1.5"),
])
def test_time_rounds_rejects_bad_budgets(kwargs, error, match):
    with pytest.raises(error, match=match):
        time_rounds({"a": lambda: None}, repeats=1, **kwargs)


def test_a_near_tie_runs_more_rounds_over_its_own_time_budget(clock):
    rounds = []
    real = timing.time_rounds

    def recorded(calls, *args, **kwargs):
        runs = real(calls, *args, **kwargs)
        rounds.append({name: len(times) for name, times in runs.items()})
        return runs
    calls = {"a": clock(0.010), "b": clock(0.011), "c": clock(0.030)}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(timing, "time_rounds", recorded)
        seconds = timing.median_seconds(calls, repeats=3, near_tie_seconds=1.0)
    assert seconds == pytest.approx({"a": 0.010, "b": 0.011, "c": 0.030})
    # b is 1.1x a, c 3x: a and b alone go on, 0.042 s a round (settling runs
    # included), until the 24th round passes 1 s
    assert rounds == [{"a": 3, "b": 3, "c": 3}, {"a": 24, "b": 24}]


def test_median_seconds_times_a_near_tie_again_and_pools_the_rounds(monkeypatch):
    per_round = {"direct": [1.0, 1.0], "im2col": [1.1, 0.9], "fft": [3.0, 3.0]}
    seen = []

    def fake_rounds(calls, repeats, warmup=1, settle=0, min_seconds=0):
        seen.append((sorted(calls), repeats, settle, min_seconds))
        return {name: per_round[name][len(seen) - 1:][:1] * repeats for name in calls}
    monkeypatch.setattr(timing, "time_rounds", fake_rounds)
    monkeypatch.setattr(timing, "NEAR_TIE_SECONDS", 1.5)           # budgets told apart
    seconds = timing.median_seconds(dict.fromkeys(per_round), repeats=3, min_seconds=0.25)
    # im2col measured 1.1× the fastest: within NEAR_TIE, so both close ones run
    # 2·3 more rounds, and longer; fft, 3× slower, does not
    assert seen == [(["direct", "fft", "im2col"], 3, 1, 0.25), (["direct", "im2col"], 6, 1, 1.5)]
    assert seconds == {"direct": 1.0, "im2col": 0.9, "fft": 3.0}   # medians of 3 + 6 rounds
    seen.clear()
    timing.median_seconds(dict.fromkeys(per_round), repeats=3, near_tie=1.05)
    assert [names for names, *_ in seen] == [["direct", "fft", "im2col"]]   # no tie at 5 %


@pytest.mark.parametrize("near_tie, error", [(0.9, ValueError), (float("nan"), ValueError),
                                             (float("inf"), ValueError), (True, TypeError),
                                             ("1.1", TypeError)])
def test_median_seconds_rejects_a_bad_near_tie_factor(near_tie, error):
    with pytest.raises(error, match=r"median_seconds: parameter 'near_tie'"):
        timing.median_seconds({"a": lambda: None}, repeats=1, near_tie=near_tie)


@pytest.mark.parametrize("budget", ["min_seconds", "near_tie_seconds"])
@pytest.mark.parametrize("value, error, match", [
    ("1", TypeError, r"must be a number of seconds; got '1'"),
    (True, TypeError, r"must be a number of seconds"),
    (-0.5, ValueError, r"must be a finite number >= 0; got -0.5"),
    (float("inf"), ValueError, r"must be a finite number >= 0"),
])
def test_median_seconds_rejects_bad_time_budgets(budget, value, error, match):
    """Named as its own parameters, before anything is timed (not as time_rounds')."""
    ran = []
    with pytest.raises(error, match=rf"median_seconds: parameter '{budget}' " + match):
        timing.median_seconds({"a": lambda: ran.append(1)}, repeats=1, **{budget: value})
    assert ran == []


def test_changing_weights_never_repeat_the_previous_call():
    """Consecutive weights differ (a cache keyed on exact weights always misses)
    and stay within 0.2 % of ``w``, in its shape and dtype."""
    w = np.random.default_rng(0).standard_normal((2, 2, 9, 9)).astype(np.float32)
    ws = changing_weights(w)
    drawn = [next(ws) for _ in range(7)]
    for previous, current in zip(drawn, drawn[1:]):
        assert current is not previous and not np.array_equal(current, previous)
    for got in drawn:
        assert got.shape == w.shape and got.dtype == w.dtype
        np.testing.assert_allclose(got, w, rtol=2.1e-3)


@pytest.mark.parametrize("bad", [[1.0, 2.0], np.arange(3)])
def test_changing_weights_rejects_what_is_not_a_float_array(bad):
    with pytest.raises(TypeError, match=r"changing_weights: parameter 'w'.*floating-point"):
        changing_weights(bad)
