"""Coarse-grained threading shared by the backends.

Waking a worker thread is not free and its cost is not steady: on a small
shared machine its virtual CPU may be descheduled, and BLAS workers woken for a
product spin for a while afterwards before they sleep, competing with
everything else for the cores. Many small multithreaded BLAS calls therefore make
a layer's time both longer and erratic from run to run. So the backends
parallelize coarsely: a few large pieces of work on a persistent pool, each
running its BLAS calls single-threaded (:func:`one_blas_thread`). The asv suite
(``benchmarks/``) and ``fftconv bench`` measure the result.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np

__all__ = ["one_blas_thread", "blas_threads", "threads_for", "pool", "run_parts",
           "even_slices", "split_matmul", "row_blocks", "row_block_count", "shares",
           "add_up", "scratch", "SCRATCH_BYTES"]

_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()
_BLAS = None
_SINGLE_LOCK = threading.Lock()
_single_depth = 0            # callers inside one_blas_thread(), across threads
_single_limiter = None
_outer_threads = 1             # blas_threads() before the first of them entered


def _controller():
    global _BLAS
    if _BLAS is None:
        from threadpoolctl import ThreadpoolController
        _BLAS = ThreadpoolController().select(user_api="blas")
    return _BLAS


@contextmanager
def one_blas_thread():
    """A context in which BLAS runs in the calling thread only.

    The BLAS thread count is process-wide, so the contexts of several threads
    share one limit: the first to enter sets it, the last to leave restores it.
    (OpenBLAS may apply only a limit set from the main thread, to every thread,
    and ignore one set from another: called from a worker thread of the user's,
    fftconv then computes the same results, with BLAS threads.)
    Inside the context :func:`blas_threads` still reports the count in force
    before it, the count the work is split by.
    """
    global _single_depth, _single_limiter, _outer_threads
    with _SINGLE_LOCK:
        if _single_depth == 0:
            _outer_threads = _library_threads()
            _single_limiter = _controller().limit(limits=1)
        _single_depth += 1
    try:
        yield
    finally:
        with _SINGLE_LOCK:
            _single_depth -= 1
            if _single_depth == 0:
                _single_limiter.restore_original_limits()
                _single_limiter = None


def _library_threads() -> int:
    libs = _controller().lib_controllers
    return max(1, min(lib.num_threads for lib in libs)) if libs else 1


def blas_threads() -> int:
    """The BLAS thread count in force (1 when no BLAS library is found), outside
    :func:`one_blas_thread`: the user's setting, not the context's own limit."""
    with _SINGLE_LOCK:
        if _single_depth:
            return _outer_threads
    return _library_threads()


def threads_for(macs: int, min_macs: int) -> int:
    """Threads for a pass of ``macs`` multiply-adds: the BLAS setting in force from
    ``min_macs`` on, else 1 (waking a thread costs more than a small pass gains)."""
    return blas_threads() if macs >= min_macs else 1


def pool(workers: int) -> ThreadPoolExecutor:
    """A persistent pool of ``workers`` threads (created once per size)."""
    with _POOLS_LOCK:
        if workers not in _POOLS:
            _POOLS[workers] = ThreadPoolExecutor(workers, thread_name_prefix="fftconv")
        return _POOLS[workers]


def run_parts(fn, parts: list) -> list:
    """``[fn(part) for part in parts]``, the first in this thread, the rest on the pool."""
    futures = [pool(len(parts) - 1).submit(fn, part) for part in parts[1:]] \
        if len(parts) > 1 else []
    first = fn(parts[0])
    return [first] + [future.result() for future in futures]


def add_up(partials: list):
    """The sum of the threads' partial results, added into the first in place.

    Examples
    --------
    >>> add_up([np.ones(2), np.ones(2), np.ones(2)])
    array([3., 3.])
    """
    total, *rest = partials
    for more in rest:
        total += more
    return total


def even_slices(n: int, parts: int) -> list:
    """``range(n)`` cut into ``parts`` consecutive slices whose lengths differ by at
    most one (empty ones left out).

    Examples
    --------
    >>> even_slices(7, 3)
    [slice(0, 2, None), slice(2, 4, None), slice(4, 7, None)]
    """
    edges = [n * i // parts for i in range(parts + 1)]
    return [slice(lo, hi) for lo, hi in zip(edges[:-1], edges[1:]) if hi > lo]


def split_matmul(a, b, out, threads: int):
    """``np.matmul(a, b, out=out)`` with the columns of ``b`` / ``out`` split across
    ``threads`` threads, each on one BLAS thread; returns ``out``."""
    with one_blas_thread():
        run_parts(lambda part: np.matmul(a, b[..., part], out=out[..., part]),
                  even_slices(b.shape[-1], threads))
    return out


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def row_blocks(n: int, rows: int, row_bytes: int, block_bytes: int, threads: int) -> list:
    """Blocks ``(n0, n1, i0, i1)`` (images ``n0:n1``, output rows ``i0:i1``) that cover
    ``n`` images of ``rows`` output rows each, every row exactly once.

    A block holds at most about ``block_bytes`` at ``row_bytes`` per output row
    (a single row may exceed it): whole images when they are that small, else
    equal runs of rows of one image. The count of blocks is a multiple of
    ``threads`` where the layer allows, so that every thread gets the same work
    (the threads all wait for the last to finish, so uneven shares cost the
    difference between the largest share and the mean). Blocks of a cache's size are
    *loop tiling* (Lam, Rothberg & Wolf, *The cache performance and optimizations
    of blocked algorithms*, ASPLOS 1991).

    Parameters
    ----------
    n, rows : int
        Images and output rows per image.
    row_bytes, block_bytes : int
        Bytes of working set per output row, and the most a block should hold.
    threads : int
        Threads the blocks are shared among (:func:`shares`).

    Returns
    -------
    list of (n0, n1, i0, i1)
        In order; every block either whole images (``i0, i1 = 0, rows``) or rows of
        one image (``n1 = n0 + 1``).

    Examples
    --------
    >>> row_blocks(2, 58, 128, 47 * 128, threads=2)      # 29 + 29 rows, not 47 + 11
    [(0, 1, 0, 29), (0, 1, 29, 58), (1, 2, 0, 29), (1, 2, 29, 58)]
    >>> row_blocks(8, 5, 128, 10 * 128, threads=2)       # two whole images each
    [(0, 2, 0, 5), (2, 4, 0, 5), (4, 6, 0, 5), (6, 8, 0, 5)]
    """
    images, step = _block_layout(n, rows, row_bytes, block_bytes, threads)
    if step is None:
        return [(i, min(i + images, n), 0, rows) for i in range(0, n, images)]
    return [(i, i + 1, r, min(r + step, rows)) for i in range(n) for r in range(0, rows, step)]


def _block_layout(n: int, rows: int, row_bytes: int, block_bytes: int, threads: int):
    """``(whole_images, step)``: images per block when blocks are whole images
    (``step`` None), else ``(None, rows per block)`` (:func:`row_blocks`)."""
    fit = max(1, block_bytes // max(row_bytes, 1))          # rows per block
    if fit >= rows and n >= threads:
        count = min(n, _round_up(-(-n // (fit // rows)), threads))
        return -(-n // count), None
    per_image = min(rows, max(-(-rows // fit), -(-threads // n)))
    while (n * per_image) % threads and per_image < rows:   # at most `threads` steps
        per_image += 1
    return None, -(-rows // per_image)


def row_block_count(n: int, rows: int, row_bytes: int, block_bytes: int,
                    threads: int) -> int:
    """``len(row_blocks(...))`` in constant time and memory, for cost estimates of
    layers of any size.

    Examples
    --------
    >>> row_block_count(2, 58, 128, 47 * 128, threads=2)
    4
    >>> row_block_count(4096, 65536, 1 << 30, 1 << 20, threads=2)   # no list is built
    268435456
    """
    images, step = _block_layout(n, rows, row_bytes, block_bytes, threads)
    if step is None:
        return -(-n // images)
    return n * -(-rows // step)


def shares(blocks: list, threads: int) -> list:
    """``blocks`` in ``threads`` runs of consecutive blocks, equal in count to within
    one (a block cut short at an image's last row falls to each thread alike)."""
    return [blocks[part] for part in even_slices(len(blocks), threads)]


#: Most bytes of work arrays one thread keeps between calls (:func:`scratch`),
#: over every backend that uses them.
SCRATCH_BYTES = 128 << 20

_SCRATCH = threading.local()


def scratch(name: str, shape: tuple, dtype, budget: int) -> np.ndarray:
    """The calling thread's work array ``name``, viewed as ``shape`` of ``dtype``;
    its contents are undefined.

    Each thread keeps one buffer per name between blocks and calls, grown when a
    larger one is asked for. A fresh array of a few MiB costs a page fault per
    4 KiB on first touch (measured on the 2-core machine: 7 MiB took 1.3–1.9 ms,
    as long as the Winograd input transform that fills it; im2col's backward of
    LeNet-5's C1 took 5 ms instead of 1.4 on three fresh 3 MiB buffers per call),
    so the backends' intermediates are reused; what is returned to a caller is
    never scratch. Past :data:`SCRATCH_BYTES` per thread, or past ``budget``
    (the memory budget), a fresh array is returned instead.

    Names are shared by every backend on the thread: each backend prefixes its
    own (``"im2col.cols"``), and no call holds a name across a call that may
    take it.
    """
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    slots = getattr(_SCRATCH, "slots", None)
    if slots is None:
        slots = _SCRATCH.slots = {}
    buf = slots.get(name)
    if buf is None or buf.nbytes < nbytes:
        others = sum(b.nbytes for key, b in slots.items() if key != name)
        if others + nbytes > min(SCRATCH_BYTES, budget):
            return np.empty(shape, dtype=dtype)
        slots.pop(name, None)
        buf = slots[name] = np.empty(nbytes, dtype=np.uint8)
    return buf[:nbytes].view(dtype).reshape(shape)
