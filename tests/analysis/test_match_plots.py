"""The matching figure: the score map in the scene's pixel frame, truth vs found."""

import numpy as np
import pytest

from analysis.demo import make_scene
from analysis.match_plots import LABEL_FONTSIZE, match_figure, match_layout, score_extent
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


def _strip_scene(shape, corner=(20, 30)):
    rng = np.random.default_rng(3)
    scene = rng.random(shape) * 0.3
    template = rng.random((12, 16))
    scene[corner[0]:corner[0] + 12, corner[1]:corner[1] + 16] = template
    score = match_template(scene, template)
    return scene, template, score, find_peaks(score, threshold=0.8, max_peaks=1)


@pytest.mark.parametrize("shape", [(300, 60), (60, 300)], ids=["tall", "wide"])
def test_strip_scenes_keep_the_pixel_frame_and_a_figure_of_their_aspect(shape):
    scene, template, score, peaks = _strip_scene(shape)
    fig = match_figure(scene, score, peaks, template.shape, truth=[(20, 30)])
    ax_image, ax_score = fig.axes[:2]
    assert ax_score.get_xlim() == ax_image.get_xlim() == (-0.5, shape[1] - 0.5)
    assert ax_score.get_ylim() == ax_image.get_ylim() == (shape[0] - 0.5, -0.5)
    x, y = ax_score.lines[0].get_data()
    assert 30 - 0.5 <= x[0] <= 30 + 16 - 0.5 and 20 - 0.5 <= y[0] <= 20 + 12 - 0.5
    width, height = fig.get_size_inches()
    image_box, score_box = ax_image.get_position(), ax_score.get_position()
    if shape[0] > shape[1]:                   # tall: side by side, a tall figure
        assert height > width and image_box.x1 <= score_box.x0
    else:                                     # wide: stacked, image on top
        assert width > height and image_box.y0 >= score_box.y1
    assert all(t.get_fontsize() >= LABEL_FONTSIZE for t in ax_image.texts)
    assert all(t.get_fontsize() >= LABEL_FONTSIZE for t in fig.legends[0].get_texts())


def test_match_layout_follows_the_scene_aspect():
    assert match_layout((100, 100))[:2] == match_layout((100, 150))[:2] == (1, 2)
    assert match_layout((100, 151))[:2] == (2, 1)
    (tall_w, tall_h), (square_w, square_h) = match_layout((600, 160))[2], match_layout((64, 64))[2]
    assert tall_h / tall_w > square_h / square_w
