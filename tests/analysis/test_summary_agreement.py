"""One description, two counts: ``nn.summary`` and ``network_cost`` agree on every model."""

import numpy as np
import pytest

from analysis.architectures import MODELS
from analysis.complexity import network_cost
from fftconv import nn

SMALL = nn.Sequential({
    "conv": nn.Conv2d(3, 8, 3, stride=2, padding=1, dilation=1, groups=1, allocate=False),
    "relu": nn.ReLU(), "pool": nn.AvgPool2d(2), "grouped": nn.Conv2d(8, 4, (3, 1), groups=4),
    "max": nn.MaxPool2d(2, stride=1), "flat": nn.Flatten(), "drop": nn.Dropout(0.2),
    "fc": nn.Linear(4 * 1 * 5, 6, bias=False), "sig": nn.Sigmoid(), "rbf": nn.RBF(6, 2),
}, input_shape=(3, 15, 23))

CASES = {
    **MODELS,
    "nn.lenet5": nn.lenet5(),
    "nn.lenet5-table": nn.lenet5(partial_connections=True, allocate=False),
    "nn.lenet5_modern": nn.lenet5_modern(dropout=0.5, allocate=False),
    "small": SMALL,
}


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("name", list(CASES))
def test_summary_and_network_cost_agree(name, batch):
    model = CASES[name]
    summary = nn.summary(model, (batch, *model.input_shape))
    cost = network_cost(model, batch=batch)
    counted = [row for row in cost.rows if row.kind != "input"]
    for row in counted:
        assert summary[row.name].params == row.params, row.name
        assert summary[row.name].output_shape == row.output_shape, row.name
        if row.kind in ("conv", "linear"):
            assert summary[row.name].macs == row.macs, row.name
        if row.params:                     # LeCun's connections of the layers with weights
            assert summary[row.name].connections == row.connections, row.name
    # Every layer summary lists with parameters or a new shape has a row, and the totals
    # agree: nothing is counted by one and missed by the other.
    assert summary.params == cost.params == model.num_parameters()
    assert summary.rows[-1].output_shape == counted[-1].output_shape
    uncounted = {r.name for r in summary.rows} - {r.name for r in counted}
    for row in summary.rows:
        if row.name in uncounted:
            assert row.params == 0 and row.kind in ("ReLU", "Sigmoid", "Tanh", "Dropout",
                                                    "Flatten"), row.name


def test_lenet5_counts_are_the_papers_in_both():
    """Seed 002's numbers from the one LeNet-5: C1 156, S2 12, C3 1,516, S4 32, C5 48,120,
    F6 10,164 parameters, and 840 of the RBF output units."""
    model = MODELS["lenet5"]
    expected = {"c1": 156, "s2": 12, "c3": 1_516, "s4": 32, "c5": 48_120, "f6": 10_164,
                "output": 840}
    summary, cost = nn.summary(model, (1, 1, 32, 32)), network_cost(model)
    assert {name: summary[name].params for name in expected} == expected
    assert {name: cost.row(name).params for name in expected} == expected
    assert np.isscalar(cost.params)
