"""The engine's shape: self-describing backends, no import cycles, explicit state."""

import ast
import pathlib

import numpy as np
import pytest

import fftconv
from fftconv import select
from fftconv.backends.direct import conv2d_reference
from fftconv.testing import assert_conv_close

PACKAGE = pathlib.Path(fftconv.__file__).parent


class _Plain(fftconv.Backend):
    """A user's backend: a name and a forward, nothing else."""

    name = "plain"

    def forward(self, x, w, spec):
        return conv2d_reference(x, w, spec)


class _OwnFeatures(fftconv.Backend):
    """A user's backend with cost features no constants exist for."""

    name = "own-features"

    def applies(self, spec):
        return None if spec.groups == 1 else "groups > 1 are not implemented"

    def features(self, spec):
        return {"butterflies": 1.0e6, "call": 1.0}

    def forward(self, x, w, spec):
        return conv2d_reference(x, w, spec)


@pytest.fixture
def user_backends():
    for cls in (_Plain, _OwnFeatures):
        fftconv.register_backend(cls)
    yield
    for cls in (_Plain, _OwnFeatures):
        fftconv.unregister_backend(cls.name)


def test_a_registered_backend_runs_by_name_and_under_auto(user_backends):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 9, 9)), rng.standard_normal((4, 3, 3, 3))
    dy = rng.standard_normal((2, 4, 7, 7))
    for name in ("plain", "own-features"):
        assert_conv_close(fftconv.conv2d(x, w, backend=name),
                          fftconv.conv2d(x, w, backend="direct"))
        for got, want in zip(fftconv.conv2d_backward(dy, x, w, backend=name),
                             fftconv.conv2d_backward(dy, x, w, backend="direct")):
            assert_conv_close(got, want)
    spec = fftconv.make_spec("t", x.shape, w.shape)
    choice = fftconv.choose_backend(spec)           # priced by the default cost
    assert {"plain", "own-features"} <= set(choice.costs)
    expected = 1e-9 * spec.macs + 1e-4               # DEFAULT_CONSTANTS on the defaults
    assert choice.costs["plain"] == pytest.approx(expected)
    assert choice.costs["own-features"] == pytest.approx(expected)
    grouped = fftconv.make_spec("t", (1, 4, 8, 8), (4, 2, 3, 3), groups=2)
    skipped = fftconv.choose_backend(grouped).skipped
    assert skipped == {"own-features": "groups > 1 are not implemented"}
    with pytest.raises(NotImplementedError, match="groups > 1 are not implemented"):
        fftconv.conv2d(np.ones((1, 4, 8, 8)), np.ones((4, 2, 3, 3)), groups=2,
                       backend="own-features")


def test_auto_prefers_a_cheap_user_backend_and_survives_a_broken_cost(user_backends):
    spec = fftconv.make_spec("t", (1, 1, 8, 8), (1, 1, 3, 3))
    fftconv.get_backend("plain").cost = lambda s: 0.0
    try:
        assert fftconv.choose_backend(spec).name == "plain"
        fftconv.get_backend("plain").cost = lambda s: 1 / 0
        select.forget_choices()
        with pytest.warns(RuntimeWarning, match="backend 'plain' left out of 'auto'"):
            choice = fftconv.choose_backend(spec)
        assert choice.name != "plain" and "ZeroDivisionError" in choice.skipped["plain"]
    finally:
        del fftconv.get_backend("plain").cost


def test_auto_memoizes_per_geometry_and_constants(monkeypatch):
    spec = fftconv.make_spec("t", (2, 4, 16, 16), (4, 4, 3, 3))
    calls = []
    backend = fftconv.get_backend("im2col")
    real = backend.cost
    monkeypatch.setattr(backend, "cost", lambda s: calls.append(s) or real(s))
    select.forget_choices()
    first = fftconv.choose_backend(spec)
    assert fftconv.choose_backend(spec) is first and len(calls) == 1
    select.load_constants(reload=True)                    # new constants: estimate again
    assert fftconv.choose_backend(spec) == first and len(calls) == 2


@pytest.mark.parametrize("cls, match", [(int, "a subclass of fftconv.Backend"),
                                        (type("Auto", (fftconv.Backend,), {"name": "auto"}),
                                         "other than 'auto'")])
def test_register_backend_rejects_bad_classes(cls, match):
    with pytest.raises((TypeError, ValueError), match=r"register_backend: parameter 'cls"):
        fftconv.register_backend(cls)
    with pytest.raises((TypeError, ValueError), match=match):
        fftconv.register_backend(cls)


def _imports(path: pathlib.Path) -> set:
    """Every fftconv module ``path`` imports, at module level or inside functions."""
    module = ".".join(("fftconv",) + path.relative_to(PACKAGE).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    if module.endswith(".__init__"):
        module = package = module[:-len(".__init__")]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            base = f"{base}.{node.module}" if node.level and node.module else (
                base if node.level else node.module)
            modules = set(_modules())
            for alias in node.names:       # a submodule, else a name of the module
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules
                          else base)
    modules = set(_modules())
    return {name for name in found if name in modules and name != module}


def _modules() -> dict:
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(("fftconv",) + parts)] = path
    return names


def test_no_import_cycle_inside_fftconv_lazy_imports_included():
    """The module graph (a package's ``__init__`` importing its submodules
    included, a submodule's implicit import of its parent package not) is acyclic."""
    graph = {name: _imports(path) for name, path in _modules().items()}
    state, stack = {}, []

    def visit(name):
        state[name] = "open"
        stack.append(name)
        for target in sorted(graph[name]):
            if state.get(target) == "open":
                cycle = stack[stack.index(target):] + [target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name)
    assert "fftconv.select" not in set().union(
        *(graph[n] for n in graph if n.startswith("fftconv.backends")))


def test_context_round_trip_and_its_checks():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 3, 12, 12)), rng.standard_normal((4, 3, 3, 3))
    y, ctx = fftconv.conv2d(x, w, padding=1, backend="direct", return_context=True)
    assert isinstance(ctx, fftconv.ConvContext) and ctx.backend == "direct"
    assert_conv_close(y, fftconv.conv2d(x, w, padding=1))
    dy = rng.standard_normal(y.shape)
    for got, want in zip(fftconv.conv2d_backward(dy, x, w, padding=1, context=ctx),
                         fftconv.conv2d_backward(dy, x, w, padding=1, backend="direct")):
        assert_conv_close(got, want)
    with pytest.raises(ValueError, match=r"conv2d_backward: parameter 'context'.*geometry"):
        fftconv.conv2d_backward(rng.standard_normal((2, 4, 10, 10)), x, w, context=ctx)
    with pytest.raises(ValueError, match=r"conv2d_backward: parameter 'backend'.*'direct'"):
        fftconv.conv2d_backward(dy, x, w, padding=1, backend="fft", context=ctx)
    with pytest.raises(TypeError, match=r"conv2d_backward: parameter 'context'.*ConvContext"):
        fftconv.conv2d_backward(dy, x, w, padding=1, context={"spec": None})
    with pytest.raises(TypeError, match=r"conv2d: parameter 'return_context'.*bool"):
        fftconv.conv2d(x, w, return_context="yes")


def test_the_trainer_passes_the_forward_context_to_the_backward():
    from fftconv import nn
    rng = np.random.default_rng(2)
    layer = nn.Conv2d(3, 4, 3, backend="fft")
    x = rng.standard_normal((2, 3, 10, 10))
    y = layer.forward(x)
    assert layer._context is not None and layer._context.backend == "fft"
    dy = rng.standard_normal(y.shape)
    dx = layer.backward(dy)
    want_dx, want_dw, _ = fftconv.conv2d_backward(dy, x, layer.weight.data, backend="direct")
    assert_conv_close(dx, want_dx)
    assert_conv_close(layer.weight.grad, want_dw)
    layer.eval()
    layer.forward(x)
    assert layer._context is None                       # inference keeps nothing
