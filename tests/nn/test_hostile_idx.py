"""read_idx on generated hostile input: random, truncated and mutated headers and bodies.

Every input must give either the array an independent parse of the bytes
predicts, or a ValueError (an OSError for a file that cannot be opened) whose
message names the file; never another exception, a large allocation or a hang.
"""

import gzip
import math
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from fftconv import nn
from fftconv.nn import data
from fftconv.testing import traced_peak

CODES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
FIXTURE = settings(suppress_health_check=[HealthCheck.function_scoped_fixture],
                   max_examples=150)
#: Generous bound on what reading a tiny file may allocate, whatever it claims.
SMALL_PEAK = 8 << 20


def expected_array(payload: bytes):
    """An independent reading of an uncompressed IDX payload: the array, or None if invalid."""
    if len(payload) < 4 or payload[0] or payload[1] or payload[2] not in CODES \
            or not 1 <= payload[3] <= data.MAX_IDX_DIMS:
        return None
    ndim = payload[3]
    if len(payload) < 4 + 4 * ndim:
        return None
    shape = tuple(int.from_bytes(payload[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(CODES[payload[2]])
    if math.prod(s or 1 for s in shape) * dtype.itemsize > data.MAX_IDX_BYTES:
        return None
    if len(payload) != 4 + 4 * ndim + math.prod(shape) * dtype.itemsize:
        return None
    return np.frombuffer(payload, dtype, offset=4 + 4 * ndim).reshape(shape)


def check_outcome(path, expected):
    """read_idx(path) equals ``expected``, or (expected None) raises a ValueError naming path."""
    if expected is None:
        with pytest.raises(ValueError) as info:
            nn.read_idx(path)
        assert str(path) in str(info.value) and str(info.value).startswith("read_idx: ")
    else:
        got = nn.read_idx(path)
        assert got.dtype == expected.dtype.newbyteorder("=") and got.shape == expected.shape
        np.testing.assert_array_equal(got, expected)


@st.composite
def idx_payloads(draw):
    """Valid small IDX payloads of every type code, then perhaps truncated, cut or padded."""
    code = draw(st.sampled_from(sorted(CODES)))
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=1, max_size=4)))
    dtype = np.dtype(CODES[code])
    body = draw(st.binary(min_size=math.prod(shape) * dtype.itemsize,
                          max_size=math.prod(shape) * dtype.itemsize))
    payload = bytearray(bytes([0, 0, code, len(shape)]) + np.array(shape, ">u4").tobytes()
                        + body)
    mutation = draw(st.sampled_from(["none", "truncate", "append", "flip", "header"]))
    if mutation == "truncate":
        del payload[draw(st.integers(0, max(len(payload) - 1, 0))):]
    elif mutation == "append":
        payload += draw(st.binary(min_size=1, max_size=20))
    elif mutation == "flip":
        at = draw(st.integers(0, len(payload) - 1))
        payload[at] ^= draw(st.integers(1, 255))
    elif mutation == "header":              # any sizes, including ones that overflow int64
        sizes = draw(st.lists(st.integers(0, 2**32 - 1), min_size=len(shape),
                              max_size=len(shape)))
        payload[4:4 + 4 * len(shape)] = np.array(sizes, ">u4").tobytes()
    return bytes(payload)


@FIXTURE
@given(payload=st.one_of(idx_payloads(), st.binary(max_size=64)), gz=st.booleans())
def test_generated_payloads_load_exactly_or_fail_naming_the_file(tmp_path, payload, gz):
    path = tmp_path / "generated.idx"
    path.write_bytes(gzip.compress(payload) if gz else payload)
    if gz or payload[:2] != b"\x1f\x8b":
        check_outcome(path, expected_array(payload))
    else:                                     # random bytes that look like gzip
        try:
            nn.read_idx(path)
        except ValueError as exc:
            assert str(path) in str(exc)


@FIXTURE
@given(payload=idx_payloads(), data_=st.data())
def test_damaged_gzip_streams_fail_naming_the_file(tmp_path, payload, data_):
    """Cut, flipped or extended compressed bytes: the array promised, or a ValueError."""
    packed = bytearray(gzip.compress(payload))
    how = data_.draw(st.sampled_from(["cut", "flip", "junk"]))
    if how == "cut":
        del packed[data_.draw(st.integers(0, len(packed) - 1)):]
    elif how == "flip":
        at = data_.draw(st.integers(0, len(packed) - 1))
        packed[at] ^= data_.draw(st.integers(1, 255))
    else:
        packed += data_.draw(st.binary(min_size=1, max_size=16))
    path = tmp_path / "damaged.gz"
    path.write_bytes(bytes(packed))
    try:
        got = nn.read_idx(path)
    except ValueError as exc:
        assert str(path) in str(exc) and str(exc).startswith("read_idx: ")
    else:
        # Only damage gzip itself tolerates (a flipped bit in the header's
        # mtime or OS byte, trailing zero padding) may still load, and then
        # what loads is what a plain file of the decompressed bytes gives.
        inflated = gzip.decompress(bytes(packed))
        np.testing.assert_array_equal(got, expected_array(inflated))


@FIXTURE
@given(sizes=st.lists(st.integers(2**16, 2**32 - 1), min_size=1, max_size=6),
       code=st.sampled_from(sorted(CODES)), gz=st.booleans(), body=st.binary(max_size=256))
def test_huge_claims_in_tiny_files_allocate_nothing_big(tmp_path, sizes, code, gz, body):
    payload = bytes([0, 0, code, len(sizes)]) + np.array(sizes, ">u4").tobytes() + body
    path = tmp_path / "claims.idx"
    path.write_bytes(gzip.compress(payload) if gz else payload)

    def read():
        with pytest.raises(ValueError, match=r"read_idx: .*(truncated|beyond the cap "
                                             r"MAX_IDX_BYTES).*" + str(path)):
            nn.read_idx(path)
    assert traced_peak(read) < SMALL_PEAK


@pytest.mark.parametrize("claimed, streamed, pattern", [
    (1 << 30, 1 << 20, r"truncated: header \(1073741824,\) needs 1073741832 bytes, the gzip "
                       r"stream holds 1048584"),
    (16, 64 << 20, r"trailing bytes: header \(16,\) needs 24 bytes, the gzip stream holds "
                   r"more"),
])
def test_gzip_is_streamed_not_inflated_whole(tmp_path, claimed, streamed, pattern):
    """A short stream claiming 1 GiB, and a 64 MiB bomb behind a 16-byte header."""
    packer = zlib.compressobj(9, wbits=31)
    packed = packer.compress(bytes([0, 0, 8, 1]) + claimed.to_bytes(4, "big"))
    zeros = bytes(1 << 20)
    packed += b"".join(packer.compress(zeros) for _ in range(streamed >> 20)) + packer.flush()
    path = tmp_path / "bomb.gz"
    path.write_bytes(packed)

    def read():
        with pytest.raises(ValueError, match=pattern):
            nn.read_idx(path)
    assert len(packed) < 256 << 10
    assert traced_peak(read) < SMALL_PEAK


def test_the_cap_is_the_documented_constant(tmp_path, monkeypatch):
    payload = bytes([0, 0, 0x0C, 2, 0, 0, 0, 10, 0, 0, 0, 10]) + bytes(400)
    path = tmp_path / "cap.idx"
    path.write_bytes(payload)
    assert nn.read_idx(path).shape == (10, 10)
    monkeypatch.setattr(data, "MAX_IDX_BYTES", 399)
    with pytest.raises(ValueError, match=r"header \(10, 10\) claims 400 bytes of int32, beyond "
                                         r"the cap MAX_IDX_BYTES = 399"):
        nn.read_idx(path)


def test_sizes_past_2_63_do_not_wrap(tmp_path):
    """Four sizes of 2**16 multiply to 2**64: np.prod wraps that to 0, Python ints do not."""
    payload = bytes([0, 0, 8, 4]) + np.array([2**16] * 4, ">u4").tobytes()
    path = tmp_path / "wrap.idx"
    path.write_bytes(payload)
    with pytest.raises(ValueError, match=r"claims 18446744073709551616 bytes of uint8, beyond "
                                         r"the cap"):
        nn.read_idx(path)


def test_zero_sized_and_many_dimensional_headers(tmp_path):
    path = tmp_path / "empty.idx"
    path.write_bytes(bytes([0, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 7]))
    assert nn.read_idx(path).shape == (0, 5, 7)
    path.write_bytes(bytes([0, 0, 8, 200]) + bytes(800))
    with pytest.raises(ValueError, match=r"200 dimensions, more than MAX_IDX_DIMS = 32"):
        nn.read_idx(path)
