"""match_template takes any array object numpy can view (issue 25, item 6)."""

import numpy as np
import pytest

from analysis.matching import match_template


def test_match_template_takes_torch_tensors_and_returns_ndarrays():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    image = rng.standard_normal((20, 24))
    template = image[5:11, 7:12].copy()
    got = match_template(torch.from_numpy(image), torch.from_numpy(template))
    want = match_template(image, template)
    assert type(got) is np.ndarray
    np.testing.assert_array_equal(got, want)
    assert np.unravel_index(np.argmax(got), got.shape) == (5, 7)
