"""Timing the dask paths: an image larger than a worker's memory, dask-image, scaling.

``fftconv bench --dask`` runs :func:`run_dask_bench`; ``fftconv match --bench-dask``
runs :func:`time_large` with :func:`analysis.matching.match_template` (fftconv
names no analysis function: the operation is an argument).

* :func:`time_large`: a zarr image (16384² float32, 1 GiB, by default) filtered
  or matched on a ``distributed.LocalCluster`` of worker *processes* with a total
  memory limit (2 GiB), the result written to zarr; wall time and the peak
  resident memory of each worker process (``getrusage``: the high-water mark of
  the process since it started; each run starts a fresh cluster).
* :func:`time_peer`: :func:`fftconv.convolve` against
  ``dask_image.ndfilters.convolve`` (``scipy.ndimage.convolve`` per chunk, spatial)
  on the same dask array and kernel, both written to zarr, then compared block by
  block (``'same'`` mode and zero boundary for both: the same numbers).
* :func:`time_overhead`: the dask path on an in-memory array in a few chunks
  against the in-memory call, side by side in interleaved rounds (medians).

Worker processes cannot see one another, so each is told to run its FFTs on one
thread (dask config ``fftconv.threads``, through the environment the processes
inherit): workers × threads = cores.
"""

from __future__ import annotations

import os
import shutil
import statistics
import time
from dataclasses import dataclass, field

import numpy as np

from .optional import require
from .text import format_bytes, plural

__all__ = ["make_zarr_image", "time_large", "time_peer", "time_overhead", "LargeRun",
           "run_dask_bench", "format_dask_bench"]


def _modules(func: str):
    require("dask.array", "dask", func)
    require("distributed", "dask", func)
    require("zarr", "dask", func)
    import dask.array as da
    import distributed
    return da, distributed


def make_zarr_image(path: str, side: int = 16384, chunk: int = 2048, seed: int = 0,
                    dtype=np.float32) -> str:
    """A ``side × side`` random image as zarr at ``path`` (written chunk by chunk,
    never whole in memory); kept if it exists with that shape."""
    da, _ = _modules("make_zarr_image")
    if os.path.exists(path):
        existing = da.from_zarr(path)
        if existing.shape == (side, side) and existing.dtype == dtype:
            return path
        shutil.rmtree(path)
    image = da.random.default_rng(seed).standard_normal((side, side), chunks=chunk,
                                                        dtype=dtype)
    image.to_zarr(path)
    return path


def _peak_rss() -> int:
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@dataclass
class LargeRun:
    """One run of :func:`time_large`."""

    label: str
    workers: int
    memory_limit: int
    seconds: float
    peaks: dict = field(default_factory=dict)   # worker address -> peak RSS bytes


def _cluster(distributed, workers: int, memory_limit: int):
    os.environ["DASK_FFTCONV__THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))
    cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1,
                                       processes=True, memory_limit=memory_limit // workers,
                                       dashboard_address=":0", silence_logs=40)
    return cluster, distributed.Client(cluster)


def time_large(op, zarr_in: str, zarr_out: str, *, label: str, workers: int = 2,
               memory_limit: int = 2 << 30) -> LargeRun:
    """``op(image)`` of the zarr image at ``zarr_in`` (a lazy dask array in, one out),
    written to ``zarr_out`` on a fresh LocalCluster of ``workers`` processes sharing
    ``memory_limit`` bytes."""
    da, distributed = _modules("time_large")
    if os.path.exists(zarr_out):
        shutil.rmtree(zarr_out)
    cluster, client = _cluster(distributed, workers, memory_limit)
    try:
        image = da.from_zarr(zarr_in)
        start = time.perf_counter()
        op(image).to_zarr(zarr_out)
        seconds = time.perf_counter() - start
        peaks = client.run(_peak_rss)
    finally:
        client.close()
        cluster.close()
    return LargeRun(label, workers, memory_limit, seconds, peaks)


def time_peer(image, kernel, zarr_dir: str, *, workers: int = 2,
              memory_limit: int = 2 << 30) -> dict:
    """Seconds of fftconv and of dask-image's convolve on the same dask ``image`` and
    ``kernel`` (each written to zarr), and their largest difference relative to the
    largest magnitude."""
    da, distributed = _modules("time_peer")
    ndfilters = require("dask_image.ndfilters", "bench", "time_peer")
    import fftconv
    outs = {name: os.path.join(zarr_dir, f"peer-{name}-{kernel.shape[0]}.zarr")
            for name in ("fftconv", "dask_image")}
    ops = {"fftconv": lambda x: fftconv.convolve(x, kernel, mode="same"),
           "dask_image": lambda x: ndfilters.convolve(x, kernel, mode="constant", cval=0.0)}
    seconds = {}
    cluster, client = _cluster(distributed, workers, memory_limit)
    try:
        for name, op in ops.items():
            if os.path.exists(outs[name]):
                shutil.rmtree(outs[name])
            start = time.perf_counter()
            op(image).to_zarr(outs[name])
            seconds[name] = time.perf_counter() - start
        a, b = (da.from_zarr(outs[name]) for name in ("fftconv", "dask_image"))
        diff, scale = da.compute(abs(a - b).max(), abs(b).max())
    finally:
        client.close()
        cluster.close()
    return {"kernel": kernel.shape, "seconds": seconds,
            "ratio": seconds["dask_image"] / seconds["fftconv"],
            "max_relative_difference": float(diff / scale)}


def time_overhead(side: int = 4096, chunks: int = 2, kernel: int = 31, repeats: int = 5,
                  seed: int = 0) -> dict:
    """The dask path (threaded scheduler, ``chunks × chunks`` chunks) against the
    in-memory call on a ``side²`` float32 image, in interleaved rounds: medians."""
    da, _ = _modules("time_overhead")
    import fftconv
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((side, side)).astype(np.float32)
    k = rng.standard_normal((kernel, kernel)).astype(np.float32)
    lazy_in = da.from_array(x, chunks=-(-side // chunks))
    out = np.empty_like(x)

    def in_memory():
        fftconv.convolve(x, k, mode="same")

    def on_dask():
        da.store(fftconv.convolve(lazy_in, k, mode="same"), out, scheduler="threads")

    runs = {"in_memory": [], "dask": []}
    in_memory(), on_dask()                                    # plans, workspaces
    for _ in range(repeats):
        for name, call in (("in_memory", in_memory), ("dask", on_dask)):
            start = time.perf_counter()
            call()
            runs[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(v) for name, v in runs.items()}
    return {"side": side, "chunks": chunks * chunks, "kernel": kernel, "medians": medians,
            "ratio": medians["dask"] / medians["in_memory"], "repeats": repeats}


def run_dask_bench(workdir: str, *, side: int = 16384, chunk: int = 2048,
                   peer_side: int | None = None, memory_limit: int = 2 << 30,
                   log=print) -> dict:
    """The convolution targets of the dask benchmark (module notes), in one run."""
    _modules("run_dask_bench")
    import dask.array as da
    import fftconv
    os.makedirs(workdir, exist_ok=True)
    src = make_zarr_image(os.path.join(workdir, f"image-{side}.zarr"), side, chunk)
    kernel = np.random.default_rng(1).standard_normal((31, 31)).astype(np.float32)
    report = {"machine": {"cores": os.cpu_count(), "load_before": os.getloadavg()}}
    large = []
    for workers in (2, 1):
        run = time_large(lambda x: fftconv.convolve(x, kernel, mode="same"), src,
                         os.path.join(workdir, "convolved.zarr"), label="convolve 31x31",
                         workers=workers, memory_limit=memory_limit)
        log(f"large convolve, {plural(workers, 'worker')}: {run.seconds:.1f} s, peak RSS "
            f"per worker: {_peaks(run)}")
        large.append(run)
    report["large"] = large
    peer_src = src if peer_side in (None, side) else make_zarr_image(
        os.path.join(workdir, f"image-{peer_side}.zarr"), peer_side, chunk)
    peers = []
    for size in (15, 31):
        k = np.random.default_rng(size).standard_normal((size, size)).astype(np.float32)
        row = time_peer(da.from_zarr(peer_src), k, workdir, memory_limit=memory_limit)
        log(_peer_line(row))
        peers.append(row)
    report["peers"] = peers
    report["overhead"] = time_overhead()
    log(_overhead_line(report["overhead"]))
    report["machine"]["load_after"] = os.getloadavg()
    return report


def _peaks(run) -> str:
    """The peak RSS of each worker of ``run`` (a :class:`LargeRun`), comma-separated."""
    return ", ".join(format_bytes(v) for v in run.peaks.values()) or "not measured"


def format_dask_bench(report: dict) -> str:
    """The report of :func:`run_dask_bench` as text."""
    lines = [f"machine: {report['machine']['cores']} cores, load average before "
             f"{report['machine']['load_before'][0]:.1f}, after "
             f"{report['machine']['load_after'][0]:.1f} (shared: timings are noisy)"]
    for run in report["large"]:
        lines.append(f"{run.label}: {plural(run.workers, 'worker')}, limit "
                     f"{format_bytes(run.memory_limit)} in total: {run.seconds:.1f} s; "
                     f"peak RSS per worker: {_peaks(run)}")
    lines += [_peer_line(row) for row in report["peers"]]
    lines.append(_overhead_line(report["overhead"]))
    return "\n".join(lines)


def _peer_line(row: dict) -> str:
    """One row of :func:`time_peer` as text."""
    s = row["seconds"]
    return (f"vs dask_image {row['kernel'][0]}x{row['kernel'][1]}: fftconv "
            f"{s['fftconv']:.1f} s, dask_image {s['dask_image']:.1f} s, ratio "
            f"{row['ratio']:.1f}x, max relative difference "
            f"{row['max_relative_difference']:.1e}")


def _overhead_line(o: dict) -> str:
    """The result of :func:`time_overhead` as text."""
    return (f"overhead {o['side']}² in {plural(o['chunks'], 'chunk')}, "
            f"{o['kernel']}x{o['kernel']}: in-memory {o['medians']['in_memory']:.3f} s, "
            f"dask {o['medians']['dask']:.3f} s, ratio {o['ratio']:.2f} (median of "
            f"{plural(o['repeats'], 'run')})")
