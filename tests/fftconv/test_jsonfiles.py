"""fftconv's own JSON files: the schema reader, hostile files, concurrent writers.

Every file fftconv reads back (the cost-model constants, the autotune winners,
FFTW wisdom) goes through :mod:`fftconv.jsonfiles`. Whatever bytes are in such a
file, ``conv2d(..., backend='auto')`` still works and gives the right result, a
:class:`~fftconv.jsonfiles.CacheFileWarning` names the file, and the file is
treated as absent.
"""

import json
import multiprocessing
import os
import sys
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import fftconv
from fftconv import constants, fftlib, jsonfiles, select
from fftconv.jsonfiles import CacheFileWarning, JSONFileError, optional, where

# -- the schema validator ------------------------------------------------------------


@pytest.mark.parametrize("schema, good, bad", [
    (str, ["", "a"], [1, None, True, [], {}]),
    (int, [0, -3, 10**40], [1.0, True, "1", None]),
    (float, [0, 1.5, -2, 10**300], [True, "1.0", None, float("nan"), float("inf"), 10**400]),
    (bool, [True, False], [0, 1, "true", None]),
    (None, [None], [0, "", False, []]),
    (dict, [{}, {"a": [1]}], [[], "x", None]),
    (list, [[], [1, "a"]], [{}, "x", None]),
    (object, [None, 1, "x", [], {}], []),
    ("fmt", ["fmt"], ["other", 1, None]),
    (1, [1], [True, 1.0, 2, "1"]),
    (True, [True], [1, False]),
    ((int, None), [None, 3], ["3", 1.5, False]),
    ([str], [[], ["a", "b"]], [["a", 1], "ab", {}]),
    ({str: float}, [{}, {"a": 1.0, "b": 2}], [{"a": "1"}, [], {"a": None}]),
    ({"a": int, optional("b"): str}, [{"a": 1}, {"a": 1, "b": ""}],
     [{}, {"b": ""}, {"a": 1, "c": 2}, {"a": "1"}, {"a": 1, "b": None}]),
    (where(int, lambda n: n > 0, "a positive integer"), [1, 7], [0, -1, "1", True]),
])
def test_validator_accepts_and_rejects(schema, good, bad):
    for value in good:
        assert jsonfiles.validate(value, schema) is value
    for value in bad:
        with pytest.raises(JSONFileError):
            jsonfiles.validate(value, schema)


@pytest.mark.parametrize("value, message", [
    ({"arch": {"num_classes": "ten"}},
     "metadata['arch']['num_classes'] must be a positive integer; got 'ten'"),
    ({"arch": {"num_classes": 10, "extra": 1}},
     "metadata['arch'] has an unknown key 'extra' (known: 'num_classes', 'layers')"),
    ({}, "metadata lacks the key 'arch'"),
    ({"arch": {"num_classes": 10, "layers": [[3, 3], [3, "x"]]}},
     "metadata['arch']['layers'][1][1] must be an integer; got 'x'"),
    ({"arch": {"num_classes": 10}, "seed": 1.5},
     "metadata['seed'] must be an integer or null; got 1.5"),
    ({"arch": {"num_classes": 10}, "history": {"loss": [1.0, float("nan")]}},
     "metadata['history']['loss'][1] must be a finite number; got nan"),
    ({"arch": {"num_classes": 0}}, "metadata['arch']['num_classes'] must be a positive "
                                   "integer; got 0"),
    ({"arch": []}, "metadata['arch'] must be an object; got an array of 0 items"),
])
def test_validator_names_the_key_path(value, message):
    schema = {"arch": {"num_classes": where(int, lambda n: n > 0, "a positive integer"),
                       optional("layers"): [[int]]},
              optional("seed"): (int, None), optional("history"): {str: [float]}}
    with pytest.raises(JSONFileError) as info:
        jsonfiles.validate(value, schema, root="metadata")
    assert str(info.value) == message
    assert info.value.source is None and isinstance(info.value, ValueError)
    assert message.startswith(info.value.key_path) and info.value.problem in message


def test_alternatives_report_the_deepest_problem():
    schema = ({"name": str}, None)
    with pytest.raises(JSONFileError, match=r"^value\['name'\] must be a string; got 3$"):
        jsonfiles.validate({"name": 3}, schema)
    with pytest.raises(JSONFileError, match=r"^value must be an object or null; got 3$"):
        jsonfiles.validate(3, schema)


def test_a_failing_test_of_where_rejects_and_bad_schemas_are_type_errors():
    with pytest.raises(JSONFileError, match="a small thing"):
        jsonfiles.validate("x", where(str, lambda v: v < 0, "a small thing"))
    for schema in (set, [int, str], 1.5, {int: str}.keys()):
        with pytest.raises(TypeError, match="schema"):
            jsonfiles.validate(1, schema)
    with pytest.raises(TypeError, match="callable"):
        where(int, "positive", "text")


def test_long_values_are_described_briefly():
    with pytest.raises(JSONFileError) as info:
        jsonfiles.validate({"a": "x" * 10_000}, {"a": int})
    assert len(str(info.value)) < 120
    with pytest.raises(JSONFileError, match="a very long integer"):
        jsonfiles.validate(10**400, float)


# -- the strict variant ----------------------------------------------------------------


def test_strict_parse_and_load_name_the_source_and_key_path(tmp_path):
    schema = {"format": "fftconv-checkpoint", "architecture": {"classes": int}}
    path = tmp_path / "model.json"
    path.write_text('{"format": "fftconv-checkpoint", "architecture": {"classes": "ten"}}')
    message = f"{path}: metadata['architecture']['classes'] must be an integer; got 'ten'"
    with pytest.raises(ValueError) as info:
        jsonfiles.load(path, schema, root="metadata")
    assert str(info.value) == message
    assert (info.value.source, info.value.key_path) == (str(path),
                                                        "metadata['architecture']['classes']")
    text = path.read_text()
    with pytest.raises(JSONFileError, match=r"^model\.npz: metadata\['architecture'\]"):
        jsonfiles.parse(text, schema, source="model.npz", root="metadata")
    good = '{"format": "fftconv-checkpoint", "architecture": {"classes": 10}}'
    assert jsonfiles.parse(good.encode(), schema, source="x")["architecture"]["classes"] == 10


@pytest.mark.parametrize("data, problem", [
    (b"", "not valid JSON"), (b"{broken", "not valid JSON"),
    (b"\xff\xfe{}", "not UTF-8 text"), ("\ufeff{}".encode(), "Unexpected UTF-8 BOM"),
    (b"[" * 100_000, "nested too deeply"),
    (b"[NaN]", "NaN is not a finite number"), (b"[-Infinity]", "-Infinity is not a finite"),
    (b"[1e400]", "beyond the float range"), (b"[" + b"9" * 5000 + b"]", "digits"),
    (b'{"a": 1, "a": 2}', "the key 'a' appears twice"),
])
def test_strict_parse_refuses_what_is_not_plain_json(data, problem):
    with pytest.raises(JSONFileError) as info:
        jsonfiles.parse(data, object, source="f.json")
    assert str(info.value).startswith("f.json: ") and problem in str(info.value)
    assert info.value.key_path is None


def test_strict_load_special_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        jsonfiles.load(tmp_path / "missing.json", object)
    with pytest.raises(JSONFileError, match="not a regular file"):
        jsonfiles.load(tmp_path, object)
    big = tmp_path / "big.json"
    big.write_text("[" + "0," * 100 + "0]")
    with pytest.raises(JSONFileError, match="larger than 50 bytes"):
        jsonfiles.load(big, object, max_bytes=50)
    assert len(jsonfiles.load(big, [int])) == 101


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")
def test_a_fifo_in_place_of_a_file_does_not_hang(tmp_path):
    fifo = tmp_path / "cost_model.json"
    os.mkfifo(fifo)
    with pytest.raises(JSONFileError, match="not a regular file"):
        jsonfiles.load(fifo, object)


def test_the_error_pickles_for_worker_processes():
    import pickle
    error = JSONFileError("f.json", "value['a']", "must be an integer; got 'x'")
    again = pickle.loads(pickle.dumps(error))
    assert str(again) == str(error) and again.key_path == "value['a']"


def test_write_atomic_validates_and_refuses_nan(tmp_path):
    path = tmp_path / "sub" / "x.json"
    jsonfiles.write_atomic(path, {"a": 1.5}, schema={"a": float})
    assert jsonfiles.load(path, {"a": float}) == {"a": 1.5}
    with pytest.raises(JSONFileError, match=r"value\['a'\] must be a finite number"):
        jsonfiles.write_atomic(path, {"a": "x"}, schema={"a": float})
    with pytest.raises(ValueError):
        jsonfiles.write_atomic(path, {"a": float("nan")})
    assert jsonfiles.load(path, {"a": float}) == {"a": 1.5}           # unchanged
    assert sorted(p.name for p in path.parent.iterdir()) == ["x.json"]  # no temporary left


def test_read_cache_warns_and_returns_none(tmp_path):
    path = tmp_path / "x.json"
    assert jsonfiles.read_cache(path, object) is None                    # missing: silent
    with pytest.warns(CacheFileWarning, match=r"reader: cannot use .*x\.json: No such file"):
        assert jsonfiles.read_cache(path, object, context="reader", missing_ok=False) is None
    path.write_text('{"a": "1"}')
    with pytest.warns(CacheFileWarning, match=r"x\.json: value\['a'\] must be an integer"):
        assert jsonfiles.read_cache(path, {"a": int}) is None
    assert issubclass(CacheFileWarning, UserWarning)
    assert not issubclass(CacheFileWarning, RuntimeWarning)


# -- hostile files in the cache directory -----------------------------------------------

X = np.random.default_rng(0).standard_normal((1, 2, 9, 9)).astype(np.float32)
W = np.random.default_rng(1).standard_normal((3, 2, 3, 3)).astype(np.float32)
EXPECTED = fftconv.conv2d(X.astype(np.float64), W.astype(np.float64), backend="direct")

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=20)


#: JSON values of each kind but null (null is allowed in some places of each file).
_OF_KIND = {"bool": st.booleans(),
            "number": st.integers() | st.floats(allow_nan=False, allow_infinity=False),
            "str": st.text(max_size=10), "list": st.lists(_json_values, max_size=3),
            "dict": st.dictionaries(st.text(max_size=8), _json_values, max_size=3)}


def _kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def _paths(value, path=()):
    """Every path into ``value`` (each a tuple of keys / indices), the root included."""
    yield path
    items = value.items() if isinstance(value, dict) else \
        enumerate(value) if isinstance(value, list) else ()
    for key, sub in items:
        yield from _paths(sub, path + (key,))


def _replaced(value, path, new):
    if not path:
        return new
    out = json.loads(json.dumps(value))
    target = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new
    return out


_SENTINEL = 987654.125


@st.composite
def hostile_contents(draw, valid, float_paths, fixed_key_paths):
    """Bytes that are not a valid file like ``valid``: each draw one kind of damage."""
    how = draw(st.sampled_from(["bytes", "json", "deep", "wrong type", "null", "unknown key",
                                "literal", "truncated"]))
    if how == "bytes":
        data = draw(st.binary(max_size=300))
        return data if data.strip() else b"\x00"
    if how == "json":
        value = draw(_json_values)
        return json.dumps(value).encode()
    if how == "deep":
        depth = draw(st.integers(1_000, 200_000))
        opener = draw(st.sampled_from(["[", '{"a":']))
        closer = "]" if opener == "[" else "}"
        closed = draw(st.booleans())
        return (opener * depth + ("0" + closer * depth if closed else "")).encode()
    if how == "truncated":
        text = json.dumps(valid)
        return text[:draw(st.integers(0, len(text) - 1))].encode()
    paths = list(_paths(valid))
    if how == "wrong type":
        path = draw(st.sampled_from(paths))
        kind = draw(st.sampled_from(sorted(set(_OF_KIND) - {_kind(_get(valid, path))})))
        new = draw(_OF_KIND[kind])
        return json.dumps(_replaced(valid, path, new)).encode()
    if how == "null":
        path = draw(st.sampled_from([p for p in fixed_key_paths]))
        return json.dumps(_replaced(valid, path, None)).encode()
    if how == "unknown key":
        path = draw(st.sampled_from([p[:-1] for p in fixed_key_paths]))
        key = draw(st.text(max_size=8).filter(lambda k: k not in _get(valid, path)))
        target = _get(valid, path)
        return json.dumps(_replaced(valid, path, dict(target, **{key: 0}))).encode()
    # "literal": NaN, Infinity or a number beyond the float range where a number is
    path = draw(st.sampled_from(float_paths))
    literal = draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-2.5e999",
                                    "9" * 400 + ".0", "1" + "0" * 5000]))
    text = json.dumps(_replaced(valid, path, _SENTINEL))
    assert repr(_SENTINEL) in text
    return text.replace(repr(_SENTINEL), literal).encode()


def _get(value, path):
    for key in path:
        value = value[key]
    return value


def _fixed_key_paths(value, schema, path=()):
    """Paths of keys of fixed-key objects whose value may not be null."""
    if isinstance(schema, dict) and not (len(schema) == 1 and next(iter(schema)) is str):
        for key, sub in schema.items():
            if key in value:
                if not (isinstance(sub, tuple) and None in sub):
                    yield path + (str(key),)
                yield from _fixed_key_paths(value[key], sub, path + (str(key),))
    elif isinstance(schema, dict):
        ((_, sub),) = schema.items()
        for key in value:
            yield from _fixed_key_paths(value[key], sub, path + (key,))


def _float_paths(value, path=()):
    """Paths of the numbers in ``value`` that are floats (the seconds and constants)."""
    return [p for p in _paths(value) if isinstance(_get(value, p), float)]


@pytest.fixture
def cache(monkeypatch, tmp_path):
    """A private cache directory for one test; the constants reread at both ends."""
    monkeypatch.setenv("FFTCONV_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(select, "_TUNED", {})
    constants.reload()
    yield tmp_path
    monkeypatch.undo()
    constants.reload()


def _named(caught, filename):
    return [w for w in caught if issubclass(w.category, CacheFileWarning)
            and filename in str(w.message)]


HOSTILE = settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _cost_model_payload():
    report = {"fft/float32": {"median_rel_error": 0.01, "max_rel_error": 0.5}}
    return {"format": "fftconv-cost-model", "version": 1, "origin": constants.origin(),
            "constants": select.shipped_constants(), "report": report}


def test_a_valid_cost_model_file_is_used(cache):
    """The harness itself: the valid payload the hostile ones are made from is read."""
    (cache / "cost_model.json").write_text(json.dumps(_cost_model_payload()))
    constants.reload()
    assert constants.source() == str(cache / "cost_model.json")


@HOSTILE
@given(data=st.data())
@example(data=None)
def test_hostile_cost_model_file_is_absent(cache, data):
    valid = _cost_model_payload()
    if data is None:          # the case of issue 22: one deep file broke every conv2d
        content = b"[" * 100_000
    else:
        content = data.draw(hostile_contents(
            valid, _float_paths(valid),
            list(_fixed_key_paths(valid, constants.COST_MODEL_SCHEMA))))
    (cache / "cost_model.json").write_bytes(content)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CacheFileWarning)
        constants.reload()
        y = fftconv.conv2d(X, W, backend="auto")
    np.testing.assert_allclose(y, EXPECTED, rtol=1e-4, atol=1e-4)
    assert constants.source() == "shipped defaults" and constants.fitted() == {}
    assert _named(caught, "cost_model.json"), content[:80]


def _fake_seconds(calls):
    def seconds(spec, candidates):
        calls.append(spec)
        return {name: 1.0 + i for i, name in enumerate(sorted(candidates))}
    return seconds


def _autotune_payload(cache, monkeypatch):
    """A valid autotune file for the layer of X and W (found by tuning it once)."""
    monkeypatch.setattr(select, "_autotune_seconds", _fake_seconds([]))
    with fftconv.autotune():
        fftconv.conv2d(X, W, backend="auto")
    payload = json.loads((cache / "autotune.json").read_text())
    (key,) = payload["winners"]
    payload["winners"][key]["seconds"] = {n: 0.5 * (i + 1) for i, n in
                                          enumerate(payload["winners"][key]["seconds"])}
    os.remove(cache / "autotune.json")
    select._TUNED.clear()
    return payload


def test_a_valid_autotune_file_is_used(cache, monkeypatch):
    payload = _autotune_payload(cache, monkeypatch)
    (cache / "autotune.json").write_text(json.dumps(payload))
    calls = []
    monkeypatch.setattr(select, "_autotune_seconds", _fake_seconds(calls))
    with fftconv.autotune():
        fftconv.conv2d(X, W, backend="auto")
    assert calls == []                                     # recalled, not measured


@HOSTILE
@given(data=st.data())
def test_hostile_autotune_file_is_absent(cache, monkeypatch, data):
    valid = _autotune_payload(cache, monkeypatch)
    content = data.draw(hostile_contents(valid, _float_paths(valid),
                                         list(_fixed_key_paths(valid, select.AUTOTUNE_SCHEMA))))
    (cache / "autotune.json").write_bytes(content)
    select._TUNED.clear()
    calls = []
    monkeypatch.setattr(select, "_autotune_seconds", _fake_seconds(calls))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CacheFileWarning)
        with fftconv.autotune():
            y = fftconv.conv2d(X, W, backend="auto")
    np.testing.assert_allclose(y, EXPECTED, rtol=1e-4, atol=1e-4)
    assert len(calls) == 1                                 # measured: the file was absent
    assert _named(caught, "autotune.json"), content[:80]
    rewritten = jsonfiles.load(cache / "autotune.json", select.AUTOTUNE_SCHEMA)
    assert len(rewritten["winners"]) == 1                  # replaced by a whole, valid file


needs_pyfftw = pytest.mark.skipif("pyfftw" not in fftlib.available_engines(),
                                  reason="pyFFTW not installed")


@pytest.fixture(scope="module")
def wisdom_payload(tmp_path_factory):
    if "pyfftw" not in fftlib.available_engines():
        pytest.skip("pyFFTW not installed")
    with fftlib.set_fft_engine("pyfftw", threads=1, planner_effort="FFTW_ESTIMATE"):
        fftlib.rfftn(np.ones((12, 12)), axes=(0, 1))
    path = tmp_path_factory.mktemp("wisdom") / "wisdom.json"
    fftlib.export_wisdom(path)
    return json.loads(path.read_text())


@needs_pyfftw
@HOSTILE
@given(data=st.data())
def test_hostile_wisdom_file_is_absent(cache, wisdom_payload, data):
    valid = wisdom_payload
    numbers = [p for p in _paths(valid) if _kind(_get(valid, p)) == "number"]
    content = data.draw(hostile_contents(valid, numbers,
                                         list(_fixed_key_paths(valid, fftlib._WISDOM_SCHEMA))))
    path = cache / "wisdom.json"
    path.write_bytes(content)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CacheFileWarning)
        assert fftlib.import_wisdom(path) is False
        y = fftconv.conv2d(X, W, backend="auto")
    np.testing.assert_allclose(y, EXPECTED, rtol=1e-4, atol=1e-4)
    assert _named(caught, "wisdom.json"), content[:80]


@needs_pyfftw
def test_valid_wisdom_is_used(cache, wisdom_payload):
    path = cache / "wisdom.json"
    path.write_text(json.dumps(wisdom_payload))
    assert fftlib.import_wisdom(path) is True


def test_an_autotune_winner_named_by_a_list_is_no_type_error(cache, monkeypatch):
    """The case of issue 22: ``name`` a list gave 'TypeError: unhashable type'."""
    valid = _autotune_payload(cache, monkeypatch)
    (key,) = valid["winners"]
    valid["winners"][key]["name"] = ["fft"]
    (cache / "autotune.json").write_text(json.dumps(valid))
    monkeypatch.setattr(select, "_autotune_seconds", _fake_seconds([]))
    with pytest.warns(CacheFileWarning, match=r"autotune\['winners'\]\[.*\]\['name'\] "
                                              r"must be a string; got an array of 1 item"):
        with fftconv.autotune():
            fftconv.conv2d(X, W, backend="auto")


# -- clear_autotune with a cache path that is not a directory ---------------------------


def test_clear_autotune_under_a_regular_file_warns_and_clears_memory(monkeypatch, tmp_path):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    monkeypatch.setattr(select, "_TUNED", {"k1": {}, "k2": {}})
    for cache_path, remembered in ((not_a_dir, 2), (not_a_dir / "below", 0)):
        monkeypatch.setenv("FFTCONV_CACHE_DIR", str(cache_path))
        with pytest.warns(CacheFileWarning) as caught:
            assert select.clear_autotune() == remembered      # the winners in memory
        (warning,) = caught
        assert str(warning.message).startswith(f"clear_autotune: the cache path {cache_path} ")
        assert "not a directory" in str(warning.message)
        assert select._TUNED == {}
    monkeypatch.setenv("FFTCONV_CACHE_DIR", str(tmp_path / "missing"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert select.clear_autotune() == 0                   # nothing there: silently


def test_clear_autotune_with_a_directory_in_place_of_the_file_raises(monkeypatch, tmp_path):
    monkeypatch.setenv("FFTCONV_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(select, "_TUNED", {})
    (tmp_path / "autotune.json").mkdir()
    (tmp_path / "autotune.json" / "x").write_text("")
    with pytest.raises(OSError, match=r"clear_autotune: cannot remove the autotune file "
                                      r".*autotune\.json: it is a directory"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CacheFileWarning)   # and it cannot be read
            select.clear_autotune()


# -- concurrent writers -----------------------------------------------------------------

PROCESSES, WRITES = 4, 12


def _write_winners(cache_dir: str, index: int) -> None:
    os.environ["FFTCONV_CACHE_DIR"] = cache_dir
    suffix = f" #{select._source_digest()}"
    for j in range(WRITES):
        select._remember(f"p{index} w{j}{suffix}",
                         {"name": "direct", "seconds": {"direct": float(index * 100 + j)}})


def test_concurrent_autotune_writers_lose_no_winner(tmp_path):
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods and
                                          sys.platform != "darwin" else "spawn")
    workers = [context.Process(target=_write_winners, args=(str(tmp_path), i))
               for i in range(PROCESSES)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert [w.exitcode for w in workers] == [0] * PROCESSES
    payload = jsonfiles.load(tmp_path / "autotune.json", select.AUTOTUNE_SCHEMA)
    suffix = f" #{select._source_digest()}"
    expected = {f"p{i} w{j}{suffix}": {"name": "direct",
                                       "seconds": {"direct": float(i * 100 + j)}}
                for i in range(PROCESSES) for j in range(WRITES)}
    assert payload["winners"] == expected
    leftovers = sorted(p.name for p in tmp_path.iterdir())
    assert leftovers == ["autotune.json", "autotune.json.lock"] or \
        leftovers == ["autotune.json"]                         # no temporary file left


def test_locked_degrades_without_fcntl(monkeypatch, tmp_path):
    monkeypatch.setattr(jsonfiles, "fcntl", None)
    with jsonfiles.locked(tmp_path / "x.json") as held:
        assert held is False
    jsonfiles.update(tmp_path / "x.json", {str: int}, lambda old: {"a": 1})
    assert jsonfiles.load(tmp_path / "x.json", {str: int}) == {"a": 1}
