"""Convolution as a matrix, and fully connected layers as convolutions.

Qiu (*Neural Networks and Deep Learning*, ch. 5) writes a convolution as an affine
map ``y = A x + b`` with a sparse, Toeplitz-structured ``A`` (each row holds the
kernel, shifted), and reads backward propagation as multiplication by ``Aᵀ``. CS231n goes the other way: a fully
connected layer on a ``(C, H, W)`` input is a convolution whose kernel is the whole
input, which lets a classifier slide over a larger image in one pass.

* :func:`conv_matrix`: the dense or ``scipy.sparse`` matrix ``A`` of
  :func:`fftconv.conv2d`, with ``conv2d(x, w).ravel() == A @ x.ravel()``;
* :func:`fc_to_conv`: the filters of the convolution equal to an FC layer.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse

import fftconv
from fftconv.checks import as_array, int_tuple
from fftconv.errors import bad_type, bad_value

__all__ = ["conv_matrix", "fc_to_conv"]


def conv_matrix(input_shape, w, stride=1, padding=0, dilation=1, groups=1, sparse=False):
    """The matrix ``A`` of :func:`fftconv.conv2d`: ``conv2d(x, w).ravel() == A @ x.ravel()``.

    Parameters
    ----------
    input_shape : tuple of int
        ``(N, C_in, H, W)`` of the inputs ``x`` the matrix applies to.
    w : ndarray, shape (C_out, C_in / groups, kh, kw)
        Filters. float32 and float64 are kept; integers become float64.
    stride, padding, dilation, groups
        As in :func:`fftconv.conv2d`.
    sparse : bool
        Return a ``scipy.sparse.csr_array`` instead of a dense ndarray.

    Returns
    -------
    A : ndarray or scipy.sparse.csr_array, shape (N·C_out·OH·OW, N·C_in·H·W)
        ``OH = floor((H + pad_top + pad_bottom - dilation·(kh - 1) - 1) / stride) + 1``,
        likewise ``OW``. Rows and columns follow C order of ``(N, C_out, OH, OW)``
        and ``(N, C_in, H, W)``; the images of a batch do not interact, so ``A`` is
        block diagonal with ``N`` equal blocks. dtype: ``w``'s.

    Raises
    ------
    TypeError, ValueError
        As :func:`fftconv.conv2d` for bad shapes, dtypes or geometry.

    Notes
    -----
    Row ``(n, o, i, j)`` holds ``w[o, c, p, q]`` in column
    ``(n, g·C_in/groups + c, i·s_h + p·d_h - pad_top, j·s_w + q·d_w - pad_left)``
    for every tap that lands inside the image (taps on the zero padding drop out),
    where ``g`` is the group of ``o``. Each row is the kernel shifted by the stride:
    a block-Toeplitz matrix with ``nnz ≤ N·OH·OW·C_out·kh·kw·C_in/groups`` (the
    multiply-adds of :func:`analysis.complexity.layer_cost`; equal without padding).

    The gradient of a loss with respect to ``x`` is ``Aᵀ @ dy.ravel()``: backward
    propagation is the transpose of forward propagation (Qiu Xipeng,
    *Neural Networks and Deep Learning*, eq. 5.45), which is why Bouvrie's (2006)
    formula for ``dx`` is itself a (full, flipped-kernel) convolution. A bias adds
    ``np.repeat(bias, OH·OW)`` per image (an affine map). See also V. Dumoulin and
    F. Visin, "A guide to convolution arithmetic for deep learning" (2016), ch. 4.

    Examples
    --------
    Qiu's example: a 2×2 kernel on a 3×3 input.

    >>> import numpy as np, fftconv
    >>> w = np.array([[[[1, 2], [3, 4]]]])
    >>> conv_matrix((1, 1, 3, 3), w)
    array([[1., 2., 0., 3., 4., 0., 0., 0., 0.],
           [0., 1., 2., 0., 3., 4., 0., 0., 0.],
           [0., 0., 0., 1., 2., 0., 3., 4., 0.],
           [0., 0., 0., 0., 1., 2., 0., 3., 4.]])
    >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
    >>> A = conv_matrix(x.shape, w, sparse=True)
    >>> bool(np.allclose(A @ x.ravel(), fftconv.conv2d(x, w).ravel()))
    True
    """
    func = "conv_matrix"
    x_shape = int_tuple(func, "input_shape", input_shape, 4, "(N, C_in, H, W)")
    w = as_array(func, "w", w, ndim=4, layout="(C_out, C_in/groups, kh, kw)", arrays_only=True)
    if not isinstance(sparse, (bool, np.bool_)):
        raise bad_type(func, "sparse", sparse, "a bool")
    spec = fftconv.make_spec(func, x_shape, w.shape, stride, padding, dilation, groups, w.dtype)
    n, c_in, h, wd = spec.input_shape
    oh, ow = spec.out_h, spec.out_w
    (sh, sw), (dh, dw) = spec.stride, spec.dilation
    (pt, _), (pl, _) = spec.padding
    cg, og = spec.c_in_per_group, spec.c_out_per_group

    # One entry per (n, o, c, p, q, i, j): broadcast the index arithmetic of the Notes.
    b, o, c, p, q, i, j = np.ix_(np.arange(n), np.arange(spec.c_out), np.arange(cg),
                                 np.arange(spec.kh), np.arange(spec.kw), np.arange(oh),
                                 np.arange(ow))
    row_in = i * sh + p * dh - pt
    col_in = j * sw + q * dw - pl
    channel = (o // og) * cg + c
    inside = (row_in >= 0) & (row_in < h) & (col_in >= 0) & (col_in < wd)
    full = (n, spec.c_out, cg, spec.kh, spec.kw, oh, ow)
    inside = np.broadcast_to(inside, full)
    rows = np.broadcast_to(((b * spec.c_out + o) * oh + i) * ow + j, full)[inside]
    cols = np.broadcast_to(((b * c_in + channel) * h + row_in) * wd + col_in, full)[inside]
    values = np.broadcast_to(w[o, c, p, q], full)[inside]

    shape = (n * spec.c_out * oh * ow, n * c_in * h * wd)
    if sparse:
        # Each (row, column) pair occurs once: a tap position determines p and q.
        return scipy.sparse.csr_array((values, (rows, cols)), shape=shape)
    a = np.zeros(shape, dtype=w.dtype)
    a[rows, cols] = values
    return a


def fc_to_conv(linear_weight, in_shape):
    """The convolution filters equal to a fully connected layer on a ``(C, H, W)`` input.

    Parameters
    ----------
    linear_weight : ndarray, shape (out_features, C·H·W)
        Weight of ``y = linear_weight @ x.ravel() + b`` (``torch.nn.Linear``'s layout),
        where ``x`` of shape ``(C, H, W)`` is flattened in C order (``numpy.ravel``,
        ``torch.flatten``).
    in_shape : tuple of int
        ``(C, H, W)`` of the layer's input.

    Returns
    -------
    ndarray, shape (out_features, C, H, W)
        Filters ``k`` with ``conv2d(x[None], k)[0, :, 0, 0] == linear_weight @ x.ravel()``;
        the bias is unchanged. A view of ``linear_weight`` when its memory allows.

    Raises
    ------
    TypeError, ValueError
        If ``linear_weight`` is not a 2-d float or integer array, ``in_shape`` not three
        positive ints, or ``C·H·W`` differs from ``linear_weight.shape[1]``.

    Notes
    -----
    An FC neuron takes the dot product of its weight row with the whole input volume,
    exactly what one filter of the input's own size computes at its single position
    (CS231n, "Converting FC layers to CONV layers"). Applied to a larger
    input, the converted network evaluates the original one on every window at once:
    with total stride ``S`` before the first FC layer, an input ``S·k`` pixels larger
    gives a ``(k + 1) × (k + 1)`` map of scores, one per window at offsets that are
    multiples of ``S`` (J. Long, E. Shelhamer and T. Darrell, "Fully convolutional
    networks for semantic segmentation", CVPR 2015; P. Sermanet et al., "OverFeat",
    ICLR 2014).

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> rng = np.random.default_rng(0)
    >>> weight, x = rng.standard_normal((4, 2 * 3 * 3)), rng.standard_normal((2, 3, 3))
    >>> k = fc_to_conv(weight, (2, 3, 3))
    >>> k.shape
    (4, 2, 3, 3)
    >>> bool(np.allclose(fftconv.conv2d(x[None], k)[0, :, 0, 0], weight @ x.ravel()))
    True
    """
    func = "fc_to_conv"
    weight = as_array(func, "linear_weight", linear_weight, ndim=2,
                      layout="(out_features, in_features)", arrays_only=True)
    shape = int_tuple(func, "in_shape", in_shape, 3, "(C, H, W)")
    if int(np.prod(shape)) != weight.shape[1]:
        raise bad_value(func, "in_shape", in_shape,
                        f"a (C, H, W) with C·H·W = in_features = {weight.shape[1]}")
    return weight.reshape(weight.shape[0], *shape)
