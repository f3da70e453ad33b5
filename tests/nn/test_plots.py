"""The trainer's figures: colours from fftconv.style, labelled axes, a colour bar with a unit.

The checks read the artists (lines, images, colour bars, labels), not pixels.
"""

import numpy as np
import pytest
from matplotlib.colors import to_hex

from fftconv import nn, style
from fftconv.nn.plots import CURVE_LABELS, WEIGHT_LABEL, filters_figure, training_curves_figure

HISTORY = nn.History(loss=[1.2, 0.7, 0.4], accuracy=[0.5, 0.7, 0.85], seconds=[1.0] * 3,
                     val_loss=[1.0, 0.8, 0.6], val_accuracy=[0.55, 0.65, 0.8])


def _colorbar_axes(fig):
    return [ax for ax in fig.axes if hasattr(ax, "_colorbar")]


def _image_axes(fig):
    return [ax for ax in fig.axes if ax.images]


def test_curves_take_okabe_ito_colours_and_label_their_units():
    fig = training_curves_figure(HISTORY, "run")
    loss, accuracy = fig.axes
    assert [loss.get_ylabel(), accuracy.get_ylabel()] == [CURVE_LABELS["loss"],
                                                          CURVE_LABELS["accuracy"]]
    assert "(" in CURVE_LABELS["loss"] and "fraction" in CURVE_LABELS["accuracy"]
    for ax, key in ((loss, "loss"), (accuracy, "accuracy")):
        assert ax.get_xlabel() == "epoch"
        train, test = ax.get_lines()
        assert [to_hex(line.get_color()) for line in (train, test)] == [
            style.line_colour(0).lower(), style.line_colour(1).lower()]
        assert train.get_marker() != test.get_marker()      # not told apart by colour alone
        np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3])
        np.testing.assert_array_equal(train.get_ydata(), getattr(HISTORY, key))
        np.testing.assert_array_equal(test.get_ydata(), getattr(HISTORY, f"val_{key}"))
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "test"]
    assert accuracy.get_ylim() == pytest.approx((0, 1.02))
    assert fig._suptitle.get_text() == "run"


def test_curves_without_validation_draw_the_training_line_only():
    fig = training_curves_figure(nn.History(loss=[1.0], accuracy=[0.4], seconds=[1.0]))
    assert [len(ax.get_lines()) for ax in fig.axes] == [1, 1]


@pytest.mark.parametrize("shape", [(6, 1, 5, 5), (4, 3, 3, 3), (10, 1, 3, 3)])
def test_filters_share_one_symmetric_signed_scale_with_one_labelled_bar(shape):
    weight = np.random.default_rng(0).standard_normal(shape)
    weight[0] *= 5                                           # one kernel much larger
    fig = filters_figure(weight, "filters")
    images = _image_axes(fig)
    assert len(images) == shape[0] * shape[1]
    limit = np.abs(weight).max()
    for ax, kernel in zip(images, weight.reshape(-1, *shape[2:])):
        shown = ax.images[0]
        assert shown.get_cmap().name == style.SIGNED_CMAP
        assert shown.get_clim() == pytest.approx((-limit, limit))
        np.testing.assert_array_equal(shown.get_array(), kernel)
    (bar,) = _colorbar_axes(fig)
    assert bar.get_ylabel() == WEIGHT_LABEL
    assert bar._colorbar.mappable.get_clim() == pytest.approx((-limit, limit))


def test_an_all_zero_weight_still_draws_a_scale():
    fig = filters_figure(np.zeros((2, 1, 3, 3)))
    assert _image_axes(fig)[0].images[0].get_clim() == (-1.0, 1.0)
    assert fig._suptitle.get_text() == "first-layer filters (2, 1, 3, 3)"


def test_bad_input_is_refused_by_name():
    with pytest.raises(ValueError, match="filters_figure.*weight.*4-d array"):
        filters_figure(np.ones((3, 3)))
    with pytest.raises(TypeError, match="training_curves_figure.*history"):
        training_curves_figure({"loss": [1.0]})
    with pytest.raises(ValueError, match="training_curves_figure.*at least one epoch"):
        training_curves_figure(nn.History())


def test_multichannel_filters_name_their_channel_pairs():
    fig = filters_figure(np.ones((2, 3, 3, 3)))
    images = _image_axes(fig)
    assert [ax.get_title() for ax in images[:3]] == ["in 0", "in 1", "in 2"]
    assert [ax.get_ylabel() for ax in images[::3]] == ["out 0", "out 1"]
