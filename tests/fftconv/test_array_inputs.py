"""Array inputs: one rule for anything numpy can view (issue 25, item 6).

``conv2d``, ``convolve`` and ``correlate`` take ndarrays and any object exporting
numpy's array protocols (``__array__``, ``__array_interface__``) or, for array-API
objects, ``__dlpack__``; the memory is viewed, not copied; the result is always an
ndarray (a torch tensor in gives an ndarray out: ``fftconv.torch`` is the tensor
API). ``conv2d`` still refuses nested lists.
"""

import numpy as np
import pytest

import fftconv
from fftconv.checks import as_array, is_array_object, to_ndarray
from fftconv.testing import assert_conv_close


class ArrayDunder:
    """Exports its memory only through ``__array__``, and counts the exports."""

    def __init__(self, a):
        self._a, self.calls = a, 0

    def __array__(self, dtype=None, copy=None):
        self.calls += 1
        return self._a


class DLPackOnly:
    """An array-API object that numpy can take only through DLPack."""

    def __init__(self, a):
        self._a = a
        self.shape, self.dtype = a.shape, a.dtype

    def __array_namespace__(self, api_version=None):
        return np

    def __dlpack__(self, **kwargs):
        return self._a.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self._a.__dlpack_device__()


RNG = np.random.default_rng(25)
X = RNG.standard_normal((2, 3, 7, 6)).astype(np.float32)
W = RNG.standard_normal((4, 3, 3, 2)).astype(np.float32)


@pytest.mark.parametrize("wrap", [ArrayDunder, DLPackOnly], ids=["__array__", "dlpack"])
def test_array_objects_are_viewed_once_and_give_ndarrays(wrap):
    x, w = wrap(X), wrap(W)
    assert is_array_object(x) and not is_array_object([[1.0]])
    view = to_ndarray("f", "x", x)
    assert np.shares_memory(view, X)                       # no copy
    y = fftconv.conv2d(x, w, padding=1, backend="fft")
    assert type(y) is np.ndarray and y.dtype == np.float32
    assert_conv_close(y, fftconv.conv2d(X, W, padding=1, backend="direct"))
    if wrap is ArrayDunder:
        assert (x.calls, w.calls) == (2, 1)                # the view above, then conv2d's one
    a, b = wrap(X[0, 0]), wrap(W[0, 0])
    for op in (fftconv.convolve, fftconv.correlate):
        out = op(a, b, mode="same")
        assert type(out) is np.ndarray
        assert_conv_close(out, op(X[0, 0], W[0, 0], mode="same"))


def test_dlpack_objects_off_the_cpu_are_refused_with_their_device():
    class OnGPU(DLPackOnly):
        def __dlpack_device__(self):
            return (2, 0)                 # kDLCUDA, device 0: what a CUDA array reports
    with pytest.raises(ValueError, match=r"^conv2d: parameter 'w' must be on the CPU: fftconv "
                                         r"runs on the CPU; got a tensor on DLPack device "
                                         r"type 2:0$"):
        fftconv.conv2d(X, OnGPU(W))


def test_conv2d_still_refuses_lists():
    with pytest.raises(TypeError, match=r"must be an array \(a numpy\.ndarray or an object "
                                        r"exporting __array__"):
        fftconv.conv2d(X.tolist(), W)


def test_torch_cpu_tensors_give_ndarrays_without_a_copy():
    torch = pytest.importorskip("torch")
    tx, tw = torch.from_numpy(X.copy()), torch.from_numpy(W.copy())
    view = as_array("conv2d", "x", tx, ndim=4, arrays_only=True)
    assert np.shares_memory(view, tx.numpy())
    y = fftconv.conv2d(tx, tw, stride=2)
    assert type(y) is np.ndarray                           # the one rule: ndarray out
    assert_conv_close(y, torch.nn.functional.conv2d(tx, tw, stride=2).numpy())
    ints = fftconv.conv2d(torch.ones(1, 1, 3, 3, dtype=torch.int32), np.ones((1, 1, 2, 2)))
    assert ints.dtype == np.float64 and (ints == 4).all()
    assert type(fftconv.convolve(tx[0, 0], tw[0, 0])) is np.ndarray
    with pytest.raises(TypeError, match=r"^conv2d: parameter 'x' must be an array numpy can "
                                        r"convert \(Can't call numpy\(\) on Tensor that "
                                        r"requires grad"):
        fftconv.conv2d(tx.requires_grad_(), tw)
    with pytest.raises(TypeError, match=r"^conv2d: parameter 'w' must be an array of dtype "
                                        r"float32, float64 or an integer type; got Tensor "
                                        r".* dtype torch\.float16$"):
        fftconv.conv2d(X, tw.half())
