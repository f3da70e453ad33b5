"""fftconv.torch: the autograd bridge, the drop-in Conv2d and model conversion.

Oracles are PyTorch's own ``torch.nn.functional.conv2d`` / ``torch.nn.Conv2d`` and
``torch.autograd.gradcheck`` (finite differences); shapes are tiny so that the
numerical Jacobians stay cheap.
"""

import copy
import re

import numpy as np
import pytest

import fftconv
from fftconv.testing import assert_conv_close

torch = pytest.importorskip("torch")
ftorch = pytest.importorskip("fftconv.torch")

F = torch.nn.functional
BACKENDS = fftconv.available_backends()


def tiny_geometry(rng):
    """A random geometry small enough for a full numerical Jacobian (x ≤ 2·4·8·8)."""
    groups = int(rng.choice([1, 2]))
    c_in, c_out = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
    kh, kw = (int(v) for v in rng.integers(1, 4, size=2))
    stride = tuple(int(v) for v in rng.integers(1, 3, size=2))
    dilation = tuple(int(v) for v in rng.integers(1, 3, size=2))
    style = int(rng.integers(0, 4))
    if style == 0:
        padding = int(rng.integers(0, 2))
    elif style == 1:
        padding = tuple(int(v) for v in rng.integers(0, 2, size=2))
    elif style == 2:
        padding = "valid"
    else:
        padding, stride = "same", (1, 1)
    pads = [0, 0] if padding in ("valid", "same") else \
        ([padding] * 2 if isinstance(padding, int) else list(padding))
    h = max(1, dilation[0] * (kh - 1) + 1 - 2 * pads[0]) + int(rng.integers(0, 4))
    w = max(1, dilation[1] * (kw - 1) + 1 - 2 * pads[1]) + int(rng.integers(0, 4))
    return dict(x_shape=(int(rng.integers(1, 3)), c_in, h, w),
                w_shape=(c_out, c_in // groups, kh, kw), bias=bool(rng.integers(0, 2)),
                kwargs=dict(stride=stride, padding=padding, dilation=dilation, groups=groups))


#: Seeded geometries, plus fixed ones so every feature appears whatever the seed gives.
GEOMETRIES = [tiny_geometry(np.random.default_rng([25, i])) for i in range(6)] + [
    dict(x_shape=(2, 4, 5, 6), w_shape=(4, 2, 3, 2), bias=True,
         kwargs=dict(stride=(2, 1), padding=1, dilation=(1, 2), groups=2)),
    dict(x_shape=(1, 2, 5, 5), w_shape=(2, 1, 2, 3), bias=False,
         kwargs=dict(stride=1, padding="same", dilation=2, groups=2)),
    # stride 1 and dilation 1: the geometries that specialized backends (Winograd) take
    dict(x_shape=(2, 4, 6, 5), w_shape=(4, 2, 3, 3), bias=True,
         kwargs=dict(stride=1, padding="same", dilation=1, groups=2)),
    dict(x_shape=(1, 3, 5, 6), w_shape=(2, 3, 2, 3), bias=False,
         kwargs=dict(stride=1, padding=(1, 0), dilation=1, groups=1)),
]


def _tensors(g, dtype=torch.float64, seed=0, requires_grad=True):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(g["x_shape"], dtype=dtype, generator=gen).requires_grad_(requires_grad)
    w = torch.randn(g["w_shape"], dtype=dtype, generator=gen).requires_grad_(requires_grad)
    b = torch.randn(g["w_shape"][0], dtype=dtype, generator=gen).requires_grad_(requires_grad)
    return x, w, (b if g["bias"] else None)


def _applies(backend, g, dtype=np.float64):
    spec = fftconv.make_spec("test", g["x_shape"], g["w_shape"], dtype=dtype, **g["kwargs"])
    return fftconv.get_backend(backend).applies(spec)


def _cases():
    """Every (backend, geometry) pair the backend computes; the pairs it refuses (with a
    reason, e.g. Winograd at stride 2) are left out rather than skipped."""
    return [pytest.param(b, i, id=f"{b}-{i}") for b in BACKENDS
            for i in range(len(GEOMETRIES)) if _applies(b, GEOMETRIES[i]) is None]


@pytest.mark.parametrize("backend, index", _cases())
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")
def test_gradcheck_and_torch_agreement_on_every_backend(backend, index):
    g = GEOMETRIES[index]
    x, w, b = _tensors(g)

    def f(x, w, *b):
        return ftorch.conv2d(x, w, *b, backend=backend, **g["kwargs"])

    inputs = (x, w) if b is None else (x, w, b)
    assert torch.autograd.gradcheck(f, inputs)
    y = f(*inputs)
    assert_conv_close(y.detach().numpy(), F.conv2d(x, w, b, **g["kwargs"]).detach().numpy())


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_backend_computes_some_of_the_gradchecked_geometries(backend):
    assert sum(_applies(backend, g) is None for g in GEOMETRIES) >= 2


#: Double-backward geometries: the first one a backend computes is checked.
DOUBLE = [dict(x_shape=(1, 2, 4, 5), w_shape=(2, 1, 2, 2), bias=True,
               kwargs=dict(stride=(2, 1), padding=1, dilation=(1, 2), groups=2)),
          dict(x_shape=(1, 2, 4, 4), w_shape=(2, 1, 3, 2), bias=True,
               kwargs=dict(stride=1, padding=1, dilation=1, groups=2))]


@pytest.mark.parametrize("backend", BACKENDS)
def test_double_backward_is_gradgradchecked(backend):
    g = next((g for g in DOUBLE if _applies(backend, g) is None), None)
    if g is None:
        pytest.skip(f"{backend} computes none of the double-backward geometries")
    x, w, b = _tensors(g)
    # fast mode: random projections of the second-order Jacobian (autograd's own check)
    assert torch.autograd.gradgradcheck(
        lambda x, w, b: ftorch.conv2d(x, w, b, backend=backend, **g["kwargs"]), (x, w, b),
        fast_mode=True)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_float32_stays_float32_and_matches_torch(dtype):
    g = GEOMETRIES[6]
    x, w, b = _tensors(g, dtype=dtype)
    for backend in BACKENDS:
        if _applies(backend, g, np.dtype(str(dtype).split(".")[1])) is not None:
            continue
        y = ftorch.conv2d(x, w, b, backend=backend, **g["kwargs"])
        ref = F.conv2d(x, w, b, **g["kwargs"])
        assert y.dtype == dtype
        assert_conv_close(y.detach().numpy(), ref.detach().numpy())
        dy = torch.randn_like(ref)
        got = torch.autograd.grad(y, (x, w, b), dy)
        want = torch.autograd.grad(ref, (x, w, b), dy)
        for a, d in zip(got, want):
            assert a.dtype == dtype
            assert_conv_close(a.numpy(), d.numpy())


def test_asymmetric_padding_and_unbatched_input():
    x = torch.randn(3, 6, 7, dtype=torch.float64)
    w = torch.randn(2, 3, 3, 3, dtype=torch.float64)
    y = ftorch.conv2d(x, w, padding=((1, 0), (2, 1)))
    ref = F.conv2d(F.pad(x, (2, 1, 1, 0)), w)
    assert y.shape == ref.shape == (2, 5, 8)
    assert_conv_close(y.numpy(), ref.numpy())


def test_strided_and_channels_last_tensors_are_viewed_as_they_are():
    base = torch.randn(2, 3, 6, 8, dtype=torch.float64).to(memory_format=torch.channels_last)
    x = base[:, :, :, 1:].requires_grad_()          # a non-contiguous, channels-last view
    w = torch.randn(4, 3, 3, 3, dtype=torch.float64).transpose(2, 3).requires_grad_()
    for backend in BACKENDS:
        y, ref = ftorch.conv2d(x, w, padding=1, backend=backend), F.conv2d(x, w, padding=1)
        assert_conv_close(y.detach().numpy(), ref.detach().numpy())
        for a, d in zip(torch.autograd.grad(y.sum(), (x, w)),
                        torch.autograd.grad(ref.sum(), (x, w))):
            assert_conv_close(a.numpy(), d.numpy())


def _spy(monkeypatch):
    """Record what the bridge asks of fftconv's numpy layer."""
    from fftconv import api
    calls = []
    forward, backward = api.conv2d, api.conv2d_backward

    def conv2d(*args, **kwargs):
        calls.append(("forward", kwargs.get("return_context", False)))
        return forward(*args, **kwargs)

    def conv2d_backward(*args, **kwargs):
        calls.append(("backward", tuple(kwargs["needs"]), kwargs["context"] is not None))
        return backward(*args, **kwargs)

    monkeypatch.setattr(api, "conv2d", conv2d)
    monkeypatch.setattr(api, "conv2d_backward", conv2d_backward)
    return calls


def test_only_the_needed_gradients_and_the_forward_context(monkeypatch):
    calls = _spy(monkeypatch)
    x = torch.randn(2, 2, 6, 6, dtype=torch.float64)
    w = torch.randn(3, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, dtype=torch.float64, requires_grad=True)
    ftorch.conv2d(x, w, b, backend="fft").sum().backward()
    assert calls == [("forward", True), ("backward", ("weight", "bias"), True)]
    calls.clear()
    w.requires_grad_(False)          # only the bias: nothing to keep for the backward
    ftorch.conv2d(x, w, b, backend="fft").sum().backward()
    assert calls == [("forward", False), ("backward", ("bias",), False)]
    calls.clear()
    with torch.no_grad():            # inference: no node, no context
        y = ftorch.conv2d(x.requires_grad_(), w, b, backend="fft")
    assert y.grad_fn is None and calls == [("forward", False)]


def test_expanded_output_gradients_and_in_place_changes():
    x = torch.randn(1, 2, 5, 5, dtype=torch.float64, requires_grad=True)
    w = torch.randn(2, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    ftorch.conv2d(x, w, backend="fft").sum().backward()   # dy is a stride-0 expansion
    gx, gw = x.grad.clone(), w.grad.clone()
    x.grad = w.grad = None
    F.conv2d(x, w).sum().backward()
    assert_conv_close(gx.numpy(), x.grad.numpy())
    assert_conv_close(gw.numpy(), w.grad.numpy())
    y = ftorch.conv2d(x, w)
    with torch.no_grad():
        w.mul_(2)                     # the saved spectra would now be stale
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_a_backend_named_explicitly_that_does_not_apply_is_refused():
    @fftconv.register_backend
    class NoGroups(fftconv.Backend):
        name = "test-no-groups"

        def applies(self, spec):
            return None if spec.groups == 1 else "groups > 1 are not implemented"

        def forward(self, x, w, spec):
            return fftconv.conv2d(x, w, backend="direct", stride=spec.stride,
                                  padding=spec.padding, dilation=spec.dilation)
    try:
        x, w = torch.randn(1, 2, 4, 4, dtype=torch.float64), torch.randn(2, 1, 3, 3,
                                                                         dtype=torch.float64)
        with pytest.raises(NotImplementedError, match="test-no-groups"):
            ftorch.conv2d(x, w, groups=2, backend="test-no-groups")
    finally:
        fftconv.unregister_backend("test-no-groups")


# -- errors ---------------------------------------------------------------------------

class _ClaimsCuda(torch.Tensor):
    """A CPU tensor whose ``device`` says ``cuda:0``: no CUDA tensor can be made on a
    machine without CUDA, so this tests that the bridge reads the tensor's device and
    what it then says; meta tensors below take the same path for real."""

    @property
    def device(self):
        return torch.device("cuda", 0)


def test_tensors_off_the_cpu_are_refused_with_the_device():
    x, w = torch.randn(1, 1, 4, 4), torch.randn(1, 1, 3, 3)
    with pytest.raises(ValueError, match=r"^fftconv\.torch\.conv2d: parameter 'input' must be "
                                         r"on the CPU: fftconv runs on the CPU; got a tensor "
                                         r"on cuda:0$"):
        ftorch.conv2d(x.as_subclass(_ClaimsCuda), w)
    with pytest.raises(ValueError, match="parameter 'weight' .* got a tensor on meta$"):
        ftorch.conv2d(x, torch.empty(1, 1, 3, 3, device="meta"))
    with pytest.raises(ValueError, match="^conv2d: parameter 'x' .*fftconv runs on the CPU; "
                                         "got a tensor on cuda:0$"):
        fftconv.conv2d(x.as_subclass(_ClaimsCuda), w)      # the numpy layer says it too
    with pytest.raises(ValueError, match="fftconv runs on the CPU; got a tensor on meta"):
        ftorch.Conv2d(1, 1, 3, device="meta")


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.int64,
                                   torch.complex64, torch.bool])
def test_dtypes_other_than_float32_and_float64_are_refused(dtype):
    x = torch.ones(1, 1, 4, 4, dtype=dtype)
    with pytest.raises(TypeError, match=r"^fftconv\.torch\.conv2d: parameter 'input' must be "
                                        r"a tensor of dtype torch\.float32 or torch\.float64 "
                                        r".*; got Tensor of shape \(1, 1, 4, 4\) and dtype "
                                        + str(dtype).replace(".", r"\.") + "$"):
        ftorch.conv2d(x, torch.ones(1, 1, 3, 3, dtype=dtype))


def test_mismatched_dtypes_and_other_bad_arguments():
    x, w = torch.randn(1, 2, 5, 5, dtype=torch.float64), torch.randn(3, 2, 3, 3)
    with pytest.raises(TypeError, match=r"parameter 'weight' must be a tensor of the input's "
                                        r"dtype torch\.float64; got Tensor of shape "
                                        r"\(3, 2, 3, 3\) and dtype torch\.float32$"):
        ftorch.conv2d(x, w)
    w = w.double()
    with pytest.raises(TypeError, match="parameter 'bias' must be a tensor of the input's"):
        ftorch.conv2d(x, w, torch.zeros(3))
    with pytest.raises(ValueError, match=r"parameter 'bias' must be a tensor of shape \(C_out,\)"):
        ftorch.conv2d(x, w, torch.zeros(2, dtype=torch.float64))
    with pytest.raises(TypeError, match="parameter 'input' must be a torch.Tensor; got ndarray"):
        ftorch.conv2d(x.numpy(), w)
    with pytest.raises(ValueError, match="parameter 'input' must be a 4-d tensor"):
        ftorch.conv2d(x[0, 0], w)
    with pytest.raises(ValueError, match="parameter 'input' must be a non-empty tensor"):
        ftorch.conv2d(x[:0], w)
    with pytest.raises(ValueError, match=r"^fftconv\.torch\.conv2d: parameter 'padding'"):
        ftorch.conv2d(x, w, stride=2, padding="same")
    with pytest.raises(ValueError, match=r"^fftconv\.torch\.conv2d: parameter 'groups'"):
        ftorch.conv2d(x, w, groups=3)
    with pytest.raises(ValueError, match="parameter 'backend' must be None or one of 'auto'"):
        ftorch.conv2d(x, w, backend="cudnn")
    with pytest.raises(ValueError, match="parameter 'backend'"):
        ftorch.Conv2d(2, 3, 3, backend="cudnn")
    with pytest.raises(TypeError, match="parameter 'model' must be a torch.nn.Module"):
        ftorch.convert([torch.nn.Conv2d(1, 1, 1)])


# -- the module and the conversion -------------------------------------------------------

@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [(1, 2), "same"])
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")
def test_conv2d_module_matches_torch_in_every_padding_mode(padding_mode, padding):
    torch.manual_seed(0)
    ref = torch.nn.Conv2d(4, 6, (3, 4), padding=padding, dilation=(1, 2), groups=2,
                          padding_mode=padding_mode, dtype=torch.float64)
    ours = ftorch.Conv2d(4, 6, (3, 4), padding=padding, dilation=(1, 2), groups=2,
                         padding_mode=padding_mode, dtype=torch.float64, backend="fft")
    assert ours.load_state_dict(ref.state_dict()) is not None
    assert list(ours.state_dict()) == list(ref.state_dict()) == ["weight", "bias"]
    x = torch.randn(2, 4, 9, 10, dtype=torch.float64, requires_grad=True)
    y, want = ours(x), ref(x)
    assert_conv_close(y.detach().numpy(), want.detach().numpy())
    dy = torch.randn_like(y)
    got = torch.autograd.grad(y, (x, ours.weight, ours.bias), dy)
    exp = torch.autograd.grad(want, (x, ref.weight, ref.bias), dy)
    for a, d in zip(got, exp):
        assert_conv_close(a.numpy(), d.numpy())


class SmallCNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(
            torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(),
            torch.nn.Conv2d(4, 8, 3, stride=2, groups=2, padding_mode="reflect", padding=1),
            torch.nn.Tanh())
        self.head = torch.nn.Sequential(torch.nn.Conv2d(8, 8, 1), torch.nn.Flatten(),
                                        torch.nn.Linear(8 * 4 * 4, 3))

    def forward(self, x):
        return self.head(self.features(x))


def _conv_geometries(model, x):
    """The geometry of each convolution of ``model`` on input ``x`` (forward hooks)."""
    found = []

    def hook(m, args, out):
        pads = m._reversed_padding_repeated_twice if m.padding_mode != "zeros" else None
        shape = tuple(args[0].shape)
        if pads is not None:           # torch's order: pad by the mode, then convolve
            shape = shape[:2] + (shape[2] + pads[2] + pads[3], shape[3] + pads[0] + pads[1])
        found.append(dict(x_shape=shape, w_shape=tuple(m.weight.shape), kwargs=dict(
            stride=m.stride, padding=0 if pads is not None else m.padding,
            dilation=m.dilation, groups=m.groups)))
    hooks = [m.register_forward_hook(hook) for m in model.modules()
             if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return found


def _train(model, x, y, steps=4):
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_converted_cnn_trains_exactly_like_torch(backend):
    torch.manual_seed(0)
    reference = SmallCNN().double()
    model = copy.deepcopy(reference)
    params = list(model.parameters())
    assert ftorch.convert(model, backend=backend) is model
    assert [p is q for p, q in zip(params, model.parameters())] == [True] * len(params)
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 3 and all(type(m) is ftorch.Conv2d and m.backend == backend
                                   for m in convs)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(6, 1, 8, 8, dtype=torch.float64, generator=gen)
    y = torch.randint(0, 3, (6,), generator=gen)
    # a layer the backend does not compute (Winograd: stride 2) runs on 'auto'
    computed = [_applies(backend, g) is None for g in _conv_geometries(reference, x)]
    assert any(computed)
    for conv, ok in zip(convs, computed):
        conv.backend = backend if ok else "auto"
    ours, theirs = _train(model, x, y), _train(reference, x, y)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10)
    assert ours[-1] < ours[0]
    for p, q in zip(model.parameters(), reference.parameters()):
        assert_conv_close(p.detach().numpy(), q.detach().numpy())
    assert ftorch.revert(model) is model
    assert all(type(m) is torch.nn.Conv2d and not hasattr(m, "backend")
               for m in model.modules() if isinstance(m, torch.nn.Conv2d))


def test_convert_checks_everything_before_changing_anything():
    class Custom(torch.nn.Conv2d):         # a user's subclass keeps its own forward
        pass
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3), Custom(1, 1, 3),
                                torch.nn.Conv2d(1, 1, 3).half())
    with pytest.raises(TypeError, match=r"parameter 'model\.2\.weight' must be a tensor of "
                                        r"dtype torch\.float32 or torch\.float64"):
        ftorch.convert(model)
    assert type(model[0]) is torch.nn.Conv2d
    model[2].float()
    ftorch.convert(model, backend=None)
    assert [type(m) for m in model] == [ftorch.Conv2d, Custom, ftorch.Conv2d]
    meta = torch.nn.Conv2d(1, 1, 3, device="meta")
    with pytest.raises(ValueError, match=r"parameter 'model\.weight' must be on the CPU: "
                                         r"fftconv runs on the CPU; got a tensor on meta"):
        ftorch.convert(meta)
    lone = ftorch.convert(torch.nn.Conv2d(1, 1, 3), backend="im2col")
    assert type(lone) is ftorch.Conv2d and "backend='im2col'" in repr(lone)


def test_set_backend_reaches_a_layer_without_a_backend(monkeypatch):
    calls = []
    from fftconv import api
    forward = api.conv2d
    monkeypatch.setattr(api, "conv2d", lambda *a, **k: calls.append(k["backend"])
                        or forward(*a, **k))
    layer = ftorch.Conv2d(1, 1, 3)
    with fftconv.set_backend("im2col"):
        layer(torch.randn(1, 1, 5, 5))
    layer.backend = "fft"
    layer(torch.randn(1, 1, 5, 5))
    assert calls == ["im2col", "fft"]


def test_fftconv_bench_bridge_columns_and_overheads(capsys):
    from fftconv.cli import main
    assert main(["bench", "--layer", "N=1,C=2,H=6,W=6,O=2,K=3,P=1", "--backward",
                 "--repeats", "1", "--backend", "im2col", "--backend", "fft",
                 "--no-peers", "--bridge"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["layer", "pass", "im2col", "im2col+bridge", "fft",
                                           "fft+bridge"]
    lines = [line for line in out.splitlines() if line.startswith("  custom")]
    assert [re.fullmatch(r"  custom: 1x2x6x6 -> 2@3x3 p=1  (\S+): im2col [+-]\d+\.\d %, "
                         r"fft [+-]\d+\.\d %", line)[1] for line in lines] == \
        ["forward", "forward+backward"]
