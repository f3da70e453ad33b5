"""find_peaks, to_xy and match_boxes: extrema, suppression, subpixel fits."""

import numpy as np
import pytest

from analysis.matching import find_peaks, match_boxes, match_template, to_xy


def gaussian_bumps(shape, centres, heights, width=2.0):
    y, x = np.mgrid[0:shape[0], 0:shape[1]]
    out = np.zeros(shape)
    for (cy, cx), h in zip(centres, heights):
        out += h * np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * width ** 2))
    return out


def test_finds_every_bump_best_first_with_subpixel_positions():
    centres = [(10.3, 40.6), (30.0, 12.25), (45.8, 50.1)]
    score = gaussian_bumps((60, 70), centres, [1.0, 0.8, 0.6])
    peaks = find_peaks(score, threshold=0.3, min_distance=4, method="max")
    assert len(peaks) == 3
    assert np.all(np.diff(peaks.scores) < 0)
    np.testing.assert_allclose(peaks.coords, centres, atol=0.1)
    np.testing.assert_allclose(peaks.scores, [1.0, 0.8, 0.6], atol=0.02)
    np.testing.assert_array_equal(peaks.indices, np.round(centres))


def test_quadratic_fit_is_exact_for_a_parabola():
    y, x = np.mgrid[0:21, 0:21]
    score = 5.0 - (y - 9.3) ** 2 - 0.5 * (x - 11.8) ** 2
    peaks = find_peaks(score, max_peaks=1, method="max")
    np.testing.assert_allclose(peaks.coords[0], [9.3, 11.8], atol=1e-12)
    assert peaks.scores[0] == pytest.approx(5.0, abs=1e-12)


def test_minima_for_sqdiff_and_the_match_position():
    rng = np.random.default_rng(0)
    image = rng.random((50, 60))
    template = image[17:29, 33:41].copy()
    for method in ("sqdiff", "sqdiff_normed"):
        score = match_template(image, template, method)
        peaks = find_peaks(score, max_peaks=1, method=method)
        np.testing.assert_array_equal(peaks.indices[0], [17, 33])
        assert 0 <= peaks.scores[0] <= score.min() + 1e-12
    best = find_peaks(match_template(image, template), max_peaks=1)
    assert best.scores[0] <= 1 and best.scores[0] == pytest.approx(1, abs=1e-9)


def test_suppression_keeps_peaks_apart():
    rng = np.random.default_rng(1)
    score = rng.random((80, 80))
    for d in (1, 3, 7):
        peaks = find_peaks(score, min_distance=d)
        gaps = np.abs(peaks.indices[:, None, :] - peaks.indices[None, :, :]).max(axis=-1)
        np.fill_diagonal(gaps, d + 1)
        assert gaps.min() > d
        for r, c in peaks.indices:           # each is the maximum of its neighbourhood
            assert score[r, c] == score[max(r - d, 0):r + d + 1, max(c - d, 0):c + d + 1].max()


def test_threshold_max_peaks_nan_and_plateaus():
    score = np.zeros((20, 20))
    score[5, 5], score[12, 14], score[3, 15] = 0.9, 0.7, 0.4
    score[15:17, 2:4] = 0.8                  # a plateau: one peak
    score[0, 0] = np.nan
    peaks = find_peaks(score, threshold=0.5, min_distance=2, subpixel=False)
    assert peaks.indices.tolist() == [[5, 5], [15, 2], [12, 14]]
    assert len(find_peaks(score, threshold=0.5, max_peaks=2)) == 2
    assert len(find_peaks(np.full((5, 5), np.nan))) == 0
    assert find_peaks(np.zeros((4, 4)), threshold=1.0).coords.shape == (0, 2)


def test_three_dimensional_maps():
    z, y, x = np.mgrid[0:12, 0:14, 0:16]
    score = -((z - 4.2) ** 2 + (y - 7.0) ** 2 + (x - 9.6) ** 2)
    peaks = find_peaks(score, max_peaks=1, method="max")
    np.testing.assert_allclose(peaks.coords[0], [4.2, 7.0, 9.6], atol=1e-12)
    np.testing.assert_allclose(peaks.xy[0], [9.6, 7.0, 4.2], atol=1e-12)


def test_to_xy_and_boxes():
    np.testing.assert_array_equal(to_xy([[1, 2], [3, 4]]), [[2, 1], [4, 3]])
    np.testing.assert_array_equal(to_xy(to_xy([[1.5, 2.5]])), [[1.5, 2.5]])
    rng = np.random.default_rng(2)
    image = rng.random((40, 50))
    for pad in (False, True):
        score = match_template(image, image[9:16, 20:31], pad_input=pad)
        top, left, bottom, right = match_boxes(find_peaks(score, max_peaks=1).indices,
                                               (7, 11), pad_input=pad)[0]
        assert (top, left, bottom, right) == (9, 20, 16, 31)


@pytest.mark.parametrize("call, error, message", [
    (lambda: find_peaks(np.ones(5)), ValueError, r"find_peaks: parameter 'score' must be a non-empty 2-D"),
    (lambda: find_peaks(np.array([["a"]])), TypeError, r"parameter 'score' must be a real"),
    (lambda: find_peaks(np.ones((3, 3)), min_distance=0), ValueError, r"'min_distance' must be an int >= 1"),
    (lambda: find_peaks(np.ones((3, 3)), min_distance=1.5), TypeError, r"'min_distance' must be an int"),
    (lambda: find_peaks(np.ones((3, 3)), max_peaks=0), ValueError, r"'max_peaks' must be an int >= 1 or None"),
    (lambda: find_peaks(np.ones((3, 3)), method="peak"), ValueError, r"'method' must be one of"),
    (lambda: find_peaks(np.ones((3, 3)), threshold="high"), TypeError, r"'threshold' must be a real number or None"),
    (lambda: to_xy(np.ones((2, 2, 2))), ValueError, r"to_xy: parameter 'coords' must be an array of shape"),
    (lambda: match_boxes([[1, 2]], (3,)), ValueError, r"match_boxes: parameter 'template_shape' must be a pair"),
])
def test_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
