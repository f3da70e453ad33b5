"""match_template against OpenCV and scikit-image, the flat policy, masks, colour, tiles."""

import numpy as np
import pytest

import fftconv
from analysis.matching import FLAT_POLICIES, METHODS, match_template

cv2 = pytest.importorskip("cv2")
skimage_feature = pytest.importorskip("skimage.feature")

CV_CODES = {m: getattr(cv2, "TM_" + m.upper()) for m in METHODS}


def structured(rng, shape, dtype):
    """Flat rectangles on a ramp, a textured patch and a constant zero band."""
    h, w = shape
    y, x = np.mgrid[0:h, 0:w]
    image = 0.3 + 0.002 * x + 0.001 * y
    image[h // 5: h // 2, w // 6: w // 2] = 0.8                    # flat plateau
    image[h // 2: h - 4, w // 2: w - 3] = rng.random((h - 4 - h // 2, w - 3 - w // 2))
    image[-20:, : w // 2] = 0.0                                     # a zero block
    return image.astype(dtype)


def assert_matches_opencv(ours, ref, method):
    """Agreement to 1e-4: absolute for the normalized scores, relative to the largest
    score for the unnormalized sums (whose size grows with the template)."""
    scale = 1.0 if method.endswith("normed") else float(np.max(np.abs(ref)))
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-4 * scale)


CASES = [((37, 41), (5, 7)), ((120, 97), (17, 11)), ((300, 257), (31, 20))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, tshape", CASES)
@pytest.mark.parametrize("method", METHODS)
def test_random_images_agree_with_opencv(method, shape, tshape, dtype):
    rng = np.random.default_rng(1)
    image = rng.random(shape).astype(dtype)
    template = (image[3:3 + tshape[0], 4:4 + tshape[1]]
                + 0.2 * rng.random(tshape)).astype(dtype)
    ours = match_template(image, template, method)
    assert ours.dtype == dtype
    ref = cv2.matchTemplate(image.astype(np.float32), template.astype(np.float32),
                            CV_CODES[method])
    assert_matches_opencv(ours, ref, method)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("method", METHODS)
def test_structured_images_agree_with_opencv_off_flat_windows(method, dtype):
    rng = np.random.default_rng(2)
    image = structured(rng, (90, 110), dtype)
    template = image[30:45, 40:60].copy()
    ours = match_template(image, template, method, flat="nan")
    ref = cv2.matchTemplate(image.astype(np.float32), template.astype(np.float32),
                            CV_CODES[method])
    defined = np.isfinite(ours)
    if method in ("ccoeff_normed", "ccorr_normed", "sqdiff_normed"):
        assert not defined.all()                      # the plateau / zero band are flat
    else:
        assert defined.all()
    assert_matches_opencv(ours[defined], ref[defined], method)


@pytest.mark.parametrize("shape, tshape", CASES + [((64, 64), (64, 64)), ((50, 40), (1, 1))])
def test_float64_equals_skimage_to_1e10(shape, tshape):
    rng = np.random.default_rng(3)
    image = rng.random(shape)
    template = rng.random(tshape)
    ours = match_template(image, template)
    ref = skimage_feature.match_template(image, template)
    if tshape == (1, 1):        # a one-pixel template is flat: skimage's zero is our policy
        assert np.all(ours == 0) and np.all(ref == 0)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-10)


@pytest.mark.parametrize("shape, tshape", CASES)
def test_float32_matches_skimage_to_1e5(shape, tshape):
    """float32 scores are within 1e-5 of scikit-image's exact (float64) answer.

    scikit-image's own float32 path sums windows in float32 and strays ~1e-5 from
    the exact scores, so the reference is scikit-image on the same data in float64.
    """
    rng = np.random.default_rng(4)
    image = rng.random(shape, dtype=np.float32)
    template = image[5:5 + tshape[0], 2:2 + tshape[1]].copy()
    ours = match_template(image, template)
    assert ours.dtype == np.float32
    ref = skimage_feature.match_template(image.astype(np.float64), template.astype(np.float64))
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-5)
    loose = skimage_feature.match_template(image, template)
    np.testing.assert_allclose(ours, loose, rtol=0, atol=1e-4)


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric", "wrap", "mean"])
@pytest.mark.parametrize("tshape", [(7, 9), (8, 6)])
def test_pad_input_semantics_equal_skimage(mode, tshape):
    rng = np.random.default_rng(5)
    image = rng.random((40, 45))
    template = rng.random(tshape)
    ours = match_template(image, template, pad_input=True, mode=mode, constant_values=0.25)
    kwargs = {"constant_values": 0.25} if mode == "constant" else {}
    ref = skimage_feature.match_template(image, template, pad_input=True, mode=mode, **kwargs)
    assert ours.shape == image.shape
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-10)


def test_pad_input_centres_the_window():
    rng = np.random.default_rng(6)
    image = rng.random((30, 40))
    score = match_template(image, image[10:17, 20:26], pad_input=True)
    assert np.unravel_index(np.argmax(score), score.shape) == (10 + 7 // 2, 20 + 6 // 2)


def test_volumes_equal_skimage():
    rng = np.random.default_rng(7)
    volume = rng.random((16, 20, 18))
    template = volume[3:9, 4:10, 5:12].copy()
    ours = match_template(volume, template)
    np.testing.assert_allclose(ours, skimage_feature.match_template(volume, template),
                               rtol=0, atol=1e-10)
    assert np.unravel_index(np.argmax(ours), ours.shape) == (3, 4, 5)
    np.testing.assert_allclose(match_template(volume, template, pad_input=True),
                               skimage_feature.match_template(volume, template, pad_input=True),
                               rtol=0, atol=1e-10)


@pytest.mark.parametrize("method", METHODS)
def test_colour_sums_channels_like_opencv(method):
    rng = np.random.default_rng(8)
    image = rng.random((50, 60, 3), dtype=np.float32)
    template = image[10:22, 30:39].copy()
    ours = match_template(image, template, method, channel_axis=-1)
    assert_matches_opencv(ours, cv2.matchTemplate(image, template, CV_CODES[method]), method)
    moved = match_template(np.moveaxis(image, -1, 0), np.moveaxis(template, -1, 0), method,
                           channel_axis=0)
    np.testing.assert_array_equal(moved, ours)


@pytest.mark.parametrize("kind", ["binary", "weights", "per-channel"])
@pytest.mark.parametrize("method", METHODS)
def test_masks_agree_with_opencv(method, kind):
    rng = np.random.default_rng(9)
    colour = kind == "per-channel"
    image = rng.random((60, 70, 3) if colour else (60, 70), dtype=np.float32)
    template = image[12:27, 20:32].copy()
    if kind == "binary":
        mask = (rng.random(template.shape) > 0.4).astype(np.float32)
    else:
        mask = rng.random(template.shape, dtype=np.float32)
    ours = match_template(image, template, method, mask=mask,
                          channel_axis=-1 if colour else None)
    ref = cv2.matchTemplate(image, template, CV_CODES[method], mask=mask)
    assert_matches_opencv(ours, ref, method)


def test_mask_ignores_what_it_hides():
    """Pixels of weight 0 may change freely without changing any score."""
    rng = np.random.default_rng(10)
    image = rng.random((40, 50))
    template = image[5:15, 10:22].copy()
    mask = np.ones(template.shape)
    mask[3:7, 4:9] = 0
    scrambled = template.copy()
    scrambled[3:7, 4:9] = rng.random((4, 5)) * 100
    for method in METHODS:
        np.testing.assert_allclose(match_template(image, scrambled, method, mask=mask),
                                   match_template(image, template, method, mask=mask),
                                   rtol=1e-9, atol=1e-9)
    score = match_template(image, scrambled, mask=mask)
    assert np.unravel_index(np.argmax(score), score.shape) == (5, 10)
    assert score.max() == pytest.approx(1.0, abs=1e-12)


def test_all_ones_mask_is_no_mask():
    rng = np.random.default_rng(11)
    image, template = rng.random((30, 35)), rng.random((6, 8))
    for method in METHODS:
        np.testing.assert_allclose(match_template(image, template, method, mask=np.ones((6, 8))),
                                   match_template(image, template, method),
                                   rtol=1e-9, atol=1e-9 * np.abs(match_template(
                                       image, template, method)).max())


# -- the flat policy --------------------------------------------------------------

EXPECTED_UNDEFINED = {
    "zero": {"ccoeff_normed": 0.0, "ccorr_normed": 0.0, "sqdiff_normed": 1.0},
    "one": {"ccoeff_normed": 1.0, "ccorr_normed": 1.0, "sqdiff_normed": 0.0},
}


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("flat", FLAT_POLICIES)
@pytest.mark.parametrize("method", ["ccoeff_normed", "ccorr_normed", "sqdiff_normed"])
def test_flat_windows_follow_the_policy(method, flat, dtype, masked):
    rng = np.random.default_rng(12)
    image = rng.random((80, 90)).astype(dtype) + 5            # far from zero: no zero windows
    value = 0.0 if method != "ccoeff_normed" else 7.25
    image[20:50, 30:70] = value                               # a flat region
    template = rng.random((9, 11)).astype(dtype)
    mask = np.ones(template.shape)
    if masked:
        mask[:, 0] = 0                                        # the first column is ignored
    score, info = match_template(image, template, method, flat=flat, return_info=True,
                                 mask=mask if masked else None)
    inside = score[20:50 - 8, 30:70 - 10]                     # windows entirely in the region
    if flat == "nan":
        assert np.isnan(inside).all()
    else:
        assert np.all(inside == EXPECTED_UNDEFINED[flat][method])
    outside = np.ones(score.shape, bool)
    outside[20 - 8:50, 30 - 10:70] = False                    # windows touching no flat pixel
    assert np.isfinite(score[outside]).all()
    # with the first column masked, windows starting one column left of the region are
    # flat too
    assert info.flat_windows == inside.size + (inside.shape[0] if masked else 0)
    assert not info.flat_template


@pytest.mark.parametrize("flat", FLAT_POLICIES)
@pytest.mark.parametrize("method", METHODS)
def test_no_nan_or_inf_unless_asked(method, flat):
    rng = np.random.default_rng(13)
    image = structured(rng, (60, 70), np.float32)
    for template in (image[10:20, 10:20].copy(), np.zeros((5, 5), np.float32),
                     np.full((5, 5), 3.0, np.float32)):
        score = match_template(image, template, method, flat=flat)
        if flat != "nan" or method not in ("ccoeff_normed", "ccorr_normed", "sqdiff_normed"):
            assert np.isfinite(score).all()


@pytest.mark.parametrize("flat", FLAT_POLICIES)
def test_flat_template_follows_the_policy(flat):
    rng = np.random.default_rng(14)
    image = rng.random((30, 40))
    score, info = match_template(image, np.full((5, 6), 0.5), flat=flat, return_info=True)
    assert info.flat_template and info.flat_windows == score.size
    if flat == "nan":
        assert np.isnan(score).all()
    else:
        assert np.all(score == EXPECTED_UNDEFINED[flat]["ccoeff_normed"])
    # OpenCV's convention for a flat template is the 'one' policy
    if flat == "one":
        ref = cv2.matchTemplate(image.astype(np.float32), np.full((5, 6), 0.5, np.float32),
                                cv2.TM_CCOEFF_NORMED)
        np.testing.assert_array_equal(score, ref)


def test_flat_template_under_mask_only():
    """Constant where the mask is positive: flat, whatever hides under the zeros."""
    template = np.full((6, 6), 2.0)
    template[0, 0] = 9.0
    mask = np.ones((6, 6))
    mask[0, 0] = 0
    score, info = match_template(np.random.default_rng(15).random((20, 20)), template,
                                 mask=mask, return_info=True)
    assert info.flat_template and np.all(score == 0)


def test_normalized_scores_stay_in_range_and_clipping_is_counted():
    rng = np.random.default_rng(16)
    image = rng.random((200, 210), dtype=np.float32)
    template = image[50:90, 60:100].copy()
    for method in ("ccoeff_normed", "ccorr_normed"):
        score, info = match_template(image, template, method, return_info=True)
        assert score.max() <= 1 and score.min() >= -1
        assert score[50, 60] == pytest.approx(1.0, abs=1e-6)
        assert info.clipped <= np.count_nonzero(np.abs(score) == 1)    # clipped land on ±1
    score = match_template(image, template, "sqdiff")
    assert score.min() >= 0 and score[50, 60] == pytest.approx(0.0, abs=1e-2)
    # sqdiff_normed exceeds 1 between a bright template and a dark window: capped at 1
    dark = np.zeros((60, 60))
    dark[10:30, 10:30] = 0.01
    score, info = match_template(dark, np.ones((8, 8)), "sqdiff_normed", return_info=True)
    assert score.max() == 1 and info.clipped > 0
    assert info.clipped + info.flat_windows == np.count_nonzero(score == 1)


def test_perfect_match_scores_exactly():
    rng = np.random.default_rng(17)
    image = rng.random((64, 64))
    template = image[20:36, 8:30].copy()
    best = {"ccoeff_normed": 1.0, "ccorr_normed": 1.0, "sqdiff_normed": 0.0, "sqdiff": 0.0}
    for method, value in best.items():
        score = match_template(image, template, method)
        assert score[20, 8] == pytest.approx(value, abs=1e-12)


def test_invariances_of_ccoeff_normed():
    """Gain and offset of the image or the template do not change the NCC."""
    rng = np.random.default_rng(18)
    image, template = rng.random((50, 60)), rng.random((8, 9))
    base = match_template(image, template)
    np.testing.assert_allclose(match_template(3.5 * image - 7, 0.25 * template + 100), base,
                               rtol=0, atol=1e-10)


def test_large_offsets_keep_their_digits():
    """Float64 window sums of the mean-free image: no cancellation at an offset of 1e4."""
    rng = np.random.default_rng(19)
    image = rng.random((120, 130), dtype=np.float32)
    template = image[30:50, 40:60].copy()
    exact = match_template(image.astype(np.float64), template.astype(np.float64))
    shifted = match_template(image + np.float32(1000), template + np.float32(1000))
    np.testing.assert_allclose(shifted, exact, rtol=0, atol=2e-3)   # float32 input rounding
    ref64 = skimage_feature.match_template((image + np.float32(1000)).astype(np.float64),
                                           (template + np.float32(1000)).astype(np.float64))
    np.testing.assert_allclose(shifted, ref64, rtol=0, atol=3e-5)   # 1e-5 of ~1000 offsets


@pytest.mark.parametrize("method", METHODS)
def test_chunks_give_the_whole_scores(method):
    """A small memory budget cuts the work into more chunks of tile rows (each with
    its own centre and window sums); the scores do not change."""
    rng = np.random.default_rng(20)
    image = rng.random((150, 90))
    template = rng.random((13, 10))
    whole, info = match_template(image, template, method, return_info=True)
    with fftconv.set_memory_budget(200_000):
        tiled, tinfo = match_template(image, template, method, return_info=True)
    assert tinfo.chunks > info.chunks and tinfo.tiles == info.tiles
    scale = max(1.0, float(np.abs(whole).max()))
    np.testing.assert_allclose(tiled, whole, rtol=0, atol=1e-12 * scale)


@pytest.mark.parametrize("engine", ["numpy", "scipy"])
def test_every_fft_engine_gives_the_same_scores(engine):
    from fftconv import fftlib

    rng = np.random.default_rng(21)
    image, template = rng.random((70, 64)), rng.random((9, 12))
    with fftlib.set_fft_engine(engine, threads=1):
        other = match_template(image, template)
    np.testing.assert_allclose(other, match_template(image, template), rtol=0, atol=1e-12)


def test_int_and_small_types():
    rng = np.random.default_rng(22)
    image = rng.integers(0, 256, (40, 50)).astype(np.uint8)
    template = image[5:15, 6:20].copy()
    score = match_template(image, template)
    assert score.dtype == np.float32
    np.testing.assert_allclose(score, match_template(image.astype(np.float64),
                                                     template.astype(np.float64)), atol=1e-5)
    assert match_template(image.astype(np.int64), template).dtype == np.float64


# -- errors -----------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, error, message", [
    (dict(method="TM_CCOEFF"), ValueError, r"match_template: parameter 'method' must be one of"),
    (dict(method=5), TypeError, r"parameter 'method' must be one of"),
    (dict(flat="ignore"), ValueError, r"parameter 'flat' must be one of 'zero', 'one', 'nan'"),
    (dict(mode="linear_ramp", pad_input=True), ValueError, r"parameter 'mode' must be one of"),
    (dict(pad_input="yes"), TypeError, r"parameter 'pad_input' must be a bool"),
    (dict(constant_values="0"), TypeError, r"parameter 'constant_values' must be a finite real"),
    (dict(constant_values=float("nan"), pad_input=True), ValueError,
     r"parameter 'constant_values' must be a finite real number; got nan"),
    (dict(constant_values=float("inf"), pad_input=True), ValueError,
     r"parameter 'constant_values' must be a finite real number; got inf"),
    (dict(channel_axis=1.0), TypeError, r"parameter 'channel_axis' must be None or an int"),
    (dict(channel_axis=3), ValueError, r"parameter 'channel_axis' must be None or an axis"),
    (dict(mask=np.ones((3, 3))), ValueError, r"parameter 'mask' must be an array of the"),
    (dict(mask=-np.ones((5, 6))), ValueError, r"parameter 'mask' must be finite, non-negative"),
    (dict(mask=np.zeros((5, 6))), ValueError, r"parameter 'mask' must be weights with a positive"),
    (dict(return_info=1), TypeError, r"parameter 'return_info' must be a bool"),
])
def test_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        match_template(np.ones((20, 20)), np.eye(5, 6), **kwargs)


@pytest.mark.parametrize("image, template, message", [
    (np.ones((4, 4)), np.ones((5, 2)), r"parameter 'template' must be no larger than the image"),
    (np.ones((4, 4)), np.ones(3), r"parameter 'template' must be an array with as many dim"),
    (np.ones(10), np.ones(3), r"parameter 'image' must be a 2-D or 3-D image"),
    (np.ones((4, 4)), np.array([[np.nan]]), r"parameter 'template' must be finite values"),
    (np.ones((0, 4)), np.ones((1, 1)), r"parameter 'image' must be a non-empty array"),
    (np.ones((5, 5, 3)), np.ones((2, 2, 2)), r"parameter 'template' must be 3 channels"),
])
def test_bad_shapes(image, template, message):
    with pytest.raises(ValueError, match=message):
        match_template(image, template, channel_axis=-1 if template.ndim == 3
                       and image.ndim == 3 else None)


def test_bad_types():
    with pytest.raises(TypeError, match=r"parameter 'image' must be a real numeric"):
        match_template(np.array(["a", "b"]), np.ones(1))
    with pytest.raises(TypeError, match=r"parameter 'template' must be a real numeric"):
        match_template(np.ones((3, 3)), np.ones((2, 2), complex))
