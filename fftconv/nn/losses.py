"""Losses: softmax cross-entropy and Bouvrie's squared error.

A loss is called as ``loss(output, target)`` and returns the mean loss over the
batch as a Python float; :meth:`Loss.backward` then returns the gradient with
respect to ``output`` (the ``δ`` of the last layer) in ``output``'s dtype.
"""

from __future__ import annotations

import numpy as np

from ..errors import bad_type, bad_value

__all__ = ["Loss", "CrossEntropyLoss", "MSELoss", "log_softmax", "softmax", "get_loss"]


def log_softmax(z: np.ndarray) -> np.ndarray:
    """Numerically stable ``log softmax`` along the last axis.

    See Also
    --------
    scipy.special.log_softmax : the same, with an ``axis`` argument.
    torch.nn.functional.log_softmax : PyTorch's (``dim=-1``).

    Notes
    -----
    ``log softmax(z)_k = (z_k - m) - log Σ_j exp(z_j - m)`` with ``m = max_j z_j``:
    every exponent is ``<= 0``, so nothing overflows, and at least one term of the
    sum is 1, so the logarithm never sees 0 (Goodfellow et al. 2016, §4.1).

    Examples
    --------
    >>> import numpy as np
    >>> np.exp(log_softmax(np.array([1000.0, 1000.0])))
    array([0.5, 0.5])
    """
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(z: np.ndarray) -> np.ndarray:
    """``exp(z_k) / Σ_j exp(z_j)`` along the last axis, computed stably.

    See Also
    --------
    scipy.special.softmax : the same, with an ``axis`` argument.
    torch.nn.functional.softmax : PyTorch's (``dim=-1``).

    Examples
    --------
    >>> import numpy as np
    >>> softmax(np.array([[0.0, np.log(3.0)]]))
    array([[0.25, 0.75]])
    """
    return np.exp(log_softmax(z))


def _check_labels(func: str, labels, n: int, classes: int) -> np.ndarray:
    if not isinstance(labels, np.ndarray) or labels.dtype.kind not in "iu":
        raise bad_type(func, "target", labels, "an integer array of class labels")
    if labels.shape != (n,):
        raise bad_value(func, "target", labels, f"an array of shape (N,) = ({n},)")
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise bad_value(func, "target", labels, f"labels in [0, {classes})")
    return labels


def _check_output(func: str, output) -> np.ndarray:
    if not isinstance(output, np.ndarray) or output.dtype not in (np.float32, np.float64):
        raise bad_type(func, "output", output, "a float32 or float64 ndarray")
    if output.ndim != 2 or output.shape[0] == 0:
        raise bad_value(func, "output", output, "a non-empty 2-d array (N, classes)")
    return output


class Loss:
    """Base class: ``loss(output, target) -> float``, then ``backward() -> dL/doutput``."""

    name = ""

    def __init__(self):
        self._grad = None

    def __call__(self, output, target) -> float:
        return self.forward(output, target)

    def forward(self, output, target) -> float:
        raise NotImplementedError

    def backward(self) -> np.ndarray:
        """Gradient of the last loss value with respect to ``output``."""
        if self._grad is None:
            raise RuntimeError(f"{type(self).__name__}.backward: call the loss first")
        return self._grad

    def __repr__(self):
        return f"{type(self).__name__}()"


class CrossEntropyLoss(Loss):
    """Softmax cross-entropy on raw scores (logits), averaged over the batch.

    See Also
    --------
    torch.nn.CrossEntropyLoss : the same value and gradient (``reduction='mean'``).
    torch.nn.functional.cross_entropy : its functional form.

    Notes
    -----
    For logits ``z`` of shape ``(N, K)`` and labels ``t``::

        L = -(1/N) Σ_n log softmax(z_n)[t_n]
        ∂L/∂z_n = (softmax(z_n) - onehot(t_n)) / N

    The log-softmax is computed stably (:func:`log_softmax`), so logits of any
    size give a finite loss (Bishop 2006, §4.3.4).

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv import nn
    >>> loss = nn.CrossEntropyLoss()
    >>> round(loss(np.zeros((2, 4)), np.array([0, 3])), 6)      # log 4
    1.386294
    >>> loss.backward()
    array([[-0.375,  0.125,  0.125,  0.125],
           [ 0.125,  0.125,  0.125, -0.375]])
    """

    name = "cross_entropy"

    def forward(self, output, target):
        z = _check_output("CrossEntropyLoss", output)
        n, k = z.shape
        labels = _check_labels("CrossEntropyLoss", target, n, k)
        logp = log_softmax(z)
        rows = np.arange(n)
        grad = np.exp(logp)
        grad[rows, labels] -= 1
        grad /= np.asarray(n, dtype=z.dtype)
        self._grad = grad
        return float(-logp[rows, labels].sum(dtype=np.float64) / n)


class MSELoss(Loss):
    """Squared error ``E = ½‖d − y‖²`` per example, averaged over the batch (Bouvrie 2006).

    The target ``d`` is either an array shaped like the output or integer class
    labels, which become one-of-K vectors (1 for the class, 0 elsewhere).

    See Also
    --------
    torch.nn.MSELoss : the mean over *all* ``N·K`` elements without the ½, so
        its value is ``2/K`` times this one.

    Notes
    -----
    ``L = (1/N) Σ_n ½ Σ_k (y_nk − d_nk)²`` and ``∂L/∂y = (y − d)/N``
    (Bouvrie's output-layer sensitivity; LeCun et al. 1998 train LeNet-5 with a
    squared-error criterion as well).

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv import nn
    >>> loss = nn.MSELoss()
    >>> loss(np.array([[1.0, 0.0]]), np.array([[0.0, 2.0]]))
    2.5
    >>> loss.backward()
    array([[ 1., -2.]])
    """

    name = "mse"

    def forward(self, output, target):
        y = _check_output("MSELoss", output)
        n, k = y.shape
        if isinstance(target, np.ndarray) and target.dtype.kind in "iu":
            labels = _check_labels("MSELoss", target, n, k)
            d = np.zeros_like(y)
            d[np.arange(n), labels] = 1
        elif isinstance(target, np.ndarray) and target.dtype.kind == "f":
            if target.shape != y.shape:
                raise bad_value("MSELoss", "target", target,
                                f"integer labels (N,) or an array of the output's shape {y.shape}")
            d = target.astype(y.dtype, copy=False)
        else:
            raise bad_type("MSELoss", "target", target,
                           "an integer label array or a float array shaped like the output")
        diff = y - d
        self._grad = diff / np.asarray(n, dtype=y.dtype)
        return float(0.5 * np.sum(np.square(diff, dtype=np.float64)) / n)


LOSSES = {"cross_entropy": CrossEntropyLoss, "mse": MSELoss}


def get_loss(loss) -> Loss:
    """A :class:`Loss` from an instance or a name (``'cross_entropy'``, ``'mse'``)."""
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, str) and loss in LOSSES:
        return LOSSES[loss]()
    raise bad_value("get_loss", "loss", loss,
                    f"a Loss instance or one of {', '.join(map(repr, LOSSES))}")
