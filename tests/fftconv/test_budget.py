"""Estimates of any layer are O(1); a layer whose smallest unit of work does not fit
the memory budget is refused at once, with the bytes it needs and the budget."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fftconv
from fftconv.backends._parallel import row_block_count, row_blocks
from fftconv.testing import traced_peak


@settings(max_examples=300, deadline=None)
@given(n=st.integers(1, 40), rows=st.integers(1, 60), row_bytes=st.integers(1, 5000),
       block_bytes=st.integers(1, 200_000), threads=st.integers(1, 8))
def test_row_block_count_is_the_length_of_row_blocks(n, rows, row_bytes, block_bytes, threads):
    assert row_block_count(n, rows, row_bytes, block_bytes, threads) == \
        len(row_blocks(n, rows, row_bytes, block_bytes, threads))


@pytest.mark.parametrize("x_shape, w_shape, padding", [
    ((4096, 1024, 65536, 65536), (1024, 1024, 3, 3), 0),
    ((4096, 1024, 65536, 65536), (1024, 1024, 3, 3), 1),
    ((1, 1, 10 ** 6, 10 ** 6), (1, 1, 3, 3), 1),
    ((2 ** 20, 3, 64, 64), (8, 3, 5, 5), 2),
])
def test_estimating_an_impossible_layer_allocates_nothing(x_shape, w_shape, padding):
    """No list of bands or blocks is built: the estimate's memory does not grow
    with the layer (it either chooses a backend or refuses with the bytes)."""
    spec = fftconv.make_spec("t", x_shape, w_shape, padding=padding, dtype=np.float32)

    def estimate():
        try:
            choice = fftconv.choose_backend(spec)
        except MemoryError as exc:
            assert "bytes of working memory" in str(exc) and "memory budget" in str(exc)
        else:
            assert choice.costs[choice.name] > 0

    peak = traced_peak(estimate, warm_up=False)      # the first, unmemoized estimate
    assert peak < 16 << 20


def test_a_layer_over_the_budget_on_every_backend_is_refused_with_the_numbers():
    x, w = np.ones((2, 3, 40, 40)), np.ones((4, 3, 5, 5))
    spec = fftconv.make_spec("t", x.shape, w.shape)
    needs = {name: fftconv.get_backend(name).working_set(spec)
             for name in ("direct", "im2col", "fft")}
    budget = min(needs.values()) - 1
    with fftconv.set_memory_budget(budget):
        with pytest.raises(MemoryError) as info:
            fftconv.conv2d(x, w)
    message = str(info.value)
    assert "(2, 3, 40, 40) -> (2, 4, 36, 36)" in message
    assert f"{min(needs.values()):,} bytes" in message and f"{budget:,} bytes" in message
    for name, nbytes in needs.items():
        assert f"{name}: {nbytes:,}" in message


def test_auto_leaves_out_a_backend_over_the_budget_and_an_explicit_one_is_refused():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 40, 40)), rng.standard_normal((4, 3, 5, 5))
    spec = fftconv.make_spec("t", x.shape, w.shape)
    im2col = fftconv.get_backend("im2col").working_set(spec)
    direct = fftconv.get_backend("direct").working_set(spec)
    assert direct < im2col
    with fftconv.set_memory_budget(im2col - 1):
        choice = fftconv.choose_backend(spec)
        assert "im2col" in choice.skipped and "memory budget" in choice.skipped["im2col"]
        np.testing.assert_allclose(fftconv.conv2d(x, w),
                                   fftconv.conv2d(x, w, backend="direct"))
        with pytest.raises(MemoryError, match=rf"conv2d: the layer .*\(im2col: {im2col:,}\)"):
            fftconv.conv2d(x, w, backend="im2col")


def test_the_memoized_choice_follows_the_budget():
    spec = fftconv.make_spec("t", (2, 3, 40, 40), (4, 3, 5, 5))
    first = fftconv.choose_backend(spec)
    need = fftconv.get_backend(first.name).working_set(spec)
    with fftconv.set_memory_budget(need - 1):
        assert fftconv.choose_backend(spec).name != first.name
    assert fftconv.choose_backend(spec).name == first.name
