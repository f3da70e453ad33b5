"""``Parameter`` and ``Module``: the building blocks of the trainer.

A :class:`Module` computes ``forward(x)`` and, from the gradient of the loss with
respect to its output, ``backward(dy)``: it *adds* the gradients of its own
parameters into their ``grad`` arrays and returns the gradient with respect to
its input (Bouvrie's backpropagation, layer by layer). Modules keep whatever
``backward`` needs from the last ``forward`` call, so one forward must precede
each backward.

Submodules and parameters assigned as attributes are registered in assignment
order (as in PyTorch), which fixes the order and the dotted names of
:meth:`Module.named_parameters` and :meth:`Module.state_dict`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np

from ..errors import bad_type, bad_value

__all__ = ["Parameter", "Module", "no_weights_error"]

_FLOAT_DTYPES = "float32 or float64"


def check_float_dtype(func: str, dtype) -> np.dtype:
    """``dtype`` as a ``np.dtype`` if it is float32 or float64, else a clear error."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise bad_type(func, "dtype", dtype, _FLOAT_DTYPES) from None
    if dt not in (np.float32, np.float64):
        raise bad_value(func, "dtype", dt.name, _FLOAT_DTYPES)
    return dt


class Parameter:
    """A trainable array and the gradient accumulated for it.

    Parameters
    ----------
    data : ndarray
        The value, float32 or float64. Stored as a C-contiguous copy.

    Attributes
    ----------
    data : ndarray or None
        The value; optimizers update it in place. ``None`` for a shape-only
        parameter (:meth:`shape_only`).
    grad : ndarray or None
        Same shape and dtype as ``data``; backward passes add into it and
        :meth:`Module.zero_grad` clears it. ``None`` when ``data`` is.

    See Also
    --------
    torch.nn.parameter.Parameter : PyTorch's (its gradient is ``.grad`` too).

    Examples
    --------
    >>> import numpy as np
    >>> p = Parameter(np.ones((2, 3), np.float32))
    >>> p
    Parameter(shape=(2, 3), dtype=float32)
    >>> p.grad.sum()
    np.float32(0.0)
    >>> Parameter.shape_only((4096, 25088), "float32")
    Parameter(shape=(4096, 25088), dtype=float32, shape only)
    """

    __slots__ = ("data", "grad", "_shape", "_dtype")

    def __init__(self, data):
        if not isinstance(data, np.ndarray):
            raise bad_type("Parameter", "data", data, "a numpy.ndarray")
        check_float_dtype("Parameter", data.dtype)
        self.data = np.array(data, order="C")
        self.grad = np.zeros_like(self.data)
        self._shape, self._dtype = self.data.shape, self.data.dtype

    @classmethod
    def shape_only(cls, shape, dtype) -> "Parameter":
        """A parameter with a shape and a dtype but no arrays (for counting only).

        Parameters
        ----------
        shape : tuple of int
            Shape the value would have.
        dtype : {float32, float64}

        Returns
        -------
        Parameter
            ``data`` and ``grad`` are ``None``; ``shape``, ``size`` and ``dtype``
            are those of the array it stands for, so layer geometry and parameter
            counts work while nothing of size ``prod(shape)`` is allocated.
        """
        param = cls.__new__(cls)
        param.data = param.grad = None
        param._shape = tuple(int(s) for s in shape)
        param._dtype = check_float_dtype("Parameter.shape_only", dtype)
        return param

    @property
    def allocated(self) -> bool:
        """Whether the parameter holds its value (false for :meth:`shape_only`)."""
        return self.data is not None

    # The array, when there is one, is the truth: optimizers and checkpoints may
    # rebind ``data``; ``_shape`` / ``_dtype`` describe shape-only parameters.
    @property
    def shape(self) -> tuple:
        return self._shape if self.data is None else self.data.shape

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.data is None else self.data.size

    @property
    def dtype(self) -> np.dtype:
        return self._dtype if self.data is None else self.data.dtype

    def zero_grad(self) -> None:
        """Set the accumulated gradient to zero (in place; nothing to do if shape-only)."""
        if self.grad is not None:
            self.grad[...] = 0

    def astype(self, dtype) -> None:
        """Convert value and gradient to ``dtype`` (in place)."""
        self._dtype = np.dtype(dtype)
        if self.data is not None:
            self.data = self.data.astype(dtype)
            self.grad = self.grad.astype(dtype)

    def __repr__(self) -> str:
        only = "" if self.allocated else ", shape only"
        return f"Parameter(shape={self.shape}, dtype={self.dtype}{only})"


def no_weights_error(func: str, layer: str) -> RuntimeError:
    """The error of running a layer built with ``allocate=False``.

    ``func`` is the method called (``'Sequential.forward'``), ``layer`` names the
    layer (its dotted name in a model, or its type).
    """
    return RuntimeError(f"{func}: layer {layer} has no weights: it was built with "
                        "allocate=False (shapes only, for counting); build it with "
                        "allocate=True to run it")


class Module:
    """Base class of every layer and model.

    Subclasses implement :meth:`forward` and :meth:`backward`, assign their
    :class:`Parameter` objects and submodules as attributes, and may override
    :meth:`extra_repr`, :meth:`output_shape` and :meth:`counts` (used by
    :func:`~fftconv.nn.summary`). Layers with parameters take ``allocate=False``
    to be built shape-only (:meth:`Parameter.shape_only`): such a model can be
    described and counted, not run; :meth:`check_allocated` names what is missing.

    Attributes
    ----------
    training : bool
        ``True`` in training mode (the default), ``False`` after :meth:`eval`.
        Only layers such as :class:`~fftconv.nn.Dropout` behave differently.

    See Also
    --------
    torch.nn.Module : PyTorch's base class, whose interface this follows.

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv import nn
    >>> layer = nn.Linear(3, 2, seed=0)
    >>> [name for name, _ in layer.named_parameters()]
    ['weight', 'bias']
    >>> layer.eval().training
    False
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise TypeError(f"{type(self).__name__}.__init__ must call super().__init__() "
                            "before assigning attributes")
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    # -- computation -----------------------------------------------------------
    def forward(self, x: np.ndarray) -> np.ndarray:
        """The layer's output for input ``x``; keeps what :meth:`backward` needs."""
        raise NotImplementedError

    def backward(self, dy: np.ndarray, input_grad: bool = True):
        """Add parameter gradients for output gradient ``dy``; return ``dL/dx``.

        Parameters
        ----------
        dy : ndarray
            Gradient of the loss with respect to the output of the last
            :meth:`forward` call (same shape).
        input_grad : bool
            When ``False`` the caller does not need ``dL/dx`` (the first layer of
            a network): layers may skip computing it and return ``None``.
        """
        raise NotImplementedError

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    # -- structure -------------------------------------------------------------
    def children(self) -> Iterator["Module"]:
        """The direct submodules, in registration order."""
        return iter(self._modules.values())

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        return iter(self._modules.items())

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        """This module (name ``prefix``) and all submodules, depth first, dotted names."""
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, Parameter)`` pairs: own parameters first, then submodules'."""
        for name, param in self._parameters.items():
            yield (f"{prefix}.{name}" if prefix else name), param
        for name, child in self._modules.items():
            yield from child.named_parameters(f"{prefix}.{name}" if prefix else name)

    def parameters(self) -> list[Parameter]:
        """Every trainable :class:`Parameter`, in :meth:`named_parameters` order."""
        return [param for _, param in self.named_parameters()]

    def num_parameters(self) -> int:
        """Number of trainable scalars (layers may exclude entries held at zero)."""
        return (sum(param.size for param in self._parameters.values())
                + sum(child.num_parameters() for child in self._modules.values()))

    @property
    def allocated(self) -> bool:
        """Whether every parameter holds its value (false after ``allocate=False``)."""
        return all(param.allocated for param in self.parameters())

    def check_allocated(self, func: str) -> None:
        """Raise :func:`no_weights_error` naming the first layer without weights.

        ``func`` is the caller quoted in the message (``'Sequential.forward'``).
        """
        for name, param in self.named_parameters():
            if not param.allocated:
                owner = name.rpartition(".")[0]
                layer = self if not owner else dict(self.named_modules())[owner]
                label = f"{owner!r} ({type(layer).__name__})" if owner else type(layer).__name__
                raise no_weights_error(func, label)

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the parameters (float64 for a module without any)."""
        params = self.parameters()
        return params[0].dtype if params else np.dtype(np.float64)

    def astype(self, dtype) -> "Module":
        """Convert every parameter to ``dtype`` (float32 or float64), in place; returns self."""
        dt = check_float_dtype(f"{type(self).__name__}.astype", dtype)
        for param in self.parameters():
            param.astype(dt)
        return self

    # -- modes and gradients ---------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Set training mode on this module and every submodule; returns self."""
        for _, module in self.named_modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> "Module":
        """Set evaluation mode (``train(False)``); returns self."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Set the gradient of every parameter to zero."""
        for param in self.parameters():
            param.zero_grad()

    # -- state -----------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter value, keyed by dotted name, in model order.

        Examples
        --------
        >>> from fftconv import nn
        >>> {k: v.shape for k, v in nn.Linear(3, 2).state_dict().items()}
        {'weight': (2, 3), 'bias': (2,)}
        """
        self.check_allocated(f"{type(self).__name__}.state_dict")
        return {name: param.data.copy() for name, param in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, np.ndarray], strict: bool = True) -> None:
        """Copy values from ``state`` into the parameters (keeping their dtype).

        Parameters
        ----------
        state : mapping of str to ndarray
            As returned by :meth:`state_dict`.
        strict : bool
            If true, ``state`` must hold exactly this module's parameter names.

        Raises
        ------
        TypeError
            If ``state`` is not a mapping or a value is not an array.
        ValueError
            On missing or unexpected names (``strict``) or a shape mismatch; the
            message lists them. Nothing is changed when an error is raised.
        RuntimeError
            If the module was built shape-only (``allocate=False``).
        """
        func = f"{type(self).__name__}.load_state_dict"
        self.check_allocated(func)
        if not isinstance(state, Mapping):
            raise bad_type(func, "state", state, "a mapping of parameter names to arrays")
        params = dict(self.named_parameters())
        if strict:
            missing = [name for name in params if name not in state]
            unexpected = [name for name in state if name not in params]
            if missing or unexpected:
                raise bad_value(func, "state", f"keys missing {missing}, unexpected {unexpected}",
                                f"a state with exactly the keys {list(params)}")
        for name, param in params.items():
            if name not in state:
                continue
            value = state[name]
            if not isinstance(value, np.ndarray):
                raise bad_type(func, f"state[{name!r}]", value, "a numpy.ndarray")
            if value.shape != param.shape:
                raise bad_value(func, f"state[{name!r}]", value,
                                f"an array of shape {param.shape}")
        for name, param in params.items():
            if name in state:
                param.data[...] = state[name]

    # -- description -----------------------------------------------------------
    def extra_repr(self) -> str:
        """Hyper-parameters shown inside ``Layer(...)`` by ``repr``."""
        return ""

    def output_shape(self, input_shape: tuple) -> tuple:
        """Output shape for an input of ``input_shape`` (default: unchanged)."""
        return tuple(input_shape)

    def counts(self, input_shape: tuple) -> tuple[int, int]:
        """``(multiply-adds, connections)`` of one forward pass on ``input_shape``.

        Multiply-adds count the products summed into the outputs; connections
        follow LeCun et al. (1998): every input an output unit reads, its bias
        included. Both are zero for layers without weights (default).
        """
        return 0, 0

    def __repr__(self) -> str:
        children = list(self._modules.items())
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}("]
        for name, child in children:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        lines.append(")")
        return "\n".join(lines)
