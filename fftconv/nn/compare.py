"""Seconds per epoch on every backend next to the same network in PyTorch.

:func:`compare_epoch_times` trains one model from the same initial weights on
the same minibatches (same seed, same order, same batch size) once per fftconv
backend and once in PyTorch on the CPU, in one process, with the same thread
limit, and reports the median seconds per epoch. The final training loss of
each entry is reported too: the entries compute the same training run, so the
losses agree closely (float rounding; dropout masks differ in PyTorch), which
shows that like is compared with like.

PyTorch is optional: it is imported only here, and a clear error says so when
it is missing.
"""

from __future__ import annotations

import time

import numpy as np

from .. import available_backends
from ..checks import positive_int
from ..optional import require
from .data import minibatches
from .layers import (AvgPool2d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU,
                     Sequential, Sigmoid, Subsample2d, Tanh)
from .losses import CrossEntropyLoss
from .models import build_model
from .optim import Adam
from .train import fit

__all__ = ["compare_epoch_times", "format_comparison", "to_torch"]


def _import_torch(func: str):
    # the bench extra pins torch exactly (an unpinned one is a multi-GB CUDA build)
    return require("torch", "bench", func)


def to_torch(model: Sequential):
    """The same network as a ``torch.nn.Sequential``, with copies of the weights.

    Every layer type of :mod:`fftconv.nn` is mapped to its PyTorch equivalent;
    LeNet's trainable subsampling, the scaled tanh and partial connection tables
    become small custom modules. The dtype follows ``model``.
    """
    torch = _import_torch("to_torch")
    F = torch.nn.functional
    dtype = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[
        model.dtype]

    def param(array):
        return torch.nn.Parameter(torch.tensor(np.array(array), dtype=dtype))

    class TorchConv(torch.nn.Module):
        def __init__(self, layer: Conv2d):
            super().__init__()
            spec = layer._probe
            (top, bottom), (left, right) = spec.padding
            self.pad = (left, right, top, bottom)
            self.kwargs = dict(stride=spec.stride, dilation=spec.dilation,
                               groups=spec.groups)
            self.weight = param(layer.filters())
            self.bias = None if layer.bias is None else param(layer.bias.data)
            self.register_buffer("mask", None if layer.mask is None
                                 else torch.tensor(layer.mask, dtype=dtype))

        def forward(self, x):
            w = self.weight if self.mask is None else self.weight * self.mask
            if any(self.pad):
                x = F.pad(x, self.pad)
            return F.conv2d(x, w, self.bias, **self.kwargs)

    class TorchSubsample(torch.nn.Module):
        def __init__(self, layer: Subsample2d):
            super().__init__()
            self.k = layer.kernel_size
            self.weight, self.bias = param(layer.weight.data), param(layer.bias.data)

        def forward(self, x):
            area = self.k[0] * self.k[1]
            pooled = F.avg_pool2d(x, self.k, self.k) * area
            return pooled * self.weight[:, None, None] + self.bias[:, None, None]

    class TorchTanh(torch.nn.Module):
        def __init__(self, layer: Tanh):
            super().__init__()
            self.amplitude, self.slope = layer.amplitude, layer.slope

        def forward(self, x):
            return self.amplitude * torch.tanh(self.slope * x)

    def convert(layer):
        if isinstance(layer, Conv2d):
            return TorchConv(layer)
        if isinstance(layer, Subsample2d):
            return TorchSubsample(layer)
        if isinstance(layer, Tanh):
            return TorchTanh(layer)
        if isinstance(layer, Linear):
            out = torch.nn.Linear(layer.in_features, layer.out_features,
                                  bias=layer.bias is not None, dtype=dtype)
            with torch.no_grad():
                out.weight.copy_(torch.tensor(layer.weight.data))
                if layer.bias is not None:
                    out.bias.copy_(torch.tensor(layer.bias.data))
            return out
        if isinstance(layer, MaxPool2d):
            return torch.nn.MaxPool2d(layer.kernel_size, layer.stride)
        if isinstance(layer, AvgPool2d):
            return torch.nn.AvgPool2d(layer.kernel_size, layer.stride)
        simple = {ReLU: torch.nn.ReLU, Sigmoid: torch.nn.Sigmoid, Flatten: torch.nn.Flatten}
        if type(layer) in simple:
            return simple[type(layer)]()
        if isinstance(layer, Dropout):
            return torch.nn.Dropout(layer.p)
        if isinstance(layer, Sequential):
            return torch.nn.Sequential(*(convert(child) for child in layer))
        raise NotImplementedError(f"to_torch: no PyTorch equivalent for {type(layer).__name__}")

    return convert(model)


def _torch_epochs(model, x, y, epochs, batch_size, seed, lr, threads):
    """Train the PyTorch copy with the same batches; per-epoch seconds and losses."""
    torch = _import_torch("compare_epoch_times")
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        net = to_torch(model)
        net.train()
        opt = torch.optim.Adam(net.parameters(), lr=lr)
        loss_fn = torch.nn.CrossEntropyLoss()
        rng = np.random.default_rng(seed)
        seconds, losses = [], []
        for _ in range(epochs):
            total = 0.0
            start = time.perf_counter()
            for xb, yb in minibatches(x, y, batch_size, shuffle=True, seed=rng):
                tx, ty = torch.from_numpy(np.ascontiguousarray(xb)), torch.from_numpy(yb)
                opt.zero_grad()
                loss = loss_fn(net(tx), ty)
                loss.backward()
                opt.step()
                total += loss.item() * len(xb)
            seconds.append(time.perf_counter() - start)
            losses.append(total / len(x))
        return seconds, losses
    finally:
        torch.set_num_threads(previous)


def compare_epoch_times(x, y, model: str = "lenet5", *, backends=None, batch_size: int = 32,
                        epochs: int = 2, threads: int = 2, seed: int = 0, lr: float = 1e-3,
                        torch: bool = True, model_kwargs=None, report=None) -> list[dict]:
    """Seconds per training epoch of one model on each backend and in PyTorch.

    Parameters
    ----------
    x, y : ndarray
        Training images ``(N, C, H, W)`` and labels ``(N,)``.
    model : str
        A name from :data:`~fftconv.nn.MODELS`.
    backends : sequence of str, optional
        Default: every registered backend.
    batch_size, epochs : int
        The same for every entry; the median over ``epochs`` is reported.
    threads : int
        BLAS / FFT threads for fftconv (threadpoolctl) and ``torch.set_num_threads``.
    seed : int
        Initialisation and shuffling seed, identical for every entry.
    lr : float
        Adam step size.
    torch : bool
        Include PyTorch (raises ``ImportError`` with a clear message when missing).
    model_kwargs : dict, optional
        Extra arguments of the model builder (``dtype``, ``partial_connections``...).
    report : callable, optional
        Called with each finished row (for progress output).

    Returns
    -------
    list of dict
        One row per entry: ``name``, ``seconds`` (per epoch), ``median``
        (seconds per epoch) and ``loss`` (training loss per epoch).
    """
    from threadpoolctl import threadpool_limits

    threads = positive_int("compare_epoch_times", "threads", threads)
    backends = list(backends or available_backends())
    model_kwargs = dict(model_kwargs or {})
    if torch:
        _import_torch("compare_epoch_times")        # fail before the long fftconv runs, not after
    rows = []

    def add(name, seconds, losses):
        row = {"name": name, "seconds": seconds, "median": float(np.median(seconds)),
               "loss": losses}
        rows.append(row)
        if report is not None:
            report(row)

    with threadpool_limits(limits=threads):
        for name in backends:
            net = build_model(model, seed=seed, **model_kwargs)
            history = fit(net, x, y, epochs=epochs, batch_size=batch_size, seed=seed,
                          optimizer=Adam(net.parameters(), lr=lr), loss=CrossEntropyLoss(),
                          backend=name, progress=False)
            add(name, history.seconds, history.loss)
    if torch:
        net = build_model(model, seed=seed, **model_kwargs)
        add("torch", *_torch_epochs(net, x, y, epochs, batch_size, seed, lr, threads))
    return rows


def format_comparison(rows, batch_size: int | None = None, threads: int | None = None) -> str:
    """Plain-text table: median seconds per epoch, ratio to the fastest, final loss."""
    best = min(row["median"] for row in rows)
    width = max(len(row["name"]) for row in rows)
    lines = [f"{'entry':<{width}}  {'s/epoch':>9}  {'ratio':>7}  {'final loss':>10}"]
    for row in rows:
        lines.append(f"{row['name']:<{width}}  {row['median']:>9.3f}  "
                     f"{row['median'] / best:>6.2f}x  {row['loss'][-1]:>10.5f}")
    context = []
    if batch_size:
        context.append(f"batch size {batch_size}")
    if threads:
        context.append(f"{threads} threads")
    lines.append("median seconds per training epoch"
                 + (f" ({', '.join(context)})" if context else "")
                 + "; ratio = time / fastest; same initial weights and batches for all")
    return "\n".join(lines)
