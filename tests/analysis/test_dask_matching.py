"""match_template and find_peaks on dask arrays equal the in-memory functions, for
random chunkings, every method, masks and pad_input, on the threaded scheduler and a
distributed LocalCluster."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from analysis.matching import (METHODS, PAD_MODES, find_peaks, match_images, match_template,
                               match_templates)

da = pytest.importorskip("dask.array")   # the test extra installs dask


def _scale(reference):
    return max(1.0, float(np.nanmax(np.abs(reference))))


def _close(lazy, reference):
    """Scores agree to the in-memory function's own precision (the blocks are scored
    by it; only the chunk means the FFT and the window sums are centred on differ)."""
    got = lazy.compute(scheduler="threads")
    assert got.shape == reference.shape and got.dtype == reference.dtype
    atol = (1e-4 if reference.dtype == np.float32 else 1e-9) * _scale(reference)
    np.testing.assert_allclose(got, reference, rtol=0, atol=atol)


@st.composite
def chunking(draw, size):
    cuts = draw(st.lists(st.integers(1, size - 1), max_size=3, unique=True))
    edges = [0, *sorted(cuts), size]
    return tuple(b - a for a, b in zip(edges, edges[1:]))


@settings(max_examples=20)
@given(data=st.data(), method=st.sampled_from(METHODS), masked=st.booleans(),
       pad=st.booleans(), seed=st.integers(0, 2**16))
def test_scores_on_random_chunkings(data, method, masked, pad, seed):
    rng = np.random.default_rng(seed)
    h, w = data.draw(st.integers(8, 40)), data.draw(st.integers(8, 40))
    th, tw = data.draw(st.integers(1, min(h, 9))), data.draw(st.integers(1, min(w, 9)))
    image = rng.standard_normal((h, w)) + 3.0
    template = image[h - th:, :tw] + 0.1 * rng.standard_normal((th, tw))
    mask = (rng.random((th, tw)) > 0.3).astype(float) if masked else None
    if mask is not None:
        mask[0, 0] = 1.0
    chunks = (data.draw(chunking(h)), data.draw(chunking(w)))
    lazy = match_template(da.from_array(image, chunks=chunks), template, method, mask=mask,
                          pad_input=pad)
    assert isinstance(lazy, da.Array)
    _close(lazy, match_template(image, template, method, mask=mask, pad_input=pad))


@pytest.mark.parametrize("mode", PAD_MODES)
def test_pad_modes(mode):
    rng = np.random.default_rng(1)
    image, template = rng.random((30, 27)).astype(np.float32), rng.random((7, 6))
    lazy = match_template(da.from_array(image, chunks=(8, 11)), template, pad_input=True,
                          mode=mode, constant_values=0.5)
    _close(lazy, match_template(image, template, pad_input=True, mode=mode,
                                constant_values=0.5))


def test_colour_volume_and_flat_windows():
    rng = np.random.default_rng(2)
    colour = rng.random((20, 3, 24))
    template = colour[4:9, :, 10:16]
    mask = rng.random((5, 6))
    for method in ("ccoeff_normed", "sqdiff"):
        lazy = match_template(da.from_array(colour, chunks=(7, 1, 9)), template, method,
                              channel_axis=1, mask=mask)
        _close(lazy, match_template(colour, template, method, channel_axis=1, mask=mask))
    lazy = match_template(da.from_array(colour, chunks=(7, 1, 9)), template, channel_axis=1)
    _close(lazy, match_template(colour, template, channel_axis=1))
    volume = rng.random((10, 12, 11))
    volume[:, :6, :6] = 1.0                          # flat windows across chunk boundaries
    lazy = match_template(da.from_array(volume, chunks=(3, 5, 4)), volume[2:5, 6:9, 1:4],
                          flat="nan")
    _close(lazy, match_template(volume, volume[2:5, 6:9, 1:4], flat="nan"))


def test_errors():
    image = da.zeros((20, 20), chunks=5)
    with pytest.raises(ValueError, match="match_template.*return_info"):
        match_template(image, np.ones((3, 3)), return_info=True)
    with pytest.raises(ValueError, match="match_template.*template"):
        match_template(image, np.ones((30, 3)))
    with pytest.raises(ValueError, match="match_template.*mask"):
        match_template(image, np.ones((3, 3)), mask=np.ones((2, 2)))
    with pytest.raises(ValueError, match="match_template.*method"):
        match_template(image, np.ones((3, 3)), method="nope")
    nan = da.from_array(np.full((10, 10), np.nan), chunks=5)
    with pytest.raises(ValueError, match="match_template.*finite"):
        match_template(nan, np.ones((3, 3))).compute()


@settings(max_examples=25)
@given(data=st.data(), seed=st.integers(0, 2**16), distance=st.integers(1, 4),
       method=st.sampled_from(["ccoeff_normed", "sqdiff", "max"]),
       threshold=st.sampled_from([None, 0.3]), max_peaks=st.sampled_from([None, 3]))
def test_peaks_on_random_chunkings(data, seed, distance, method, threshold, max_peaks):
    rng = np.random.default_rng(seed)
    shape = (data.draw(st.integers(3, 30)), data.draw(st.integers(3, 30)))
    score = np.round(rng.random(shape), 1)            # ties across chunk boundaries
    score[rng.random(shape) < 0.05] = np.nan
    chunks = tuple(data.draw(chunking(n)) for n in shape)
    want = find_peaks(score, threshold, distance, max_peaks, method)
    got = find_peaks(da.from_array(score, chunks=chunks), threshold, distance, max_peaks, method)
    np.testing.assert_array_equal(got.indices, want.indices)
    np.testing.assert_allclose(got.coords, want.coords, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got.scores, want.scores, rtol=0, atol=1e-12)


def test_peaks_in_3d_and_errors():
    rng = np.random.default_rng(3)
    score = rng.random((9, 10, 8))
    want = find_peaks(score, 0.5, 2)
    got = find_peaks(da.from_array(score, chunks=(4, 3, 5)), 0.5, 2)
    np.testing.assert_array_equal(got.indices, want.indices)
    np.testing.assert_allclose(got.coords, want.coords, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="find_peaks.*score"):
        find_peaks(da.zeros((3,), chunks=2))
    with pytest.raises(ValueError, match="find_peaks.*min_distance"):
        find_peaks(da.zeros((3, 3), chunks=2), min_distance=0)


def test_match_and_peaks_on_a_cluster(dask_client):
    rng = np.random.default_rng(4)
    image = rng.random((70, 60)).astype(np.float32)
    template = image[40:52, 25:40].copy()
    lazy = match_template(da.from_array(image, chunks=(30, 25)), template, "ccorr_normed",
                          mask=np.ones((12, 15)))
    want = match_template(image, template, "ccorr_normed", mask=np.ones((12, 15)))
    got = dask_client.compute(lazy).result()
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-4)
    with dask_client.as_current():
        peaks = find_peaks(lazy, threshold=0.9, method="ccorr_normed")
    assert peaks.indices[0].tolist() == [40, 25]


# -- batches -----------------------------------------------------------------------
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("masked", [False, True])
def test_many_templates_equal_one_at_a_time(method, masked):
    rng = np.random.default_rng(7)
    image = rng.random((33, 29)) + 1.0
    templates = np.stack([image[3:10, 4:12], image[20:27, 15:23], np.ones((7, 8)),
                          rng.random((7, 8))])                       # one flat template
    mask = (rng.random((7, 8)) > 0.2) * 1.0 if masked else None
    scores = match_templates(image, templates, method, mask=mask)
    assert scores.shape == (4, 27, 22)
    for k, template in enumerate(templates):
        np.testing.assert_allclose(scores[k], match_template(image, template, method,
                                                             mask=mask), rtol=0, atol=1e-9)
    lazy = match_templates(da.from_array(image, chunks=(10, 13)), templates, method, mask=mask)
    _close(lazy, scores)


def test_many_templates_share_the_image_transform(monkeypatch):
    """K templates: one overlap-save run with K kernels, not K runs."""
    from analysis import matching
    runs = []
    real = matching._engine
    monkeypatch.setattr(matching, "_engine", lambda k, *a, **kw: runs.append(k.shape) or
                        real(k, *a, **kw))
    image = np.random.default_rng(8).random((40, 40))
    match_templates(image, np.stack([image[:5, :6], image[9:14, 3:9], image[1:6, 1:7]]))
    assert runs == [(1, 3, 1, 5, 6)]


def test_stack_of_images_colour_and_dask():
    rng = np.random.default_rng(9)
    images = rng.random((3, 20, 18, 2)).astype(np.float32)
    template = images[2, 5:11, 7:12]
    scores = match_images(images, template, "ccorr_normed", channel_axis=-1, pad_input=True)
    assert scores.shape == (3, 20, 18)
    for n in range(3):
        np.testing.assert_array_equal(scores[n], match_template(
            images[n], template, "ccorr_normed", channel_axis=-1, pad_input=True))
    lazy = match_images(da.from_array(images, chunks=(2, 7, 9, 1)), template, "ccorr_normed",
                        channel_axis=-1, pad_input=True)
    assert lazy.chunks[0] == (2, 1)
    _close(lazy, scores)


def test_batch_errors():
    with pytest.raises(ValueError, match="match_templates.*templates"):
        match_templates(np.ones((9, 9)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="match_images.*images"):
        match_images(np.ones((9, 9)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="match_template.*template"):
        match_templates(np.ones((9, 9)), np.ones((2, 12, 3)))
