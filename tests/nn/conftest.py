"""Helpers for the trainer tests: finite-difference checks of a layer's backward."""

import numpy as np

from fftconv.testing import numerical_gradient

#: Central differences in float64 with eps=1e-6 are accurate to ~1e-9 relative.
FD_RTOL, FD_ATOL = 1e-6, 1e-8


def check_layer_gradients(layer, x, rng):
    """Compare ``layer.backward`` (input and every parameter) with central differences.

    The scalar is ``f = Σ layer(x) ⊙ r`` for a fixed random ``r``, so ``∂f/∂y = r``.
    """
    y = layer.forward(x)
    r = rng.standard_normal(y.shape)
    layer.zero_grad()
    dx = layer.backward(r)
    analytic = {name: p.grad.copy() for name, p in layer.named_parameters()}

    def f(xv):
        return float(np.sum(layer.forward(xv) * r))

    np.testing.assert_allclose(dx, numerical_gradient(f, x), rtol=FD_RTOL, atol=FD_ATOL)
    for name, param in layer.named_parameters():
        def f_param(value, param=param):
            saved = param.data.copy()
            param.data[...] = value
            try:
                return f(x)
            finally:
                param.data[...] = saved
        np.testing.assert_allclose(analytic[name], numerical_gradient(f_param, param.data),
                                   rtol=FD_RTOL, atol=FD_ATOL, err_msg=name)
    return dx


def make_idx(path, array, gz=False):
    """Write ``array`` (uint8 or int32 ...) as an IDX file, optionally gzip-compressed."""
    import gzip

    codes = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(np.int16): 0x0B,
             np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D, np.dtype(np.float64): 0x0E}
    array = np.asarray(array)
    header = bytes([0, 0, codes[array.dtype], array.ndim])
    header += np.array(array.shape, ">u4").tobytes()
    payload = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    opener = gzip.open if gz else open
    with opener(path, "wb") as f:
        f.write(payload)
    return path
