"""``summary(model, input_shape)``: a per-layer table of shapes, parameters and costs."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from ..errors import bad_type, bad_value
from ..text import format_bytes
from .module import Module

__all__ = ["LayerSummary", "Summary", "summary"]


@dataclass(frozen=True)
class LayerSummary:
    """One row of a :class:`Summary` (counts for the whole input batch)."""

    name: str
    kind: str
    output_shape: tuple
    params: int
    macs: int
    connections: int
    activation_bytes: int


@dataclass(frozen=True)
class Summary:
    """Per-layer rows and totals; ``str(summary)`` is a plain-text table."""

    input_shape: tuple
    rows: tuple

    @property
    def params(self) -> int:
        return sum(r.params for r in self.rows)

    @property
    def macs(self) -> int:
        return sum(r.macs for r in self.rows)

    @property
    def connections(self) -> int:
        return sum(r.connections for r in self.rows)

    @property
    def activation_bytes(self) -> int:
        return sum(r.activation_bytes for r in self.rows)

    def __getitem__(self, name: str) -> LayerSummary:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(name)

    def __str__(self) -> str:
        header = ("layer", "type", "output shape", "params", "MACs", "connections",
                  "activations")
        lines = [(r.name, r.kind, str(r.output_shape), f"{r.params:,}", f"{r.macs:,}",
                  f"{r.connections:,}", format_bytes(r.activation_bytes)) for r in self.rows]
        lines.append(("total", "", "", f"{self.params:,}", f"{self.macs:,}",
                      f"{self.connections:,}", format_bytes(self.activation_bytes)))
        widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]
        fmt = "  ".join(f"{{:<{w}}}" if i < 3 else f"{{:>{w}}}" for i, w in enumerate(widths))
        rule = fmt.format(*("-" * w for w in widths))
        body = [fmt.format(*line) for line in lines]
        return "\n".join([f"input {self.input_shape}", fmt.format(*header), rule,
                          *body[:-1], rule, body[-1]])




def _leaves(model: Module):
    leaves = [(name, m) for name, m in model.named_modules() if not m._modules]
    return leaves or [("", model)]


def summary(model: Module, input_shape) -> Summary:
    """Output shape, parameters, multiply-adds and activation memory of each layer.

    Parameters
    ----------
    model : Module
        A :class:`~fftconv.nn.Sequential` (possibly nested) or a single layer;
        its leaf layers are listed in the order they run. Models built shape-only
        (``allocate=False``) are summarised the same way.
    input_shape : tuple of int
        Shape of one input batch, e.g. ``(1, 1, 32, 32)``. Nothing is computed on
        data: shapes and counts come from each layer's geometry.

    Returns
    -------
    Summary
        ``rows`` of :class:`LayerSummary` and the totals ``params``, ``macs``,
        ``connections``, ``activation_bytes``; ``print(summary(...))`` shows a table.

    Notes
    -----
    For a convolution ``MACs = N·OH·OW·C_out·KH·KW·C_in/groups``
    (:attr:`fftconv.ConvSpec.macs`, Qiu's time complexity), counting only
    connected kernels under a connection table. ``connections`` follows LeCun et
    al. (1998): every input an output unit reads plus its bias, so for C1 of
    LeNet-5 ``(5·5 + 1)·28·28·6 = 122,304`` while its parameters number
    ``(5·5 + 1)·6 = 156`` (LeCun et al. 1998). Activation memory is each layer's output
    size times the model's dtype itemsize (CS231n; training keeps about
    as much again for the gradients).

    Examples
    --------
    >>> from fftconv import nn
    >>> s = nn.summary(nn.lenet5(), (1, 1, 32, 32))
    >>> s["c1"].params, s["c1"].connections, s["c1"].output_shape
    (156, 122304, (1, 6, 28, 28))
    >>> s["s2"].params, s["s2"].connections
    (12, 5880)
    """
    if not isinstance(model, Module):
        raise bad_type("summary", "model", model, "a fftconv.nn.Module")
    if (not isinstance(input_shape, (tuple, list)) or not input_shape
            or not all(isinstance(s, numbers.Integral) and s > 0 for s in input_shape)):
        raise bad_value("summary", "input_shape", input_shape,
                        "a non-empty tuple of positive ints such as (1, 1, 32, 32)")
    itemsize = model.dtype.itemsize
    shape = tuple(int(s) for s in input_shape)
    rows = []
    for name, layer in _leaves(model):
        out = tuple(int(s) for s in layer.output_shape(shape))
        macs, connections = layer.counts(shape)
        rows.append(LayerSummary(name or type(layer).__name__, type(layer).__name__, out,
                                 int(layer.num_parameters()), int(macs), int(connections),
                                 int(np.prod(out)) * itemsize))
        shape = out
    return Summary(tuple(int(s) for s in input_shape), tuple(rows))
