"""fftconv.errors.describe: received values are described without crashing."""

import numpy as np

from fftconv.errors import bad_type, describe


def test_describe_arrays_types_and_long_values():
    assert describe(np.zeros((2, 3), np.float32)) == "ndarray of shape (2, 3) and dtype float32"
    assert describe(np.float16) == "type numpy.float16"
    assert describe("x" * 200).endswith("...")
    assert describe(object()).startswith("object <object object")
    assert str(bad_type("f", "dtype", np.float16, "float32 or float64")) == \
        "f: parameter 'dtype' must be float32 or float64; got type numpy.float16"
