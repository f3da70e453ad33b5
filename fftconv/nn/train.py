"""Keras-like training loop: :func:`fit`, :func:`evaluate`, :func:`predict`.

One training step is ``forward → loss → backward → optimizer.step()`` on one
minibatch; an epoch visits every training example once, in an order drawn from
``seed``. Everything random in a run (initialisation, shuffling, dropout)
derives from seeds, so a run is reproducible and the same network trains to the
same numbers on every convolution backend.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from .. import set_backend
from ..optional import progress_bar
from ..checks import positive_int
from ..errors import bad_type, bad_value
from .data import minibatches
from .init import as_generator
from .losses import get_loss
from .module import Module
from .optim import Adam, Optimizer

__all__ = ["History", "fit", "evaluate", "predict"]


@dataclass
class History:
    """What :func:`fit` measured, one entry per epoch (``batch_loss``: per step).

    Attributes
    ----------
    loss, accuracy : list of float
        Mean training loss and accuracy over each epoch's minibatches (computed
        during the epoch, in training mode).
    val_loss, val_accuracy : list of float
        On ``validation_data`` after each epoch (empty without it).
    seconds : list of float
        Wall-clock seconds of each epoch's training steps (validation excluded).
    batch_loss : list of float
        The loss of every training step, in order.
    """

    loss: list = field(default_factory=list)
    accuracy: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    batch_loss: list = field(default_factory=list)

    @property
    def epochs(self) -> int:
        return len(self.loss)

    def as_dict(self) -> dict:
        """A JSON-ready dict of the lists."""
        return asdict(self)


def _check_xy(func: str, x, y):
    if not isinstance(x, np.ndarray) or x.ndim < 2 or len(x) == 0:
        raise bad_type(func, "x", x, "a non-empty numpy.ndarray with a batch axis, e.g. "
                                     "(N, C, H, W)")
    if not isinstance(y, np.ndarray) or len(y) != len(x):
        raise bad_value(func, "y", y, f"a numpy.ndarray of length len(x) = {len(x)}")
    # min and max propagate NaN: two passes, no boolean copy of the dataset
    if x.dtype.kind in "fc" and not (np.isfinite(x.min()) and np.isfinite(x.max())):
        first = int(np.argmax(~np.isfinite(x.reshape(len(x), -1)).all(axis=1)))
        raise bad_value(func, "x", x, f"finite values (sample {first} holds NaN or inf, "
                        "which would make every parameter NaN)")


def _correct(output: np.ndarray, target: np.ndarray) -> int:
    """Number of examples whose highest score is the target class."""
    labels = target if target.ndim == 1 else target.argmax(axis=1)
    return int(np.count_nonzero(output.argmax(axis=1) == labels))


@contextlib.contextmanager
def _mode(model: Module, training: bool):
    """Temporarily set ``model``'s training mode."""
    previous = model.training
    model.train(training)
    try:
        yield
    finally:
        model.train(previous)


def _is_dask_array(x) -> bool:
    """Without importing dask (no object is a dask array before dask is imported)."""
    import sys
    module = sys.modules.get("dask.array")
    return module is not None and isinstance(x, module.Array)


def _backend_scope(backend):
    return contextlib.nullcontext() if backend is None else set_backend(backend)


def _progress(total: int, desc: str, enabled):
    # enabled=None: only on a terminal (silent in logs and CI)
    return progress_bar(total, desc=desc, unit="img", enabled=enabled, leave=False,
                        notebook=True)


def fit(model: Module, x, y, *, epochs: int = 1, batch_size: int = 32,
        validation_data=None, shuffle: bool = True, seed=0, optimizer: Optimizer | None = None,
        loss="cross_entropy", backend=None, progress=None, on_epoch_end=None) -> History:
    """Train ``model`` on ``(x, y)`` with minibatch gradient descent.

    Parameters
    ----------
    model : Module
        Its output for a batch is ``(N, classes)`` scores.
    x : ndarray, shape (N, ...)
        Inputs; converted batch by batch to the model's dtype.
    y : ndarray, shape (N,) of int, or (N, classes) float
        Class labels (or targets for :class:`~fftconv.nn.MSELoss`).
    epochs : int
        Passes over the training data.
    batch_size : int
        Examples per step (the last step of an epoch may have fewer).
    validation_data : (x_val, y_val), optional
        Evaluated after every epoch (no training on it).
    shuffle : bool
        Visit examples in a fresh random order each epoch.
    seed : int or numpy.random.Generator
        Seeds the shuffling.
    optimizer : Optimizer, optional
        Default: ``Adam(model.parameters(), lr=1e-3)``.
    loss : str or Loss
        ``'cross_entropy'`` (default) or ``'mse'``, or a :class:`~fftconv.nn.Loss`.
    backend : str, optional
        Convolution backend for the whole run (as ``with fftconv.set_backend``);
        a layer's own ``backend=`` still wins.
    progress : bool, optional
        Show a progress bar on standard error; default: only when it is a
        terminal. Without tqdm (the ``progress`` extra), one plain line per step
        instead.
    on_epoch_end : callable, optional
        Called as ``on_epoch_end(epoch, history)`` (``epoch`` from 1) after each
        epoch, for example to print a line or save a checkpoint.

    Returns
    -------
    History
        Per-epoch ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``,
        ``seconds`` and the per-step ``batch_loss``.

    Raises
    ------
    ValueError
        ``x`` (or the validation inputs) holding NaN or inf, naming a sample.
    FloatingPointError
        A step's loss that is not finite (training diverged), naming the epoch
        and the batch; raised before that step's update, so the model keeps the
        parameters of the step before.

    Notes
    -----
    Each step computes the mean loss over the batch, backpropagates it through
    the layers (Bouvrie 2006: ``δ^{l-1} = (W^l)ᵀ δ^l ⊙ φ'(v^{l-1})`` in each layer's
    form) and lets the optimizer update the parameters. The first layer is asked
    not to compute the (unused) gradient with respect to the input images.

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv import nn
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((64, 4)).astype(np.float32)
    >>> y = (x[:, 0] > 0).astype(np.int64)
    >>> net = nn.Sequential(nn.Linear(4, 2, seed=0))
    >>> history = nn.fit(net, x, y, epochs=20, batch_size=16, progress=False,
    ...                  optimizer=nn.SGD(net, lr=0.5))
    >>> history.accuracy[-1] > 0.9, len(history.batch_loss)
    (True, 80)
    """
    func = "fit"
    if not isinstance(model, Module):
        raise bad_type(func, "model", model, "a fftconv.nn.Module")
    _check_xy(func, x, y)
    epochs = positive_int(func, "epochs", epochs)
    batch_size = positive_int(func, "batch_size", batch_size)
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise bad_type(func, "validation_data", validation_data, "a pair (x_val, y_val)")
        _check_xy(func, *validation_data)
    if optimizer is None:
        optimizer = Adam(model.parameters(), lr=1e-3)
    elif not isinstance(optimizer, Optimizer):
        raise bad_type(func, "optimizer", optimizer, "a fftconv.nn optimizer (SGD, Adam)")
    loss_fn = get_loss(loss)
    if on_epoch_end is not None and not callable(on_epoch_end):
        raise bad_type(func, "on_epoch_end", on_epoch_end, "a callable")
    rng = as_generator(func, seed)
    dtype = model.dtype
    history = History()
    with _backend_scope(backend), _mode(model, True):
        for epoch in range(1, epochs + 1):
            total_loss, correct = 0.0, 0
            bar = _progress(len(x), f"epoch {epoch}/{epochs}", progress)
            start = time.perf_counter()
            for batch, (xb, yb) in enumerate(minibatches(x, y, batch_size, shuffle=shuffle,
                                                         seed=rng), start=1):
                out = model.forward(xb.astype(dtype, copy=False))
                value = loss_fn(out, yb)
                if not math.isfinite(value):
                    bar.close()
                    raise FloatingPointError(
                        f"fit: the loss is {value} at epoch {epoch}, batch {batch} (of "
                        f"{-(-len(x) // batch_size)}): training diverged (try a smaller "
                        "learning rate); stopped before this step's update, so the model "
                        "keeps the parameters of the step before")
                optimizer.zero_grad()
                model.backward(loss_fn.backward(), input_grad=False)
                optimizer.step()
                history.batch_loss.append(value)
                total_loss += value * len(xb)
                correct += _correct(out, yb)
                bar.set_postfix(loss=f"{value:.4f}", refresh=False)
                bar.update(len(xb))
            history.seconds.append(time.perf_counter() - start)
            bar.close()
            history.loss.append(total_loss / len(x))
            history.accuracy.append(correct / len(x))
            if validation_data is not None:
                scores = evaluate(model, *validation_data, loss=loss_fn,
                                  batch_size=max(batch_size, 256))
                history.val_loss.append(scores["loss"])
                history.val_accuracy.append(scores["accuracy"])
            if on_epoch_end is not None:
                on_epoch_end(epoch, history)
    return history


def evaluate(model: Module, x, y, loss="cross_entropy", batch_size: int = 256,
             backend=None) -> dict:
    """Mean loss and accuracy of ``model`` on ``(x, y)``, in evaluation mode.

    Parameters
    ----------
    model : Module
    x : ndarray, shape (N, ...)
    y : ndarray, shape (N,) of int, or (N, classes)
    loss : str or Loss
    batch_size : int
        Examples per forward pass (memory only; the result does not depend on it).
    backend : str, optional

    Returns
    -------
    dict
        ``{"loss": float, "accuracy": float}`` (accuracy in ``[0, 1]``).

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv import nn
    >>> net = nn.Sequential(nn.Linear(2, 2, seed=0))
    >>> sorted(nn.evaluate(net, np.eye(2, dtype=np.float32), np.array([0, 1])))
    ['accuracy', 'loss']
    """
    _check_xy("evaluate", x, y)
    batch_size = positive_int("evaluate", "batch_size", batch_size)
    loss_fn = get_loss(loss)
    total, correct = 0.0, 0
    dtype = model.dtype
    with _backend_scope(backend), _mode(model, False):
        for xb, yb in minibatches(x, y, batch_size):
            out = model.forward(xb.astype(dtype, copy=False))
            total += loss_fn(out, yb) * len(xb)
            correct += _correct(out, yb)
    return {"loss": total / len(x), "accuracy": correct / len(x)}


def predict(model: Module, x, batch_size: int = 256, backend=None) -> np.ndarray:
    """The model's outputs (class scores) for ``x``, in evaluation mode.

    Parameters
    ----------
    model : Module
    x : ndarray or dask array, shape (N, ...)
        A dask array chunked along N gets a lazy result: each block is predicted
        in memory by a copy of the model, which is one key of the graph (sent
        once to a worker; :func:`fftconv.dask.predict`).
    batch_size : int
    backend : str, optional

    Returns
    -------
    ndarray (dask array for a dask ``x``), shape (N, classes)
        ``predict(model, x).argmax(axis=1)`` are the predicted classes.

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv import nn
    >>> nn.predict(nn.lenet5(), np.zeros((3, 1, 32, 32), np.float32)).shape
    (3, 10)
    """
    if _is_dask_array(x):
        from .. import dask as on_dask
        return on_dask.predict(model, x, batch_size, backend, run=predict)
    if not isinstance(x, np.ndarray) or x.ndim < 2 or len(x) == 0:
        raise bad_type("predict", "x", x, "a non-empty numpy.ndarray with a batch axis")
    batch_size = positive_int("predict", "batch_size", batch_size)
    dtype = model.dtype
    with _backend_scope(backend), _mode(model, False):
        outs = [model.forward(x[i:i + batch_size].astype(dtype, copy=False))
                for i in range(0, len(x), batch_size)]
    return np.concatenate(outs)
