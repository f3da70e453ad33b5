"""Output sizes, tiling, receptive fields and layer / network costs."""

import numpy as np
import pytest
import scipy.fft
from hypothesis import given, settings, strategies as st

import fftconv
from analysis.complexity import (FIT_MODES, fit_padding, layer_cost, network_cost, output_shape,
                                 receptive_field)
from analysis.conv_matrix import conv_matrix
from fftconv import nn
from fftconv.backends.im2col import im2col
from fftconv.testing import assert_conv_close, random_geometry

N_GEOMETRIES = 40
SEED = 20260801


def geometry(index):
    return random_geometry(np.random.default_rng([SEED, index]), max_extra=5)


def kwargs_of(g):
    return {k: g[k] for k in ("stride", "padding", "dilation", "groups")}


# -- output_shape / fit_padding -------------------------------------------------

small = st.integers(1, 3)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(h=st.integers(1, 14), w=st.integers(1, 14), kh=st.integers(1, 5), kw=st.integers(1, 5),
       stride=st.tuples(st.integers(1, 4), st.integers(1, 4)), dilation=st.tuples(small, small),
       pads=st.tuples(st.tuples(st.integers(0, 3), st.integers(0, 3)),
                      st.tuples(st.integers(0, 3), st.integers(0, 3))))
def test_fit_modes_agree_with_conv2d(h, w, kh, kw, stride, dilation, pads):
    """'floor' is conv2d's shape; 'exact' raises exactly when the last window does not end
    on the last padded row/column; 'pad' is conv2d's shape with the fitted padding, which
    adds fewer than ``stride`` zeros at the bottom/right and then tiles."""
    x_shape, w_shape = (1, 2, h, w), (3, 2, kh, kw)
    kwargs = dict(stride=stride, padding=pads, dilation=dilation)
    spans = [d * (k - 1) + 1 for d, k in zip(dilation, (kh, kw))]
    padded = [size + sum(p) for size, p in zip((h, w), pads)]
    if any(span > size for span, size in zip(spans, padded)):
        with pytest.raises(ValueError, match="fits the padded input"):
            output_shape(x_shape, w_shape, fit="floor", **kwargs)
        return
    y = fftconv.conv2d(np.zeros(x_shape), np.zeros(w_shape), **kwargs)
    assert output_shape(x_shape, w_shape, fit="floor", **kwargs) == y.shape
    # The last window [(O-1)·S, (O-1)·S + span) ends on the last padded row iff it tiles.
    tiles = all((o - 1) * s + span == size
                for o, s, span, size in zip(y.shape[2:], stride, spans, padded))
    if tiles:
        assert output_shape(x_shape, w_shape, **kwargs) == y.shape
    else:
        with pytest.raises(ValueError, match=r"parameter 'padding' must be a padding with "
                                             r"which the windows tile"):
            output_shape(x_shape, w_shape, fit="exact", **kwargs)
    fitted = fit_padding(x_shape, w_shape, **kwargs)
    assert fitted[0][0] == pads[0][0] and fitted[1][0] == pads[1][0]
    extra = (fitted[0][1] - pads[0][1], fitted[1][1] - pads[1][1])
    assert all(0 <= e < s for e, s in zip(extra, stride))
    assert (extra == (0, 0)) == tiles
    fitted_kwargs = dict(kwargs, padding=fitted)
    y_fit = fftconv.conv2d(np.zeros(x_shape), np.zeros(w_shape), **fitted_kwargs)
    assert output_shape(x_shape, w_shape, fit="pad", **kwargs) == y_fit.shape
    assert output_shape(x_shape, w_shape, fit="exact", **fitted_kwargs) == y_fit.shape
    for axis, e in enumerate(extra):      # and no smaller padding would do
        if e:
            fewer = [list(p) for p in fitted]
            fewer[axis][1] -= 1
            with pytest.raises(ValueError, match="tile"):
                output_shape(x_shape, w_shape, fit="exact", **dict(kwargs, padding=fewer))


def test_cs231n_examples():
    # 7x7 input, 3x3 filter: 5x5 at stride 1, 3x3 at stride 2.
    assert output_shape((1, 3, 7, 7), (2, 3, 3, 3)) == (1, 2, 5, 5)
    assert output_shape((1, 3, 7, 7), (2, 3, 3, 3), stride=2) == (1, 2, 3, 3)
    # W=5, F=3, P=1: S=1 gives 5, S=2 gives 3, S=3 "cannot be used" (4/3 is not whole).
    assert output_shape((1, 1, 5, 5), (1, 1, 3, 3), padding=1) == (1, 1, 5, 5)
    assert output_shape((1, 1, 5, 5), (1, 1, 3, 3), padding=1, stride=2) == (1, 1, 3, 3)
    with pytest.raises(ValueError, match=r"\(5 \+ 2 - 3\)/3 \+ 1 = 2\.33333"):
        output_shape((1, 1, 5, 5), (1, 1, 3, 3), padding=1, stride=3)
    # W=10, F=3, P=0, S=2 does not tile; a symmetric padding never can, one more row does.
    with pytest.raises(ValueError, match=r"\(10 \+ 0 - 3\)/2 \+ 1 = 4\.5.*"
                                         r"padding=\(\(0, 1\), \(0, 1\)\) fits"):
        output_shape((1, 1, 10, 10), (1, 1, 3, 3), stride=2)
    assert fit_padding((1, 1, 10, 10), (1, 1, 3, 3), stride=2) == ((0, 1), (0, 1))
    # AlexNet: 227 tiles with F=11, S=4 (55 outputs); the paper's 224 does not.
    assert output_shape((1, 3, 227, 227), (96, 3, 11, 11), stride=4) == (1, 96, 55, 55)
    with pytest.raises(ValueError, match=r"\(224 \+ 0 - 11\)/4 \+ 1 = 54\.25"):
        output_shape((1, 3, 224, 224), (96, 3, 11, 11), stride=4)
    # Only the axis that does not tile is named.
    with pytest.raises(ValueError, match=r"but \(W \+ P - span\)") as info:
        output_shape((1, 1, 9, 10), (1, 1, 3, 3), stride=2)
    assert "(H + P" not in str(info.value)


@pytest.mark.parametrize("call, exc, pattern", [
    (lambda: output_shape((1, 3, 8), (2, 3, 3, 3)), ValueError,
     r"output_shape: parameter 'input_shape' must be a tuple of 4 positive ints "
     r"\(N, C_in, H, W\); got \(1, 3, 8\)"),
    (lambda: output_shape((1, 3, 8, 0), (2, 3, 3, 3)), ValueError,
     r"parameter 'input_shape'.*got \(1, 3, 8, 0\)"),
    (lambda: output_shape("1x3x8x8", (2, 3, 3, 3)), TypeError,
     r"parameter 'input_shape' must be a tuple of 4 positive ints"),
    (lambda: output_shape((1, 3, 8, 8), (2, 3, 3, 3.0)), TypeError,
     r"parameter 'weight_shape' must be a tuple of 4 positive ints"),
    (lambda: output_shape((1, 3, 8, 8), (2, 3, 9, 3)), ValueError,
     r"output_shape: parameter 'w' must be a kernel whose dilated size \(9, 3\) fits"),
    (lambda: output_shape((1, 3, 8, 8), (2, 3, 3, 3), stride=0), ValueError,
     r"output_shape: parameter 'stride'"),
    (lambda: output_shape((1, 3, 8, 8), (2, 3, 3, 3), fit="ceil"), ValueError,
     r"output_shape: parameter 'fit' must be one of 'exact', 'floor', 'pad'; got 'ceil'"),
    (lambda: output_shape((1, 3, 8, 8), (2, 3, 3, 3), fit=True), TypeError,
     r"parameter 'fit' must be one of"),
    (lambda: fit_padding((1, 3, 8, 8), (2, 1, 3, 3)), ValueError,
     r"fit_padding: parameter 'w' must be of shape \(C_out, C_in/groups=3"),
])
def test_geometry_errors(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


def test_fit_modes_constant():
    assert FIT_MODES == ("exact", "floor", "pad")


# -- receptive fields -----------------------------------------------------------

def input_support(cost, unit):
    """Input pixels that output ``unit = (i, j)`` of the last layer depends on.

    Back-propagates a one-hot gradient through every layer's window geometry with
    all-ones kernels: positive weights cannot cancel, so the nonzero input gradient
    is exactly the set of input pixels the unit reads.
    """
    layers = [row for row in cost.rows if row.kind != "input"]
    dy = np.zeros(layers[-1].output_shape[:1] + (1,) + layers[-1].output_shape[2:])
    dy[(0, 0) + unit] = 1.0
    for row in reversed(layers):
        spec = row.spec
        x = np.zeros((1, 1, spec.h, spec.w))
        w = np.ones((1, 1, spec.kh, spec.kw))
        dy = fftconv.conv2d_backward(dy, x, w, stride=spec.stride, padding=spec.padding,
                                     dilation=spec.dilation, needs="input",
                                     backend="direct")[0]   # exact: no FFT roundoff
    return dy[0, 0] > 0


def random_stack(rng):
    """Random conv (padded, strided, dilated) and pooling layers (nn pools have no padding)."""
    layers = []
    for _ in range(int(rng.integers(1, 4))):
        kernel = tuple(int(k) for k in rng.integers(1, 5, size=2))
        stride = tuple(int(s) for s in rng.integers(1, 3, size=2))
        padding = tuple(int(p) for p in rng.integers(0, 3, size=2))
        if rng.random() < 0.3:
            layers.append(nn.MaxPool2d(kernel, stride=stride))
        else:
            dilation = tuple(int(d) for d in rng.integers(1, 4, size=2))
            layers.append(nn.Conv2d(1, 1, kernel, stride=stride, padding=padding,
                                    dilation=dilation, allocate=False))
    return layers


@pytest.mark.parametrize("index", range(30))
def test_receptive_field_is_the_support_of_each_unit(index):
    """A unit depends only on input pixels inside its region, and when the region lies
    inside the image its first and last rows and columns are read (so the region is the
    bounding box of the support, whatever the dilation, stride and padding)."""
    rng = np.random.default_rng([SEED, 1, index])
    layers = random_stack(rng)
    shape = (1, int(rng.integers(24, 40)), int(rng.integers(24, 40)))
    cost = network_cost(layers, shape, fit="floor")
    field = receptive_field(layers, shape, fit="floor")[-1]
    _, _, oh, ow = cost.rows[-1].output_shape
    interior = 0
    for unit in {(0, 0), (oh - 1, ow - 1), (oh // 2, ow // 2), (0, ow - 1)}:
        support = input_support(cost, unit)
        (r0, r1), (c0, c1) = field.window(*unit)
        region = np.zeros(shape[1:], bool)
        region[max(r0, 0):r1 + 1, max(c0, 0):c1 + 1] = True
        assert not (support & ~region).any()
        if r0 >= 0 and c0 >= 0 and r1 < shape[1] and c1 < shape[2]:
            rows, cols = np.nonzero(support)
            assert (rows.min(), rows.max(), cols.min(), cols.max()) == (r0, r1, c0, c1)
            interior += 1
    assert interior


def test_receptive_field_of_stacked_3x3_is_cs231n_7x7():
    """Seed 003: three stacked 3x3 convolutions see 5x5 after two and 7x7 after three."""
    fields = receptive_field([nn.Conv2d(8, 8, 3, padding=1, allocate=False) for _ in range(3)],
                             input_shape=(8, 32, 32))
    assert [f.size for f in fields] == [(3, 3), (5, 5), (7, 7)]
    assert all(f.jump == (1, 1) for f in fields)
    assert [f.start for f in fields] == [(-1, -1), (-2, -2), (-3, -3)]
    assert fields[-1].center == (0.0, 0.0)


def test_dilated_receptive_field_grows_exponentially():
    """Yu & Koltun: 3x3 layers with dilation 1, 2, 4 see 3, 7, 15 pixels."""
    layers = [nn.Conv2d(1, 1, 3, dilation=d, padding=d) for d in (1, 2, 4)]
    assert [f.size for f in receptive_field(layers, (1, 32, 32))] == [(3, 3), (7, 7), (15, 15)]


def test_receptive_field_of_fc_layer_is_its_whole_input():
    net = [nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(100, 10)]
    fields = receptive_field(net, (1, 12, 12))
    assert fields[-1].size == (12, 12) and fields[-1].name == "fc1"
    assert [f.name for f in fields] == ["conv1", "pool1", "fc1"]
    # A second FC layer sees no more; the model's own names and input_shape are used.
    model = nn.Sequential({"c": nn.Conv2d(1, 4, 3), "flat": nn.Flatten(),
                           "f1": nn.Linear(400, 8), "f2": nn.Linear(8, 2)}, input_shape=(1, 12, 12))
    assert [(f.name, f.size) for f in receptive_field(model)] == [
        ("c", (3, 3)), ("f1", (12, 12)), ("f2", (12, 12))]


def test_receptive_field_errors():
    with pytest.raises(ValueError, match=r"receptive_field: parameter 'input_shape' must be "
                                         r"a \(C, H, W\) or \(F,\) tuple of positive ints "
                                         r"\(the model has no input_shape\)"):
        receptive_field([nn.Conv2d(1, 1, 3)])
    with pytest.raises(ValueError, match=r"receptive_field \(conv1\): parameter 'padding' "
                                         r"must be a padding with which"):
        receptive_field([nn.Conv2d(1, 1, 3, stride=2)], (1, 10, 10))
    with pytest.raises(TypeError, match=r"receptive_field: parameter 'model' must be an "
                                        r"fftconv.nn model .*; got 'conv'"):
        receptive_field(["conv"], (1, 10, 10))


# -- layer_cost -----------------------------------------------------------------

@pytest.mark.parametrize("index", range(N_GEOMETRIES))
def test_layer_cost_counts_match_the_matrix_and_im2col(index):
    """MACs = nonzeros of the conv matrix (when no tap lands on padding); connections add
    one bias edge per output; im2col's bytes are those of the backend's column matrix."""
    g = geometry(index)
    rng = np.random.default_rng([SEED, 2, index])
    padded = fftconv.make_spec("test", g["x_shape"], g["w_shape"], **kwargs_of(g))
    spec = fftconv.make_spec("test", (padded.n, padded.c_in, padded.padded_h, padded.padded_w),
                             g["w_shape"], stride=padded.stride, dilation=padded.dilation,
                             groups=padded.groups, dtype=np.float32)
    w = rng.uniform(0.5, 1.5, g["w_shape"])
    table = rng.random((spec.c_out, spec.c_in_per_group)) < 0.6
    for mask in (None, table):
        wm = w if mask is None else w * mask[:, :, None, None]
        a = conv_matrix(spec.input_shape, wm, stride=spec.stride, dilation=spec.dilation,
                        groups=spec.groups, sparse=True)
        cost = layer_cost(spec, table=mask)
        assert cost.macs == np.count_nonzero(a.data)
        assert cost.weights == np.count_nonzero(wm)
        assert cost.flops == 2 * cost.macs
        assert cost.connections == cost.macs + cost.activations
        assert cost.activations == np.prod(spec.output_shape)
        assert cost.activation_bytes == 4 * cost.activations
    assert layer_cost(spec).macs == spec.macs
    assert layer_cost(spec, bias=False).params == w.size
    assert layer_cost(spec, bias=False).connections == spec.macs
    xp = np.zeros((spec.n, spec.c_in, spec.padded_h, spec.padded_w), np.float32)
    assert layer_cost(spec).im2col_bytes == im2col(xp, spec).nbytes


@pytest.mark.parametrize("index", range(N_GEOMETRIES))
def test_fft_spectra_size_suffices_for_the_convolution_theorem(index):
    """At the transform size layer_cost assumes, the product of the spectra (summed over
    input channels) reproduces conv2d, and the spectra take exactly fft_bytes."""
    g = geometry(index)
    rng = np.random.default_rng([SEED, 3, index])
    spec = fftconv.make_spec("test", g["x_shape"], g["w_shape"], **kwargs_of(g))
    x, w = rng.standard_normal(spec.input_shape), rng.standard_normal(spec.weight_shape)
    pad = ((0, 0), (0, 0)) + spec.padding
    xp = np.pad(x, pad)
    dilated = np.zeros(spec.weight_shape[:2] + (spec.span_h, spec.span_w))
    dilated[:, :, ::spec.dilation[0], ::spec.dilation[1]] = w
    s = (scipy.fft.next_fast_len(spec.padded_h, real=True),
         scipy.fft.next_fast_len(spec.padded_w, real=True))
    xf = scipy.fft.rfft2(xp, s=s)
    wf = scipy.fft.rfft2(dilated, s=s)
    g_, cg, og = spec.groups, spec.c_in_per_group, spec.c_out_per_group
    xg = xf.reshape(spec.n, g_, cg, *xf.shape[2:])
    wg = wf.reshape(g_, og, cg, *wf.shape[2:])
    # Correlation = convolution with the conjugate spectrum of the kernel.
    yf = np.einsum("ngcuv,gocuv->ngouv", xg, np.conj(wg)).reshape(spec.n, spec.c_out,
                                                                  *xf.shape[2:])
    y = scipy.fft.irfft2(yf, s=s)
    y = y[:, :, :(spec.out_h - 1) * spec.stride[0] + 1:spec.stride[0],
          :(spec.out_w - 1) * spec.stride[1] + 1:spec.stride[1]]
    assert_conv_close(y, fftconv.conv2d(x, w, backend="direct", **kwargs_of(g)))
    assert layer_cost(spec).fft_bytes == xf.nbytes + wf.nbytes + yf.nbytes


def test_layer_cost_of_an_nn_layer_is_that_of_its_spec():
    table = nn.lenet5_connection_table()
    for layer, x_shape in [(nn.Conv2d(6, 16, 5, connections=table, allocate=False), (2, 6, 14, 14)),
                           (nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2, bias=False,
                                      dtype="float64", allocate=False), (1, 4, 9, 9))]:
        spec = layer.conv_spec(x_shape)
        mask = None if layer.mask is None else layer.mask[:, :, 0, 0] != 0
        assert layer_cost(layer, input_shape=x_shape, name="c") == \
            layer_cost(spec, bias=layer.bias is not None, table=mask, name="c")
    c3 = layer_cost(nn.Conv2d(6, 16, 5, connections=table), input_shape=(1, 6, 14, 14))
    assert c3.params == 1_516 and c3.connections == 151_600


def test_layer_cost_errors():
    spec = fftconv.make_spec("test", (1, 4, 8, 8), (6, 2, 3, 3), groups=2)
    with pytest.raises(TypeError, match=r"layer_cost: parameter 'spec' must be an "
                                        r"fftconv.ConvSpec"):
        layer_cost((1, 4, 8, 8))
    with pytest.raises(ValueError, match=r"layer_cost: parameter 'table' must be an array of "
                                         r"bools of shape \(C_out, C_in/groups\) = \(6, 2\)"):
        layer_cost(spec, table=np.ones((6, 4), bool))
    with pytest.raises(ValueError, match=r"parameter 'table'"):
        layer_cost(spec, table=np.ones((6, 2)))
    with pytest.raises(TypeError, match=r"layer_cost: parameter 'bias' must be a bool"):
        layer_cost(spec, bias=1)
    conv = nn.Conv2d(4, 6, 3, allocate=False)
    with pytest.raises(ValueError, match=r"layer_cost: parameter 'input_shape' must be an "
                                         r"\(N, C_in, H, W\) tuple when spec is an "
                                         r"fftconv.nn.Conv2d; got None"):
        layer_cost(conv)
    with pytest.raises(ValueError, match=r"layer_cost: parameter 'table' must be None when spec "
                                         r"is an fftconv.nn.Conv2d \(the layer has its own\)"):
        layer_cost(conv, table=np.ones((6, 4), bool), input_shape=(1, 4, 8, 8))
    with pytest.raises(ValueError, match=r"layer_cost: parameter 'bias' must be None when spec"):
        layer_cost(conv, bias=False, input_shape=(1, 4, 8, 8))
    with pytest.raises(ValueError, match=r"layer_cost: parameter 'input_shape' must be None "
                                         r"when spec is a ConvSpec"):
        layer_cost(spec, input_shape=(1, 4, 8, 8))


# -- network_cost ---------------------------------------------------------------

class Doubler(nn.Module):
    """A layer network_cost does not know how to count."""

    def forward(self, x):
        return 2 * x


SMALL_NET = nn.Sequential({
    "conv1": nn.Conv2d(2, 4, 3, padding=1), "act1": nn.Tanh(), "pool1": nn.AvgPool2d(2),
    "conv2": nn.Conv2d(4, 8, 3, groups=2), "pool2": nn.Subsample2d(8), "flatten": nn.Flatten(),
    "fc1": nn.Linear(32, 5), "drop": nn.Dropout(0.5), "rbf1": nn.RBF(5, 3),
}, input_shape=(2, 12, 12), name="small")


def test_network_cost_rows_and_totals():
    cost = network_cost(SMALL_NET, batch=3, dtype="float64")
    assert [r.name for r in cost.rows] == ["input", "conv1", "pool1", "conv2", "pool2", "fc1",
                                           "rbf1"]
    assert [r.output_shape for r in cost.rows] == [
        (3, 2, 12, 12), (3, 4, 12, 12), (3, 4, 6, 6), (3, 8, 4, 4), (3, 8, 2, 2),
        (3, 5), (3, 3)]
    conv2 = cost.row("conv2")
    assert conv2.weights == 8 * 2 * 9 and conv2.biases == 8
    assert conv2.macs == 3 * 16 * 8 * 9 * 2
    pool1, pool2 = cost.row("pool1"), cost.row("pool2")
    assert pool1.params == 0 and pool1.flops == 3 * 4 * 36 * (3 + 1)
    assert pool2.params == 16 and pool2.connections == 3 * 8 * 4 * 5
    fc, rbf = cost.row("fc1"), cost.row("rbf1")
    assert fc.weights == 5 * 32 and fc.biases == 5 and fc.macs == 3 * 5 * 32
    assert rbf.weights == 15 and rbf.biases == 0 and rbf.flops == 3 * rbf.macs
    for total in ("weights", "biases", "params", "macs", "flops", "connections",
                  "activations", "activation_bytes"):
        assert getattr(cost, total) == sum(getattr(r, total) for r in cost.rows)
    assert cost.activation_bytes == 8 * cost.activations
    assert cost.space == cost.params + cost.activations - 3 * 2 * 12 * 12
    assert fc.im2col_bytes == 0 and fc.fft_bytes == 0 and conv2.im2col_bytes > 0


def test_network_cost_scales_with_batch_but_parameters_do_not():
    one, four = network_cost(SMALL_NET), network_cost(SMALL_NET, batch=4)
    assert four.params == one.params
    for total in ("macs", "flops", "connections", "activations"):
        assert getattr(four, total) == 4 * getattr(one, total)


def test_network_cost_of_a_layer_list_matches_layer_cost():
    spec = fftconv.make_spec("t", (2, 3, 9, 9), (5, 3, 3, 3), stride=2, padding=1,
                             dtype=np.float32)
    row = network_cost([nn.Conv2d(3, 5, 3, stride=2, padding=1)], (3, 9, 9), batch=2).rows[1]
    expected = layer_cost(spec, name="conv1")
    for name in ("weights", "biases", "macs", "flops", "connections", "activations",
                 "im2col_bytes", "fft_bytes", "output_shape"):
        assert getattr(row, name) == getattr(expected, name)
    assert row.receptive_field.size == (3, 3)


def test_table_lists_every_layer_and_backend_estimates():
    cost = network_cost(SMALL_NET)
    text = cost.table()
    lines = text.splitlines()
    assert lines[0] == "small: batch 1, float32"
    assert [line.split()[0] for line in lines[3:10]] == [r.name for r in cost.rows]
    assert f"parameters: {cost.params:,}" in text and str(cost) == text
    with_backends = cost.table(backend_costs=True).splitlines()
    header = with_backends[1]
    supported = [n for n in fftconv.available_backends()]
    for name in supported:
        assert f"{name} ms" in header
    conv1 = next(line for line in with_backends if line.startswith("conv1"))
    choice = fftconv.choose_backend(cost.row("conv1").spec)
    assert conv1.split()[-1] == choice.name == min(choice.costs, key=choice.costs.get)
    pool1 = next(line for line in with_backends if line.startswith("pool1"))
    assert pool1.split()[-1] == "-"


@pytest.mark.parametrize("call, exc, pattern", [
    (lambda: network_cost(SMALL_NET, batch=0), ValueError,
     r"network_cost: parameter 'batch' must be a positive int; got 0"),
    (lambda: network_cost(SMALL_NET, batch=1.0), TypeError, r"parameter 'batch'"),
    (lambda: network_cost(SMALL_NET, dtype="int8"), ValueError,
     r"network_cost: parameter 'dtype' must be float32 or float64; got 'int8'"),
    (lambda: network_cost(SMALL_NET, dtype=object()), TypeError, r"parameter 'dtype'"),
    (lambda: network_cost(SMALL_NET, fit="round"), ValueError, r"parameter 'fit'"),
    (lambda: network_cost([nn.Conv2d(3, 4, 3)]), ValueError, r"parameter 'input_shape'"),
    (lambda: network_cost([nn.Conv2d(3, 4, 3)], (3, 8)), ValueError,
     r"network_cost: parameter 'input_shape' must be a \(C, H, W\) or \(F,\) tuple of positive "
     r"ints; got \(3, 8\)"),
    (lambda: network_cost([nn.Conv2d(3, 4, 3)], "3x8x8"), TypeError,
     r"network_cost: parameter 'input_shape'"),
    (lambda: network_cost([nn.Conv2d(4, 4, 3)], (3, 8, 8)), ValueError,
     r"network_cost \(conv1\): parameter 'model' must be an input with the layer's 4 channels "
     r"\(axis 1\); got 'Conv2d on an input of shape \(1, 3, 8, 8\)'"),
    (lambda: network_cost([nn.Subsample2d(2)], (3, 8, 8)), ValueError,
     r"network_cost \(pool1\): parameter 'model' must be an input with the layer's 2 channels"),
    (lambda: network_cost(nn.Sequential({"big": nn.Conv2d(3, 4, 9)}), (3, 8, 8)), ValueError,
     r"network_cost \(big\): Conv2d: parameter 'w' must be a kernel whose dilated size \(9, 9\)"),
    (lambda: network_cost([nn.MaxPool2d(3)], (3, 8, 8)), ValueError,
     r"network_cost \(pool1\): parameter 'padding' must be a padding with which"),
    (lambda: network_cost([nn.Linear(3, 2)], (3, 8, 8)), ValueError,
     r"network_cost \(fc1\): parameter 'model' must be a 2-d \(N, F\) input: put a Flatten "
     r"before the layer"),
    (lambda: network_cost([nn.Flatten(), nn.Linear(10, 2)], (3, 8, 8)), ValueError,
     r"network_cost \(fc1\): parameter 'model' must be an input of the layer's in_features=10 "
     r"features; got 'Linear on an input of shape \(1, 192\)'"),
    (lambda: network_cost([nn.Flatten(), nn.Conv2d(3, 1, 1)], (3, 8, 8)), ValueError,
     r"network_cost \(conv1\): parameter 'model' must be a 4-d \(N, C, H, W\) input"),
    (lambda: network_cost([nn.Conv2d(3, 1, 1), Doubler()], (3, 8, 8)), TypeError,
     r"network_cost: parameter 'model' must be an fftconv.nn model \(a Sequential or a list "
     r"of layers\) of Conv2d, MaxPool2d"),
    (lambda: network_cost("vgg16", (3, 8, 8)), TypeError, r"network_cost: parameter 'model'"),
    (lambda: network_cost([], (3, 8, 8)), TypeError, r"network_cost: parameter 'model'"),
    (lambda: network_cost(SMALL_NET).row("conv9"), ValueError,
     r"NetworkCost.row: parameter 'name' must be one of 'input', 'conv1'"),
])
def test_network_errors(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()
