"""Optimizers: SGD with momentum and weight decay, and Adam.

Both follow PyTorch's update rules exactly (so the same network trained with the
same data order gives the same numbers, up to rounding) and update the
parameters in place, in the parameters' dtype.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..errors import bad_type, bad_value
from .module import Module, Parameter

__all__ = ["Optimizer", "SGD", "Adam"]


def _real(func: str, name: str, value, low: float, high: float = np.inf,
          include_low: bool = True) -> float:
    interval = f"{'[' if include_low else '('}{low:g}, {high:g})"
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise bad_type(func, name, value, f"a real number in {interval}")
    ok = (low <= value if include_low else low < value) and value < high
    if not ok:
        raise bad_value(func, name, value, f"a real number in {interval}")
    return float(value)


class Optimizer:
    """Base class: holds the parameters, ``step()`` updates them, ``zero_grad()`` clears."""

    def __init__(self, params):
        func = type(self).__name__
        if isinstance(params, Module):
            params = params.parameters()
        try:
            params = list(params)
        except TypeError:
            raise bad_type(func, "params", params,
                           "a Module or an iterable of Parameter") from None
        if not params or not all(isinstance(p, Parameter) for p in params):
            raise bad_value(func, "params", params,
                            "a Module or a non-empty iterable of Parameter")
        if not all(p.allocated for p in params):
            raise bad_value(func, "params", [p for p in params if not p.allocated],
                            "parameters with values (these were built with allocate=False)")
        self.params = params
        self.steps = 0

    def zero_grad(self) -> None:
        """Set every parameter's gradient to zero."""
        for p in self.params:
            p.zero_grad()

    def step(self) -> None:
        """Update every parameter from its ``grad``."""
        self.steps += 1
        for i, p in enumerate(self.params):
            self._update(i, p)

    def _update(self, index: int, param: Parameter) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, Nesterov momentum and weight decay.

    Parameters
    ----------
    params : Module or iterable of Parameter
    lr : float
        Learning rate ``η > 0``.
    momentum : float
        ``μ`` in ``[0, 1)``.
    weight_decay : float
        L2 coefficient ``λ >= 0``, added to the gradient.
    nesterov : bool
        Use Nesterov's look-ahead form.

    See Also
    --------
    torch.optim.SGD : the same update, parameter for parameter (``dampening=0``).

    Notes
    -----
    PyTorch's form (Sutskever et al. 2013)::

        g ← ∇θ + λ θ
        v ← μ v + g                   (v starts at 0)
        θ ← θ − η (g + μ v)  if nesterov  else  θ − η v

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv import nn
    >>> p = nn.Parameter(np.array([1.0]))
    >>> opt = nn.SGD([p], lr=0.1, momentum=0.9)
    >>> p.grad[:] = 1.0
    >>> opt.step(); opt.step()
    >>> p.data             # 1 - 0.1·1 - 0.1·1.9
    array([0.71])
    """

    def __init__(self, params, lr=0.01, momentum=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params)
        self.lr = _real("SGD", "lr", lr, 0, include_low=False)
        self.momentum = _real("SGD", "momentum", momentum, 0, 1)
        self.weight_decay = _real("SGD", "weight_decay", weight_decay, 0)
        if nesterov and self.momentum == 0:
            raise bad_value("SGD", "nesterov", nesterov, "False when momentum is 0")
        self.nesterov = bool(nesterov)
        self._velocity = [np.zeros_like(p.data) for p in self.params] if self.momentum else None

    def _update(self, index, param):
        dt = param.dtype
        g = param.grad
        if self.weight_decay:
            g = g + np.asarray(self.weight_decay, dt) * param.data
        if self._velocity is not None:
            v = self._velocity[index]
            v *= np.asarray(self.momentum, dt)
            v += g
            g = g + np.asarray(self.momentum, dt) * v if self.nesterov else v
        param.data -= np.asarray(self.lr, dt) * g

    def __repr__(self):
        return (f"SGD(lr={self.lr:g}, momentum={self.momentum:g}, "
                f"weight_decay={self.weight_decay:g}, nesterov={self.nesterov})")


class Adam(Optimizer):
    """Adam: per-parameter step sizes from running moments of the gradient.

    Parameters
    ----------
    params : Module or iterable of Parameter
    lr : float
        Step size ``α > 0`` (default 1e-3).
    betas : (float, float)
        Decay rates ``(β₁, β₂)`` of the first and second moment, each in ``[0, 1)``.
    eps : float
        ``ε > 0`` added to the denominator.
    weight_decay : float
        L2 coefficient ``λ >= 0``, added to the gradient (Adam, not AdamW).

    See Also
    --------
    torch.optim.Adam : the same update (``amsgrad=False``).

    Notes
    -----
    Kingma & Ba (2015), Algorithm 1, in PyTorch's arithmetic (``t`` counts steps)::

        g ← ∇θ + λ θ
        m ← β₁ m + (1 − β₁) g,      v ← β₂ v + (1 − β₂) g²
        θ ← θ − (α / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv import nn
    >>> p = nn.Parameter(np.array([1.0, -1.0]))
    >>> opt = nn.Adam([p], lr=0.1)
    >>> p.grad[:] = [3.0, -0.5]
    >>> opt.step()
    >>> p.data           # the first step moves every coordinate by about lr
    array([ 0.9, -0.9])
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params)
        self.lr = _real("Adam", "lr", lr, 0, include_low=False)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise bad_type("Adam", "betas", betas, "a pair of real numbers in [0, 1)")
        self.betas = tuple(_real("Adam", "betas", b, 0, 1) for b in betas)
        self.eps = _real("Adam", "eps", eps, 0, include_low=False)
        self.weight_decay = _real("Adam", "weight_decay", weight_decay, 0)
        self._m = [np.zeros_like(p.data) for p in self.params]
        self._v = [np.zeros_like(p.data) for p in self.params]

    def _update(self, index, param):
        dt = param.dtype
        (b1, b2), t = self.betas, self.steps
        g = param.grad
        if self.weight_decay:
            g = g + np.asarray(self.weight_decay, dt) * param.data
        m, v = self._m[index], self._v[index]
        m *= np.asarray(b1, dt)
        m += np.asarray(1 - b1, dt) * g
        v *= np.asarray(b2, dt)
        v += np.asarray(1 - b2, dt) * (g * g)
        denom = np.sqrt(v) / np.asarray(np.sqrt(1 - b2 ** t), dt) + np.asarray(self.eps, dt)
        param.data -= np.asarray(self.lr / (1 - b1 ** t), dt) * (m / denom)

    def __repr__(self):
        return (f"Adam(lr={self.lr:g}, betas={self.betas}, eps={self.eps:g}, "
                f"weight_decay={self.weight_decay:g})")
