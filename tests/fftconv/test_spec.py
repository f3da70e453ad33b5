"""ConvSpec: canonical geometry and the output-size formula (seeded Hypothesis)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fftconv
from fftconv._spec import ConvSpec, conv_output_size, make_spec

small = st.integers(1, 3)


@settings(derandomize=True, max_examples=150, deadline=None)
@given(n=small, cg=small, og=small, groups=st.sampled_from([1, 2, 3]),
       h=st.integers(1, 12), w=st.integers(1, 12), kh=st.integers(1, 5), kw=st.integers(1, 5),
       stride=st.tuples(small, small), dilation=st.tuples(small, small),
       pads=st.tuples(st.tuples(st.integers(0, 3), st.integers(0, 3)),
                      st.tuples(st.integers(0, 3), st.integers(0, 3))))
def test_output_shape_formula(n, cg, og, groups, h, w, kh, kw, stride, dilation, pads):
    """Either the geometry is rejected because the kernel does not fit, or every
    backend returns exactly the formula's shape."""
    x = np.zeros((n, cg * groups, h, w))
    wt = np.zeros((og * groups, cg, kh, kw))
    kwargs = dict(stride=stride, padding=pads, dilation=dilation, groups=groups)
    fits = all(dil * (k - 1) + 1 <= size + sum(p)
               for dil, k, size, p in zip(dilation, (kh, kw), (h, w), pads))
    if not fits:
        with pytest.raises(ValueError, match="fits the padded input"):
            fftconv.conv2d(x, wt, **kwargs)
        return
    oh = math.floor((h + sum(pads[0]) - dilation[0] * (kh - 1) - 1) / stride[0]) + 1
    ow = math.floor((w + sum(pads[1]) - dilation[1] * (kw - 1) - 1) / stride[1]) + 1
    spec = fftconv.make_spec("test", x.shape, wt.shape, **kwargs)
    for backend in fftconv.available_backends():
        if not fftconv.get_backend(backend).supports(spec):    # Winograd: stride 1 only
            with pytest.raises(NotImplementedError, match="does not support"):
                fftconv.conv2d(x, wt, backend=backend, **kwargs)
            continue
        assert fftconv.conv2d(x, wt, backend=backend, **kwargs).shape == (n, og * groups, oh, ow)


def test_cs231n_example_sizes():
    # CS231n: 7x7 input, 3x3 filter, stride 1 pad 0 -> 5; stride 2 -> 3.
    assert conv_output_size(7, 3, 1, 0, 0, 1) == 5
    assert conv_output_size(7, 3, 2, 0, 0, 1) == 3
    # AlexNet conv1: 227, F=11, S=4, P=0 -> 55.
    assert conv_output_size(227, 11, 4, 0, 0, 1) == 55


@pytest.mark.parametrize("padding, expected", [
    (2, ((2, 2), (2, 2))),
    ((1, 3), ((1, 1), (3, 3))),
    ([[0, 1], [2, 3]], ((0, 1), (2, 3))),
    ("valid", ((0, 0), (0, 0))),
    ("same", ((2, 2), (1, 2))),
])
def test_padding_forms_are_canonicalized(padding, expected):
    spec = make_spec("t", (1, 1, 9, 9), (1, 1, 5, 4), padding=padding)
    assert spec.padding == expected


def test_same_with_dilation_follows_seed_004_rule():
    # P = D(K-1)/2 for odd kernels: K=3, D=2 -> P=2 on each side.
    spec = make_spec("t", (1, 1, 9, 9), (1, 1, 3, 3), padding="same", dilation=2)
    assert spec.padding == ((2, 2), (2, 2))
    assert spec.output_shape == (1, 1, 9, 9)


def test_spec_is_immutable_and_hashable():
    spec = make_spec("t", (2, 4, 8, 8), (6, 2, 3, 3), groups=2, dtype=np.float32)
    with pytest.raises(AttributeError):
        spec.n = 3
    assert hash(spec) == hash(make_spec("t", (2, 4, 8, 8), (6, 2, 3, 3), groups=2,
                                        dtype=np.float32))
    assert isinstance(spec, ConvSpec) and spec.macs == 2 * 6 * 6 * 6 * 3 * 3 * 2
    assert "groups=2" in str(spec)


@pytest.mark.parametrize("x_shape, exc, pattern", [
    ((1, 2, 3), ValueError, r"make_spec: parameter 'x' must be a tuple of 4 positive ints"),
    ((1, 2, 0, 4), ValueError, r"parameter 'x' must be a tuple of 4 positive ints.*got \(1, 2, 0, 4\)"),
    ((1, 2, 3.0, 4), TypeError, r"parameter 'x' must be a tuple of 4 positive ints"),
    ("1234", TypeError, r"parameter 'x'"),
])
def test_make_spec_validates_shapes(x_shape, exc, pattern):
    with pytest.raises(exc, match=pattern):
        make_spec("make_spec", x_shape, (1, 2, 1, 1))
