"""The PyTorch bridge: fftconv's backends inside torch models, with autograd.

* :func:`conv2d` is ``torch.nn.functional.conv2d`` computed by an fftconv
  backend: a :class:`torch.autograd.Function` whose forward is
  :func:`fftconv.conv2d` and whose backward is :func:`fftconv.conv2d_backward`
  given the forward's :class:`~fftconv.ConvContext` (so the FFT backend reuses
  the input and kernel spectra of the forward instead of transforming again).
  Gradients of any order: the backward is itself a differentiable op.
* :class:`Conv2d` is a drop-in ``torch.nn.Conv2d`` (a subclass: same
  constructor, same ``state_dict`` keys, ``padding_mode``) with ``backend=``.
* :func:`convert` swaps every ``torch.nn.Conv2d`` of a model for
  :class:`Conv2d` in place (the parameters stay the same objects, so an
  optimizer built before keeps working); :func:`revert` swaps them back.

Tensors cross into numpy without copies (``Tensor.numpy()`` and
:func:`torch.from_numpy` share memory): only CPU tensors of dtype float32 or
float64 are accepted, and input, weight and bias must share one dtype (as in
PyTorch). Importing :mod:`fftconv` never imports torch; this module does,
through :func:`fftconv.optional.require` (the ``bench`` extra pins it).

Examples
--------
>>> import torch, fftconv.torch as ftorch
>>> x = torch.randn(2, 3, 8, 8, dtype=torch.float64, requires_grad=True)
>>> w = torch.randn(4, 3, 3, 3, dtype=torch.float64, requires_grad=True)
>>> y = ftorch.conv2d(x, w, padding="same", backend="fft")
>>> bool(torch.allclose(y, torch.nn.functional.conv2d(x, w, padding="same")))
True
>>> y.square().sum().backward()
>>> x.grad.shape, w.grad.shape
(torch.Size([2, 3, 8, 8]), torch.Size([4, 3, 3, 3]))
"""

from __future__ import annotations

import numpy as np

from .optional import require

torch = require("torch", "bench", "fftconv.torch")

from . import api as _api  # noqa: E402  (torch first: its absence is the clearer error)
from ._spec import make_spec  # noqa: E402
from .backends import available_backends  # noqa: E402
from .errors import bad_type, bad_value, not_on_cpu  # noqa: E402
from .select import resolve_backend  # noqa: E402

__all__ = ["conv2d", "Conv2d", "convert", "revert"]

_FUNC = "fftconv.torch.conv2d"
_NUMPY_DTYPES = {torch.float32: np.dtype(np.float32), torch.float64: np.dtype(np.float64)}
_DTYPES = "a tensor of dtype torch.float32 or torch.float64 (convert others with .float())"
_NEEDS = ("input", "weight", "bias")


# -- checks --------------------------------------------------------------------------

def _check_tensor(func: str, param: str, value, dtype=None) -> None:
    """A strided CPU tensor of float32 / float64 (and of ``dtype``, when given)."""
    if not isinstance(value, torch.Tensor):
        raise bad_type(func, param, value, "a torch.Tensor")
    if value.device.type != "cpu":
        raise not_on_cpu(func, param, value.device)
    if value.layout != torch.strided:
        raise bad_type(func, param, value, f"a dense (strided) tensor, not {value.layout}")
    if value.dtype not in _NUMPY_DTYPES:
        raise bad_type(func, param, value, _DTYPES)
    if dtype is not None and value.dtype != dtype:
        raise bad_type(func, param, value, f"a tensor of the input's dtype {dtype}")


def _check_backend(func: str, backend):
    """``None``, ``'auto'`` or a registered backend's name."""
    if backend is None:
        return None
    names = ["auto", *available_backends()]
    allowed = "None or one of " + ", ".join(map(repr, names))
    if not isinstance(backend, str):
        raise bad_type(func, "backend", backend, allowed)
    if backend not in names:
        raise bad_value(func, "backend", backend, allowed)
    return backend


# -- numpy <-> torch, without copies --------------------------------------------------

def _view(tensor):
    """The ndarray sharing ``tensor``'s memory (``detach``: autograd is ours here)."""
    return tensor.detach().numpy()


def _tensor(array: np.ndarray):
    """A tensor sharing ``array``'s memory (``torch.from_numpy`` refuses negative
    strides and warns on read-only arrays: those, never a backend's fresh output,
    are copied)."""
    if not array.flags.writeable or any(s < 0 for s in array.strides):
        array = np.array(array)
    return torch.from_numpy(array)


# -- the autograd functions ------------------------------------------------------------

def _needs_graph(*tensors) -> bool:
    return torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)


def _forward(x, w, bias, geometry, backend, keep_context):
    stride, padding, dilation, groups = geometry
    out = _api.conv2d(_view(x), _view(w), None if bias is None else _view(bias), stride,
                      padding, dilation, groups, backend=backend,
                      return_context=keep_context)
    y, context = out if keep_context else (out, None)
    return _tensor(y), context


def _conv(x, w, bias, geometry, backend):
    """conv2d on canonical geometry; through the graph only when a gradient is wanted."""
    if _needs_graph(x, w, bias):
        return _Conv2d.apply(x, w, bias, geometry, backend)
    return _forward(x, w, bias, geometry, backend, False)[0]


def _grads(dy, x, w, geometry, backend, needs, context=None):
    """The gradients named in ``needs`` (a tuple in :data:`_NEEDS` order), as a tuple."""
    if _needs_graph(dy, x, w):
        out = _Conv2dBackward.apply(dy, x, w, geometry, backend, needs, context)
        return out if isinstance(out, tuple) else (out,)
    return _backward(dy, x, w, geometry, backend, needs, context)


def _backward(dy, x, w, geometry, backend, needs, context):
    stride, padding, dilation, groups = geometry
    dx, dw, db = _api.conv2d_backward(_view(dy), _view(x), _view(w), stride, padding,
                                      dilation, groups, backend=backend, needs=needs,
                                      context=context)
    return tuple(_tensor(g) for g, name in zip((dx, dw, db), _NEEDS) if name in needs)


class _Conv2d(torch.autograd.Function):
    """``y = conv2d(x, w) + b`` on an fftconv backend; backward through the context."""

    @staticmethod
    def forward(ctx, x, w, bias, geometry, backend):
        # the context (the FFT backend's spectra) only when x or w needs a gradient
        keep = bool(ctx.needs_input_grad[0] or ctx.needs_input_grad[1])
        y, context = _forward(x, w, bias, geometry, backend, keep)
        # saved through autograd, so an in-place change of x or w before the
        # backward is an error instead of a silently wrong gradient
        ctx.save_for_backward(x, w)
        ctx.geometry, ctx.backend, ctx.context = geometry, backend, context
        return y

    @staticmethod
    def backward(ctx, dy):
        x, w = ctx.saved_tensors
        needs = tuple(name for name, want in zip(_NEEDS, ctx.needs_input_grad) if want)
        grads = dict(zip(needs, _grads(dy, x, w, ctx.geometry, ctx.backend, needs,
                                       ctx.context)))
        return grads.get("input"), grads.get("weight"), grads.get("bias"), None, None


class _Conv2dBackward(torch.autograd.Function):
    """``(dx, dw, db)`` of conv2d as an op of its own, so gradients of gradients exist.

    The map ``(dy, x, w) → (dx, dw, db)`` is linear in ``dy`` and, for fixed
    ``dy``, ``dx`` is linear in ``w`` and ``dw`` in ``x``; with ``F`` = conv2d,
    ``Gx``/``Gw`` its input/weight gradients and ``(a, b, c)`` the incoming
    gradients of ``(dx, dw, db)``::

        d/d dy = F(a, w) + F(x, b) + c          (broadcast over N, H, W)
        d/d x  = Gx(dy; weight b)               (from <b, Gw(dy, x)> = <F(x, b), dy>)
        d/d w  = Gw(dy; input a)                (from <a, Gx(dy, w)> = <F(a, w), dy>)

    each again an fftconv call, so every order is available.
    """

    @staticmethod
    def forward(ctx, dy, x, w, geometry, backend, needs, context):
        grads = _backward(dy, x, w, geometry, backend, needs, context)
        ctx.save_for_backward(dy, x, w)
        ctx.geometry, ctx.backend, ctx.needs = geometry, backend, needs
        return grads

    @staticmethod
    def backward(ctx, *incoming):
        dy, x, w = ctx.saved_tensors
        g = dict(zip(ctx.needs, incoming))
        want_dy, want_x, want_w = ctx.needs_input_grad[:3]
        geometry, backend = ctx.geometry, ctx.backend
        d_dy = d_x = d_w = None
        if want_dy:
            parts = []
            if "input" in g:
                parts.append(_conv(g["input"], w, None, geometry, backend))
            if "weight" in g:
                parts.append(_conv(x, g["weight"], None, geometry, backend))
            if "bias" in g:
                parts.append(g["bias"].view(1, -1, 1, 1).expand(dy.shape))
            d_dy = sum(parts[1:], parts[0])
        if want_x and "weight" in g:
            d_x, = _grads(dy, x, g["weight"], geometry, backend, ("input",))
        if want_w and "input" in g:
            d_w, = _grads(dy, g["input"], w, geometry, backend, ("weight",))
        return d_dy, d_x, d_w, None, None, None, None


# -- the functional op ------------------------------------------------------------------

def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
           backend=None):
    """``torch.nn.functional.conv2d`` computed by an fftconv backend, with autograd.

    Parameters
    ----------
    input : Tensor, shape (N, C_in, H, W) or (C_in, H, W)
        CPU, float32 or float64.
    weight : Tensor, shape (C_out, C_in / groups, kh, kw)
        Same dtype as ``input``.
    bias : Tensor, shape (C_out,), optional
        Same dtype as ``input``.
    stride, padding, dilation, groups
        As in :func:`torch.nn.functional.conv2d`: ints, pairs, ``'same'`` and
        ``'valid'`` (and, beyond PyTorch, fftconv's ``((top, bottom), (left,
        right))``).
    backend : str, optional
        ``'direct'``, ``'im2col'``, ``'fft'``, any registered backend, or
        ``'auto'``; default: the innermost :func:`fftconv.set_backend`, else
        ``'auto'``. The backward runs on the backend the forward ran on.

    Returns
    -------
    Tensor, shape (N, C_out, OH, OW) (or (C_out, OH, OW))
        ``OH = floor((H + pad_top + pad_bottom - dilation·(kh - 1) - 1) / stride) + 1``,
        likewise ``OW``; it shares memory with the backend's numpy result.

    Raises
    ------
    TypeError
        A non-tensor, a dtype other than float32 / float64 (half, bfloat16,
        integers), a weight or bias of another dtype than the input, a sparse
        tensor.
    ValueError
        A tensor not on the CPU (``"fftconv runs on the CPU; got a tensor on
        cuda:0"``), wrong ndim, empty tensors, bad geometry or backend.
    NotImplementedError
        The named backend does not compute this geometry.

    See Also
    --------
    torch.nn.functional.conv2d : the op this computes.
    fftconv.conv2d : the numpy op underneath (ndarrays in, ndarrays out).
    Conv2d : the module form.

    Notes
    -----
    The forward keeps :func:`fftconv.conv2d`'s :class:`~fftconv.ConvContext`
    only when ``input`` or ``weight`` requires a gradient, and the backward
    computes only the gradients autograd asks for (``ctx.needs_input_grad``).
    Under :func:`torch.no_grad`, or when nothing requires a gradient, no
    autograd node is made at all. Gradients of gradients (``create_graph=True``:
    gradient penalties, Hessian-vector products) are themselves fftconv calls
    (see ``_Conv2dBackward``).

    Examples
    --------
    >>> import torch, fftconv.torch as ftorch
    >>> x = torch.arange(16.0).reshape(1, 1, 4, 4)
    >>> ftorch.conv2d(x, torch.ones(1, 1, 2, 2), stride=2, backend="im2col")
    tensor([[[[10., 18.],
              [42., 50.]]]])
    """
    _check_tensor(_FUNC, "input", input)
    _check_tensor(_FUNC, "weight", weight, input.dtype)
    if bias is not None:
        _check_tensor(_FUNC, "bias", bias, input.dtype)
    if input.dim() not in (3, 4):
        raise bad_value(_FUNC, "input", input,
                        "a 4-d tensor (N, C_in, H, W) or a 3-d one (C_in, H, W)")
    if weight.dim() != 4:
        raise bad_value(_FUNC, "weight", weight, "a 4-d tensor (C_out, C_in/groups, kh, kw)")
    if input.numel() == 0 or weight.numel() == 0:
        raise bad_value(_FUNC, "input" if input.numel() == 0 else "weight",
                        input if input.numel() == 0 else weight, "a non-empty tensor")
    unbatched = input.dim() == 3
    x = input.unsqueeze(0) if unbatched else input
    spec = make_spec(_FUNC, tuple(x.shape), tuple(weight.shape), stride, padding, dilation,
                     groups, _NUMPY_DTYPES[x.dtype])
    if bias is not None and tuple(bias.shape) != (spec.c_out,):
        raise bad_value(_FUNC, "bias", bias, f"a tensor of shape (C_out,) = ({spec.c_out},)")
    # resolved once here: errors name this function, and the backward uses the same one
    chosen = resolve_backend(_FUNC, _check_backend(_FUNC, backend), spec).name
    geometry = (spec.stride, spec.padding, spec.dilation, spec.groups)
    y = _conv(x, weight, bias, geometry, chosen)
    return y.squeeze(0) if unbatched else y


# -- the module and the model conversion ---------------------------------------------------

class Conv2d(torch.nn.Conv2d):
    """``torch.nn.Conv2d`` computed by an fftconv backend.

    A subclass: the constructor takes ``torch.nn.Conv2d``'s arguments (and
    ``backend``), the parameters, their initialization and the ``state_dict``
    keys (``weight``, ``bias``) are PyTorch's own, so checkpoints load either
    way. ``padding_mode`` other than ``'zeros'`` pads with
    :func:`torch.nn.functional.pad` exactly as ``torch.nn.Conv2d`` does, then
    convolves with zero padding.

    Parameters
    ----------
    in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode, device, dtype
        As in :class:`torch.nn.Conv2d`; ``device`` must be the CPU (or ``None``).
    backend : str, optional
        The fftconv backend (:func:`conv2d`); default ``None``: the innermost
        :func:`fftconv.set_backend` at call time, else ``'auto'``. May be
        changed at any time (``layer.backend = 'fft'``).

    See Also
    --------
    torch.nn.Conv2d : the module this replaces.
    convert : swap every ``torch.nn.Conv2d`` of a model for this class.

    Examples
    --------
    >>> import torch, fftconv.torch as ftorch
    >>> layer = ftorch.Conv2d(3, 8, 3, padding=1, padding_mode="reflect", backend="fft")
    >>> layer(torch.randn(2, 3, 16, 16)).shape
    torch.Size([2, 8, 16, 16])
    >>> sorted(layer.state_dict())
    ['bias', 'weight']
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", device=None,
                 dtype=None, backend=None):
        if device is not None and torch.device(device).type != "cpu":
            raise not_on_cpu("fftconv.torch.Conv2d", "device", torch.device(device))
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype)
        self.backend = _check_backend("fftconv.torch.Conv2d", backend)

    def _conv_forward(self, input, weight, bias):
        # torch.nn.Conv2d's own order: pad by the mode, then a zero-padding conv
        if self.padding_mode != "zeros":
            padded = torch.nn.functional.pad(input, self._reversed_padding_repeated_twice,
                                             mode=self.padding_mode)
            return conv2d(padded, weight, bias, self.stride, 0, self.dilation, self.groups,
                          backend=self.backend)
        return conv2d(input, weight, bias, self.stride, self.padding, self.dilation,
                      self.groups, backend=self.backend)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, backend={self.backend!r}"


def _check_model(func: str, model) -> None:
    if not isinstance(model, torch.nn.Module):
        raise bad_type(func, "model", model, "a torch.nn.Module")


def _swappable(module) -> bool:
    # exactly torch.nn.Conv2d (or ours): a user's subclass may compute something else
    return type(module) in (torch.nn.Conv2d, Conv2d)


def convert(model, backend="fft"):
    """Swap every ``torch.nn.Conv2d`` of ``model`` (recursively) for :class:`Conv2d`.

    In place: each layer keeps its identity, parameters, buffers, hooks and
    ``state_dict`` (its class changes), so optimizers and references built
    before still hold. Layers already converted get the new ``backend``.
    Subclasses of ``torch.nn.Conv2d`` other than :class:`Conv2d` (a user's
    layer with its own ``forward``) are left as they are.

    Parameters
    ----------
    model : torch.nn.Module
        Any module (a lone ``torch.nn.Conv2d`` too); its convolutions must be on
        the CPU in float32 or float64. Nothing is changed if one is not.
    backend : str or None
        As for :class:`Conv2d`; ``None`` follows :func:`fftconv.set_backend`.

    Returns
    -------
    torch.nn.Module
        ``model`` itself. :func:`revert` undoes the swap.

    Raises
    ------
    TypeError
        ``model`` is not a module; a convolution's parameter has another dtype.
    ValueError
        A convolution's parameter is not on the CPU; an unknown backend.

    See Also
    --------
    revert : back to ``torch.nn.Conv2d``.

    Examples
    --------
    >>> import torch, fftconv.torch as ftorch
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU())
    >>> ftorch.convert(net, backend="im2col")[0]
    Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1), backend='im2col')
    >>> type(ftorch.revert(net)[0]) is torch.nn.Conv2d
    True
    """
    func = "fftconv.torch.convert"
    _check_model(func, model)
    backend = _check_backend(func, backend)
    layers = [(name, m) for name, m in model.named_modules() if _swappable(m)]
    for name, layer in layers:                      # check all before changing any
        for pname, tensor in layer.named_parameters(recurse=False):
            where = f"model.{name}.{pname}" if name else f"model.{pname}"
            if tensor.device.type != "cpu":
                raise not_on_cpu(func, where, tensor.device)
            if tensor.dtype not in _NUMPY_DTYPES:
                raise bad_type(func, where, tensor, _DTYPES)
    for _, layer in layers:
        layer.__class__ = Conv2d
        layer.backend = backend
    return model


def revert(model):
    """Swap every :class:`Conv2d` of ``model`` back to ``torch.nn.Conv2d``, in place.

    The inverse of :func:`convert` (the ``backend`` attribute is dropped); returns
    ``model``.
    """
    _check_model("fftconv.torch.revert", model)
    for layer in model.modules():
        if type(layer) is Conv2d:
            layer.__class__ = torch.nn.Conv2d
            del layer.backend
    return model
