"""The matching figure: the score map in the scene's pixel frame, truth vs found."""

import numpy as np
import pytest

from analysis.demo import make_scene
from analysis.match_plots import match_figure, score_extent
from analysis.matching import find_peaks, match_template


@pytest.mark.parametrize("pad_input", [False, True])
def test_peaks_drawn_on_the_score_map_lie_in_their_truth_boxes(pad_input):
    scene, template, truth = make_scene(0)
    score = match_template(scene, template, pad_input=pad_input)
    peaks = find_peaks(score, threshold=0.8, min_distance=16)
    fig = match_figure(scene, score, peaks, template.shape, truth=truth, pad_input=pad_input)
    ax_image, ax_score = fig.axes[:2]
    h, w = template.shape
    xs, ys = ax_score.lines[0].get_data()
    assert len(xs) == len(truth)
    for x, y in zip(xs, ys):                     # plotted position, in scene pixels
        assert any(c - 0.5 <= x <= c + w - 0.5 and r - 0.5 <= y <= r + h - 0.5
                   for r, c in truth)
    # The image under a plotted peak is the score of that peak: the extent is exact.
    left, right, bottom, top = ax_score.images[0].get_extent()
    assert (right - left, bottom - top) == (score.shape[1], score.shape[0])
    for (r, c), x, y in zip(peaks.indices, xs, ys):
        assert (int(round(y - top - 0.5)), int(round(x - left - 0.5))) == (r, c)
    assert ax_score.get_xlim() == ax_image.get_xlim() == (-0.5, scene.shape[1] - 0.5)
    assert ax_image.get_legend() is None                 # the legend is off the image
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["truth", "found (score shown)"]
    assert sorted(t.get_text() for t in ax_image.texts) == sorted(
        f"{v:.3f}" for v in peaks.scores)


def test_score_extent_is_exact_to_the_half_pixel():
    # An 8x11 template: window (0, 0) covers rows 0..7, its centre row is 3.5.
    assert score_extent((5, 6), (8, 11)) == (4.5, 10.5, 8.0, 3.0)
    # pad_input: entry (i, j) is the window whose corner is (i - 4, j - 5).
    assert score_extent((5, 6), (8, 11), pad_input=True) == (-0.5, 5.5, 4.0, -1.0)
    np.testing.assert_allclose(score_extent((3, 3), (3, 3), True), (-0.5, 2.5, 2.5, -0.5))
