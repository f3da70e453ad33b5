"""fftconv on dask arrays: signal ops and layer inference on arrays larger than memory.

:func:`fftconv.convolve`, :func:`fftconv.correlate` and :func:`fftconv.conv2d`
hand a ``dask.array.Array`` argument to this module (``api.py`` checks for one
without importing dask, and hands in its in-memory computation, so this module
imports nothing of ``api``); the functions here build a lazy dask array whose
blocks are computed by the same in-memory code, so the result of
``.compute()`` is the in-memory result (to the float tolerance of
:data:`fftconv.testing.TOLERANCES`) for any chunking of the input.

How a signal op is cut into tasks
---------------------------------
Output ``o`` (in the requested mode's coordinates) of an axis of length ``A``
convolved with a kernel of length ``B`` is full-convolution output
``f = start + o`` (``start``: 0 for ``'full'``, ``(B - 1) // 2`` for ``'same'``,
``B - 1`` for ``'valid'``), which reads the signal samples ``f - B + 1 … f``.
So an output block ``[o0, o1)`` needs exactly the signal samples
``[start + o0 - B + 1, start + o1)`` (zeros outside ``[0, A)``): the exact
overlap, taken from the kernel's shape. Each output block is one task: it
gathers those samples from however many input chunks hold them (irregular
chunks, chunks smaller than the kernel), and computes a ``'valid'``
convolution of them with the kernel on the library's path
(:class:`fftconv.overlap_save.OverlapSave`, tiled FFT, or the direct method
when ``method`` or the ``'auto'`` estimate says so). Output blocks follow the
input's chunk boundaries, merged so that none is shorter than the kernel (a
block of a few samples would read ``B - 1`` samples of overlap per sample it
writes). The kernel is one key of the graph, sent once to each worker, not
once per task.

Threads
-------
dask runs several tasks at once and fftconv's FFT engine would, by default,
use every core in each of them. A task therefore runs its transforms with
``max(1, cores // slots)`` threads (:func:`task_threads`), where ``cores`` is
the number of cores this process may run on and ``slots`` the number of tasks
dask runs at once in it: the threads of every ``distributed`` worker in the
process, ``dask.config`` ``num_workers`` for the local threaded scheduler (its
default pool has one thread per core), 1 for the synchronous scheduler. The
dask config key ``fftconv.threads`` (read where the task runs) overrides the
rule, for example for several worker *processes* on one machine, which cannot
see one another. The FFT engine (numpy, scipy, pyFFTW and its planner effort)
is the one in force where the graph is built.
"""

from __future__ import annotations

import copy
import itertools
import sys
from dataclasses import dataclass

import numpy as np

from . import _signal, fftlib
from .checks import as_array
from .errors import bad_type
from .optional import require

__all__ = ["is_dask_array", "signal_op", "conv2d", "predict", "task_threads",
           "output_chunks", "chunk_bounds", "map_regions", "open_array", "write_zarr"]


def is_dask_array(x) -> bool:
    """Whether ``x`` is a ``dask.array.Array``, without importing dask (an object
    cannot be one if dask was never imported).

    Examples
    --------
    >>> import numpy as np
    >>> is_dask_array(np.ones(3))
    False
    """
    module = sys.modules.get("dask.array")
    return module is not None and isinstance(x, module.Array)


def _dask(func: str):
    require("dask.array", "dask", func)
    import dask
    import dask.array
    import dask.highlevelgraph
    return dask


# -- threads -------------------------------------------------------------------
def _slots() -> int:
    """Tasks dask may run at once in this process (see the module notes)."""
    import dask
    try:
        from distributed import Worker, get_worker
        get_worker()
    except (ImportError, ValueError):
        pass
    else:
        live = [w for w in list(Worker._instances)        # closed ones may linger
                if getattr(w.status, "name", "") in ("running", "paused")]
        return max(1, sum(w.state.nthreads for w in live))
    scheduler = dask.config.get("scheduler", None)
    if scheduler in ("sync", "synchronous", "single-threaded"):
        return 1
    return max(1, int(dask.config.get("num_workers", None) or fftlib.default_threads()))


def task_threads() -> int:
    """FFT threads of one dask task here: dask config ``fftconv.threads`` if set,
    else ``max(1, cores // slots)`` (module notes).

    Examples
    --------
    >>> import dask
    >>> with dask.config.set({"fftconv.threads": 3}):
    ...     task_threads()
    3
    """
    import dask
    chosen = dask.config.get("fftconv.threads", None)
    if chosen is not None:
        return max(1, int(chosen))
    return max(1, fftlib.default_threads() // _slots())


@dataclass(frozen=True)
class _Engine:
    """The FFT engine in force where the graph was built (name, planner effort)."""

    name: str
    effort: str | None

    @classmethod
    def current(cls) -> "_Engine":
        engine = fftlib.get_fft_engine()
        return cls(engine.name, getattr(engine, "planner_effort", None))

    def scope(self):
        return fftlib.set_fft_engine(self.name, threads=task_threads(),
                                     planner_effort=self.effort)


# -- chunk geometry --------------------------------------------------------------
def output_chunks(chunks, length: int, shift: int, least: int) -> tuple:
    """Output chunk sizes along one convolved axis.

    Parameters
    ----------
    chunks : tuple of int
        The input's chunks along the axis.
    length : int
        Output length.
    shift : int
        Output index of input sample 0 (input boundary ``c`` becomes ``c + shift``).
    least : int
        No chunk but the last shorter than this (a short one is merged with the
        next); a regular input chunking stays regular.

    Examples
    --------
    >>> output_chunks((4, 4, 1, 3), 12, 0, 3)
    (4, 4, 4)
    >>> output_chunks((1, 1, 5, 5, 5), 17, 0, 3)
    (7, 5, 5)
    >>> output_chunks((10,), 14, 2, 5)
    (12, 2)
    """
    cuts = {0, length}
    for c in itertools.accumulate(chunks):
        cuts.add(min(max(c + shift, 0), length))
    cuts = sorted(cuts)
    sizes = [b - a for a, b in zip(cuts, cuts[1:]) if b > a]
    merged: list[int] = []
    for size in sizes:
        if merged and merged[-1] < least:
            merged[-1] += size
        else:
            merged.append(size)
    # a short last chunk stays: merged into the one before, it would make the
    # chunking irregular (zarr needs equal chunks but the last)
    return tuple(merged) or (0,)


def chunk_bounds(chunks) -> list:
    """``[(start, stop), ...]`` of chunk sizes along one axis.

    Examples
    --------
    >>> chunk_bounds((3, 1, 2))
    [(0, 3), (3, 4), (4, 6)]
    """
    edges = [0, *itertools.accumulate(chunks)]
    return list(zip(edges, edges[1:]))


@dataclass(frozen=True)
class _Pieces:
    """Which parts of which input blocks make up one task's (zero-padded) input."""

    shape: tuple                 # the task's input buffer
    parts: tuple                 # (buffer slices, block slices) per block, in key order
    index: tuple                 # the output block's index


def _gather(pieces: _Pieces, blocks, dtype) -> np.ndarray:
    if len(pieces.parts) == 1:
        (target, source), = pieces.parts
        block = blocks[0][source]
        if block.shape == pieces.shape:     # one block, no padding: no copy
            return np.asarray(block, dtype=dtype)
    buf = np.zeros(pieces.shape, dtype=dtype)
    for (target, source), block in zip(pieces.parts, blocks):
        buf[target] = block[source]
    return buf


def _region_task(blocks, pieces: _Pieces, func, in_dtype, engine: _Engine, *shared):
    region = _gather(pieces, blocks, in_dtype)
    with engine.scope():
        return func(region, pieces.index, *shared)


def map_regions(func, x, chunks, regions, dtype, *, in_dtype=None, shared=(), name="fftconv",
                token=None, meta_ndim=None):
    """A dask array whose every block is ``func`` of one region of ``x``.

    The building block of the dask paths (signal ops, matching, peaks): block
    ``index`` of the result is ``func(region, index, *shared)``, where
    ``region`` is ``x[lo_0:hi_0, lo_1:hi_1, ...]`` for that block's ranges, with
    zeros where a range leaves ``x`` (its ``in_dtype``, default ``x.dtype``). A
    region is gathered from however many chunks of ``x`` hold it (no rechunking;
    one task per output block). Each ``shared`` value (a kernel, a template,
    weights) is a single key of the graph, sent to a worker once. ``func`` runs
    with the FFT engine in force here, with :func:`task_threads` threads.

    Parameters
    ----------
    func : callable
        ``func(region, index, *shared) -> ndarray`` of the block's shape (module
        level, so that a distributed scheduler can send it).
    x : dask.array.Array
    chunks : tuple of tuple of int
        The result's chunks (as many axes as ``x``, or more: trailing axes
        ``func`` adds are one chunk each and get no region).
    regions : sequence of sequence of (int, int)
        Per axis of ``x``, per block along it, the input range ``[lo, hi)``.
    dtype : numpy dtype
        The result's.
    shared : tuple
        In-memory objects every task receives.
    name, token : str
        Key prefix, and a token identifying the computation (default: from the
        arguments).

    Returns
    -------
    dask.array.Array

    See Also
    --------
    dask.array.map_overlap : blocks with a fixed halo (``depth``), padded by a
        boundary mode; here each block reads exactly its own region.
    dask.array.map_blocks : one task per block, without overlap.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> x = da.from_array(np.arange(6.0), chunks=2)
    >>> def window_sums(region, index):
    ...     return region[:-1] + region[1:]
    >>> y = map_regions(window_sums, x, ((3, 3),), [[(0, 4), (3, 7)]], np.float64)
    >>> y.compute()
    array([1., 3., 5., 7., 9., 5.])
    """
    dask = _dask(name)
    da = dask.array
    in_dtype = np.dtype(x.dtype if in_dtype is None else in_dtype)
    token = token or dask.base.tokenize(x, chunks, regions, dtype, func, shared)
    out_name = f"{name}-{token}"
    graph, shared_keys = {}, []
    for n, value in enumerate(shared):
        key = (f"{name}-shared{n}-{dask.base.tokenize(value)}",)
        graph[key] = value
        shared_keys.append(key)
    in_bounds = [chunk_bounds(c) for c in x.chunks]
    engine = _Engine.current()
    extra = (0,) * (len(chunks) - x.ndim)
    for index in itertools.product(*(range(len(c)) for c in chunks[:x.ndim])):
        ranges, shape = [], []
        for ax, i in enumerate(index):
            lo, hi = regions[ax][i]
            shape.append(hi - lo)
            ranges.append([(j, slice(max(lo, s) - lo, min(hi, e) - lo),
                            slice(max(lo, s) - s, min(hi, e) - s))
                           for j, (s, e) in enumerate(in_bounds[ax]) if max(lo, s) < min(hi, e)])
        keys, parts = [], []
        for combo in itertools.product(*ranges):
            keys.append((x.name,) + tuple(j for j, _, _ in combo))
            parts.append((tuple(t for _, t, _ in combo), tuple(s for _, _, s in combo)))
        pieces = _Pieces(tuple(shape), tuple(parts), index)
        graph[(out_name,) + index + extra] = (_region_task, keys, pieces, func, in_dtype,
                                              engine, *shared_keys)
    hlg = dask.highlevelgraph.HighLevelGraph.from_collections(out_name, graph,
                                                              dependencies=[x])
    return da.Array(hlg, out_name, tuple(tuple(c) for c in chunks), dtype=dtype,
                    meta=np.empty((0,) * len(chunks), dtype=dtype))


@dataclass(frozen=True)
class _ValidBlock:
    """One output block of a signal op: the 'valid' convolution of its region with the
    kernel (the part of the kernel stack its block index selects)."""

    kernel_slices: tuple         # per axis, per block: the kernel's slice
    axes: tuple
    method: str
    dtype: np.dtype
    run: object                  # api's in-memory op (a, b, mode, axes, method)

    def __call__(self, region, index, kernel):
        part = tuple(per_block[i] for per_block, i in zip(self.kernel_slices, index))
        out = self.run(region, kernel[part], "valid", self.axes, self.method)
        return out.astype(self.dtype, copy=False)


def _check_signal(func: str, a, b, mode, axes, method):
    """The in-memory checks of ``convolve`` on a stand-in for the dask array ``a``
    (its shape and dtype, no data); return ``(dtype of a, b, axes)``."""
    meta = np.broadcast_to(np.zeros((), dtype=a.dtype), a.shape)
    meta, b, axes = _signal.check_signal_args(func, meta, b, mode, axes, method)
    if mode == "same" and meta.ndim:        # the in-memory rule: in1's size off the axes
        b = _signal.same_on_other_axes(meta, b, axes)
    return meta.dtype, b, axes


def signal_op(func: str, a, b, mode, axes, method, *, flip: bool, run):
    """:func:`fftconv.convolve` (``flip=False``) or :func:`fftconv.correlate`
    (``flip=True``) of a dask signal ``a`` with an in-memory kernel ``b``: a lazy
    dask array (module notes: one task per output block, exact overlap).

    The public functions call this for a dask argument; ``run`` is their in-memory
    computation on checked arrays, ``run(a, b, mode, axes, method)``, applied to
    every block in ``'valid'`` mode (handed in, so that this module needs nothing
    of ``fftconv.api``). Parameters and result are those of
    :func:`fftconv.convolve`.

    See Also
    --------
    dask_image.ndfilters.convolve, dask_image.ndfilters.correlate : the
        ndimage-style ``'same'``-size filters of a dask image (boundary modes, no
        ``'full'`` / ``'valid'``), built on ``dask.array.map_overlap``.

    Examples
    --------
    >>> import numpy as np, dask.array as da, fftconv
    >>> x = da.from_array(np.arange(10.0), chunks=3)
    >>> y = fftconv.convolve(x, np.array([1.0, 1.0]), mode="valid")
    >>> y.compute()
    array([ 1.,  3.,  5.,  7.,  9., 11., 13., 15., 17.])
    """
    dask = _dask(func)
    da = dask.array
    if is_dask_array(b):
        b = b.compute()          # the kernel: small, in memory (module notes)
    if not is_dask_array(a):
        raise bad_type(func, "in1", a, "a dask array when in2 is one (the signal is the "
                                       "dask array; the kernel stays in memory)")
    kind, b, axes = _check_signal(func, a, b, mode, axes, method)
    if flip:
        b = np.conj(np.flip(b, axis=axes)) if np.iscomplexobj(b) else np.flip(b, axis=axes)
    dtype = np.result_type(kind, b.dtype)
    if a.ndim == 0:
        return a.astype(dtype) * b
    out_shape = []
    for ax in range(a.ndim):
        sa, sb = a.shape[ax], b.shape[ax]
        if ax in axes:
            out_shape.append({"full": sa + sb - 1, "same": sa,
                              "valid": abs(sa - sb) + 1}[mode])
        else:
            out_shape.append(max(sa, sb))
    if 0 in a.shape or 0 in b.shape:
        return da.zeros(tuple(out_shape), dtype=dtype)
    out_chunks, regions, kernel_slices = [], [], []
    for ax in range(a.ndim):
        sa, sb = a.shape[ax], b.shape[ax]
        if ax in axes:
            start = {"full": 0, "same": (sb - 1) // 2, "valid": min(sa, sb) - 1}[mode]
            chunks = output_chunks(a.chunks[ax], out_shape[ax], (sb - 1) // 2 - start, sb)
            # output block [o0, o1) reads samples [start + o0 - sb + 1, start + o1)
            need = [(start + o0 - sb + 1, start + o1) for o0, o1 in chunk_bounds(chunks)]
            kernel = [slice(None)] * len(chunks)
        elif sa == out_shape[ax]:           # the signal's own axis (b: equal or 1)
            chunks = a.chunks[ax]
            need = chunk_bounds(chunks)
            kernel = [slice(lo, hi) if sb > 1 else slice(None) for lo, hi in need]
        else:                               # a broadcasts (size 1) against b's stack
            chunks = (out_shape[ax],)
            need, kernel = [(0, 1)], [slice(None)]
        out_chunks.append(chunks)
        regions.append(need)
        kernel_slices.append(kernel)
    block = _ValidBlock(tuple(kernel_slices), axes, method, dtype, run)
    return map_regions(block, a, tuple(out_chunks), regions, dtype, in_dtype=kind,
                       shared=(b,), name=f"fftconv-{func}")


# -- the layer op: a dask batch --------------------------------------------------
def _conv2d_task(x, w, bias, kwargs, engine: _Engine, run):
    with engine.scope():
        return run(np.asarray(x), w, bias, **kwargs)


def conv2d(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1, backend=None, *,
           run, prepare):
    """:func:`fftconv.conv2d` of a dask batch ``x`` ``(N, C_in, H, W)``.

    The batch axis keeps its chunks (the other axes are made one chunk each: a
    sample is the unit of work); every block runs :func:`fftconv.conv2d` in
    memory (``run``, handed in by :func:`fftconv.conv2d` with its argument checks
    ``prepare``). ``w`` and ``bias`` are one key each of the graph (sent once to
    a worker, not once per task). The geometry is checked before anything runs.

    See Also
    --------
    fftconv.conv2d : the in-memory op each block runs (and that dispatches here).
    torch.nn.functional.conv2d : what every block computes.
    dask.array.map_blocks : the same one-task-per-chunk plan, for any function.

    Examples
    --------
    >>> import numpy as np, dask.array as da, fftconv
    >>> x = da.ones((6, 1, 4, 4), chunks=(2, 1, 4, 4))
    >>> y = fftconv.conv2d(x, np.ones((1, 1, 3, 3)))
    >>> y.chunks[0], float(y.sum().compute())
    ((2, 2, 2), 216.0)
    """
    dask = _dask("conv2d")
    da = dask.array
    if not is_dask_array(x):
        raise bad_type("conv2d", "x", x, "a dask array (the weights stay in memory)")
    if is_dask_array(w) or is_dask_array(bias):
        raise bad_type("conv2d", "w", w, "an in-memory ndarray when x is a dask array")
    w_dtype = as_array("conv2d", "w", w, ndim=4, arrays_only=True).dtype
    kind = np.result_type(
        as_array("conv2d", "x", np.zeros((1,) * x.ndim, dtype=x.dtype), arrays_only=True),
        w_dtype)
    meta = np.broadcast_to(np.zeros((), dtype=kind), x.shape)
    _, w, bias, spec = prepare("conv2d", meta, w, bias, stride, padding, dilation, groups)
    x = x.rechunk({1: -1, 2: -1, 3: -1})
    kwargs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups,
                  backend=backend)
    token = dask.base.tokenize(x, w, bias, kwargs)
    name = "fftconv-conv2d-" + token
    wkey, bkey = ("fftconv-weight-" + token,), ("fftconv-bias-" + token,)
    graph = {wkey: w, bkey: bias}
    engine = _Engine.current()
    for i in range(len(x.chunks[0])):
        graph[(name, i, 0, 0, 0)] = (_conv2d_task, (x.name, i, 0, 0, 0), wkey, bkey,
                                     kwargs, engine, run)
    hlg = dask.highlevelgraph.HighLevelGraph.from_collections(name, graph, dependencies=[x])
    _, c_out, oh, ow = spec.output_shape
    return da.Array(hlg, name, (x.chunks[0], (c_out,), (oh,), (ow,)), dtype=spec.dtype,
                    meta=np.empty((0, 0, 0, 0), dtype=spec.dtype))


# -- a model's predictions over a dask batch ----------------------------------------
def _predict_task(x, model, batch_size, backend, engine: _Engine, run):
    # a copy per task: predict switches the model to evaluation mode and back, which
    # concurrent tasks on one shared object would undo for one another
    with engine.scope():
        return run(copy.deepcopy(model), np.asarray(x), batch_size, backend)


def predict(model, x, batch_size=256, backend=None, *, run):
    """:func:`fftconv.nn.predict` over a dask batch ``x`` ``(N, ...)`` (chunked along N).

    One task per chunk of N (the other axes made one chunk each); the model is one
    key of the graph, sent once to a worker, and each task predicts with a copy of
    it (``run``: the in-memory ``predict``, handed in by :func:`fftconv.nn.predict`).
    The output's trailing shape and dtype come from a prediction of the first
    sample, made here.

    See Also
    --------
    dask.array.map_blocks : the same one-task-per-chunk plan, for any function.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> from fftconv import nn
    >>> x = da.zeros((5, 1, 32, 32), dtype=np.float32, chunks=(2, 1, 32, 32))
    >>> y = nn.predict(nn.lenet5(), x)
    >>> y.chunks, y.compute().shape
    (((2, 2, 1), (10,)), (5, 10))
    """
    dask = _dask("predict")
    da = dask.array
    if x.ndim < 2 or x.shape[0] == 0:
        raise bad_type("predict", "x", x, "a non-empty array with a batch axis")
    probe = run(copy.deepcopy(model), np.asarray(x[:1].compute()), batch_size, backend)
    x = x.rechunk({ax: -1 for ax in range(1, x.ndim)})
    token = dask.base.tokenize(x, id(model), batch_size, backend)
    name, mkey = "fftconv-predict-" + token, ("fftconv-model-" + token,)
    graph = {mkey: model}
    engine = _Engine.current()
    zeros = (0,) * (x.ndim - 1)
    for i in range(len(x.chunks[0])):
        graph[(name, i) + (0,) * (probe.ndim - 1)] = (
            _predict_task, (x.name, i) + zeros, mkey, batch_size, backend, engine, run)
    hlg = dask.highlevelgraph.HighLevelGraph.from_collections(name, graph, dependencies=[x])
    return da.Array(hlg, name, (x.chunks[0],) + tuple((n,) for n in probe.shape[1:]),
                    dtype=probe.dtype, meta=np.empty((0,) * probe.ndim, dtype=probe.dtype))


# -- files: zarr and .npy in, zarr out ----------------------------------------------
def open_array(func: str, param: str, path, chunks=2048):
    """A lazy dask array of a zarr array (a directory) or of a ``.npy`` file (opened as
    a read-only memmap, never read whole), for the command line.

    Parameters
    ----------
    func, param : str
        Who asks, for the messages (``'fftconv filter'``, ``'IMAGE'``).
    path : str or os.PathLike
    chunks : int or tuple
        Chunks of a ``.npy`` file's array (a zarr array keeps its own).

    Raises
    ------
    OSError, ValueError
        A missing path, or a file that is neither zarr nor ``.npy``; the message
        names ``func``, ``param`` and the path.

    See Also
    --------
    dask.array.from_zarr : what a zarr directory is opened with.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "scene.npy")
    >>> np.save(path, np.ones((5, 4)))
    >>> open_array("demo", "IMAGE", path, chunks=2).chunks
    ((2, 2, 1), (2, 2))
    """
    import os
    dask = _dask(func)
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{func}: {param} {path!r} does not exist")
    if os.path.isdir(path):
        require("zarr", "dask", func)
        try:
            return dask.array.from_zarr(path)
        except Exception as exc:        # zarr's own errors vary by version and format
            raise ValueError(f"{func}: {param} {path!r} is a directory but not a zarr "
                             f"array ({type(exc).__name__}: {exc})") from exc
    if not path.lower().endswith(".npy"):
        raise ValueError(f"{func}: {param} {path!r} must be a zarr array (a directory) "
                         "or a .npy file")
    try:
        data = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise ValueError(f"{func}: {param} {path!r} is not a readable .npy file "
                         f"({exc})") from exc
    return dask.array.from_array(data, chunks=chunks)


def write_zarr(x, path, progress: bool = True) -> None:
    """Compute ``x`` into a new zarr array at ``path``, with a progress bar on standard
    error: dask's (``dask.diagnostics.ProgressBar``) on the local schedulers,
    ``distributed.progress`` when a distributed client is the default.

    See Also
    --------
    dask.array.to_zarr : the store this calls (after making the chunks regular, as
        zarr requires).
    """
    dask = _dask("write_zarr")
    require("zarr", "dask", "write_zarr")
    regular = all(len(set(c[:-1])) <= 1 and c[-1] <= c[0] for c in x.chunks)
    if not regular:                      # zarr stores equal chunks (but the last)
        x = x.rechunk(tuple(max(c) for c in x.chunks))
    client = None
    try:
        from distributed import default_client
        client = default_client()
    except (ImportError, ValueError):
        pass
    if client is not None:
        stored = x.to_zarr(path, compute=False)
        future = client.compute(stored)
        if progress:
            from distributed import progress as show
            show(future)
        future.result()
        return
    from dask.diagnostics import ProgressBar
    if progress:
        with ProgressBar(out=sys.stderr):
            x.to_zarr(path)
    else:
        x.to_zarr(path)
    del dask
