"""Bad input gets a clear error naming the function, the parameter and the value."""

import numpy as np
import pytest

import fftconv
from fftconv import set_memory_budget

X = np.ones((2, 4, 8, 8))
W = np.ones((6, 4, 3, 3))


@pytest.mark.parametrize("kwargs, exc, pattern", [
    (dict(x=np.ones((4, 8, 8))), ValueError, r"conv2d: parameter 'x' must be a 4-d array"),
    (dict(w=np.ones((6, 4, 3))), ValueError, r"conv2d: parameter 'w' must be a 4-d array"),
    (dict(w=np.ones((6, 3, 3, 3))), ValueError,
     r"parameter 'w' must be of shape \(C_out, C_in/groups=4, kh, kw\).*got \(6, 3, 3, 3\)"),
    (dict(groups=3), ValueError, r"parameter 'groups' must be a positive int dividing C_in=4"),
    (dict(w=np.ones((6, 1, 3, 3)), groups=4), ValueError,
     r"'groups' must be a positive int dividing C_in=4 and C_out=6; got 4"),
    (dict(w=np.ones((6, 4, 9, 3))), ValueError,
     r"parameter 'w' must be a kernel whose dilated size \(9, 3\) fits the padded input "
     r"\(8, 8\)"),
    (dict(dilation=4), ValueError, r"dilated size \(9, 9\)"),
    (dict(stride=0), ValueError, r"parameter 'stride' must be a positive int.*got 0"),
    (dict(stride=(1, -2)), ValueError, r"parameter 'stride'.*got \(1, -2\)"),
    (dict(dilation=0), ValueError, r"parameter 'dilation' must be a positive int"),
    (dict(stride=1.5), TypeError, r"parameter 'stride' must be a positive int"),
    (dict(padding=-1), ValueError, r"parameter 'padding' must be a non-negative int"),
    (dict(padding=((0, 1), (-1, 0))), ValueError, r"parameter 'padding'.*got \(\(0, 1\)"),
    (dict(padding="full"), ValueError, r"parameter 'padding'.*'valid' or 'same'; got 'full'"),
    (dict(padding="same", stride=2), ValueError,
     r"parameter 'padding' must be explicit padding when stride=\(2, 2\) > 1"),
    (dict(backend="cudnn"), ValueError,
     r"conv2d: parameter 'backend' must be one of 'auto', 'direct', 'im2col'"),
    (dict(x=[[1.0]]), TypeError, r"conv2d: parameter 'x' must be an array \(a numpy.ndarray or an object exporting "
     r"__array__, __array_interface__ or __dlpack__, such as a CPU torch tensor\); got \[\[1.0\]\]"),
    (dict(x=None), TypeError, r"parameter 'x' must be an array \(a numpy.ndarray.*; got None"),
    (dict(x=np.ones((0, 4, 8, 8))), ValueError, r"parameter 'x' must be a non-empty array"),
    (dict(w=np.ones((0, 4, 3, 3))), ValueError, r"parameter 'w' must be a non-empty array"),
    (dict(x=X.astype(bool)), TypeError, r"parameter 'x' must be an array of dtype float32"),
    (dict(x=X.astype(np.float16)), TypeError, r"dtype float16"),
    (dict(w=W.astype(np.complex128)), TypeError, r"parameter 'w'.*dtype complex128"),
    (dict(bias=np.ones(5)), ValueError, r"parameter 'bias' must be an array of shape \(C_out,\)"),
])
def test_conv2d_errors(kwargs, exc, pattern):
    args = dict(x=X, w=W)
    args.update(kwargs)
    with pytest.raises(exc, match=pattern):
        fftconv.conv2d(**args)


def test_backward_errors():
    dy = np.ones((2, 6, 6, 6))
    with pytest.raises(ValueError, match=r"conv2d_backward: parameter 'dy' must be of the "
                                         r"forward output's shape .* \(2, 6, 6, 6\); got "
                                         r"ndarray of shape \(2, 6, 5, 5\)"):
        fftconv.conv2d_backward(np.ones((2, 6, 5, 5)), X, W)
    with pytest.raises(ValueError, match=r"parameter 'needs' must be a subset of"):
        fftconv.conv2d_backward(dy, X, W, needs=("input", "inputs"))
    with pytest.raises(TypeError, match=r"parameter 'needs'"):
        fftconv.conv2d_backward(dy, X, W, needs=3)
    with pytest.raises(ValueError, match=r"conv2d_backward: parameter 'stride'"):
        fftconv.conv2d_backward(dy, X, W, stride=0)
    dx, dw, db = fftconv.conv2d_backward(dy, X, W, needs="weight")
    assert dx is None and db is None and dw.shape == W.shape


@pytest.mark.parametrize("call, exc, pattern", [
    (lambda: fftconv.convolve(np.ones(3), np.ones(2), mode="circular"), ValueError,
     r"convolve: parameter 'mode' must be one of 'full', 'same', 'valid'; got 'circular'"),
    (lambda: fftconv.correlate(np.ones(3), np.ones(2), method="winograd"), ValueError,
     r"correlate: parameter 'method' must be one of 'auto', 'direct', 'fft'"),
    (lambda: fftconv.convolve("abc", np.ones(2)), TypeError,
     r"convolve: parameter 'in1' must be a numeric array_like"),
    (lambda: fftconv.convolve(np.ones(3), None), TypeError, r"parameter 'in2'.*got None"),
    (lambda: fftconv.convolve(np.ones((3, 3)), np.ones(2)), ValueError,
     r"parameter 'in2' must be an array with in1.ndim = 2 dimensions"),
    (lambda: fftconv.convolve2d(np.ones((3, 3)), np.ones((2, 2)), boundary="reflect"),
     ValueError, r"convolve2d: parameter 'boundary' must be one of 'fill', 'wrap', 'symm'"),
    (lambda: fftconv.convolve2d(np.ones((3, 3)), np.ones((2, 2)), fillvalue=[1, 2]),
     ValueError, r"convolve2d: parameter 'fillvalue' must be a number"),
    (lambda: fftconv.correlate2d(np.ones((3, 3)), np.ones((2, 2)), fillvalue=1j),
     ValueError, r"correlate2d: parameter 'fillvalue' must be a real number for a result"),
    (lambda: fftconv.convolve2d(np.ones(3), np.ones(2)), ValueError,
     r"convolve2d: parameter 'in1' must be a 2-D array"),
    (lambda: fftconv.choose_conv_method(np.ones(3), np.ones(2), measure=1), TypeError,
     r"choose_conv_method: parameter 'measure' must be a bool"),
    (lambda: fftconv.convolve(np.ones((3, 5)), np.ones((4, 2)), mode="valid"), ValueError,
     r"for mode='valid'"),
    (lambda: fftconv.convolve(np.ones((3, 5)), np.ones((2, 2)), axes=1), ValueError,
     r"of size 3 or 1 along the non-convolved axis 0"),
    (lambda: fftconv.convolve(np.ones((3, 5)), np.ones((3, 2)), axes=(1, 1)), ValueError,
     r"parameter 'axes' must be a non-empty sequence of distinct axes"),
    (lambda: fftconv.convolve(np.ones((3, 5)), np.ones((3, 2)), axes=2), ValueError,
     r"parameter 'axes' must be axes in range \[-2, 2\)"),
    (lambda: fftconv.convolve(np.ones(3), np.ones(2), axes="0"), TypeError,
     r"parameter 'axes' must be None, an int or a sequence of ints"),
])
def test_signal_errors(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


def test_registry_errors():
    with pytest.raises(ValueError, match=r"get_backend: parameter 'backend' must be one of"):
        fftconv.get_backend("nope")
    with pytest.raises(ValueError, match=r"'auto' is a policy"):
        fftconv.get_backend("auto")
    with pytest.raises(ValueError, match=r"set_backend: parameter 'backend'.*got 'nope'"):
        with fftconv.set_backend("nope"):
            pass
    with pytest.raises(TypeError, match=r"set_backend: parameter 'backend' must be a backend"):
        with fftconv.set_backend(3):
            pass
    with pytest.raises(ValueError, match=r"set_memory_budget: parameter 'nbytes'"):
        with set_memory_budget(0):
            pass
