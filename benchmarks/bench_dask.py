"""The dask paths (fftconv.dask): the overhead against the in-memory call, and
dask-image's convolve (scipy.ndimage per chunk) on the same dask array.

Small enough for asv; ``fftconv bench --dask`` runs the full-size targets (a
16384² zarr image on a memory-limited LocalCluster, 1 vs 2 workers).
"""

import numpy as np

import fftconv

try:
    import dask.array as da
except ImportError:                      # pragma: no cover - the bench extra installs dask
    da = None


class DaskOverhead:
    """4096² float32, 31×31, 'same': in memory, and as a dask array in 4 chunks
    (threaded scheduler), side by side."""

    params = [["in_memory", "dask_4_chunks"]]
    param_names = ["path"]
    timeout = 300

    def setup(self, path):
        if da is None:
            raise NotImplementedError("dask is not installed")
        rng = np.random.default_rng(0)
        self.x = rng.standard_normal((4096, 4096)).astype(np.float32)
        self.k = rng.standard_normal((31, 31)).astype(np.float32)
        self.lazy = da.from_array(self.x, chunks=2048)
        self.out = np.empty_like(self.x)
        self.time_convolve(path)                              # plans, workspaces

    def time_convolve(self, path):
        if path == "in_memory":
            fftconv.convolve(self.x, self.k, mode="same")
        else:
            da.store(fftconv.convolve(self.lazy, self.k, mode="same"), self.out,
                     scheduler="threads")


class DaskImagePeer:
    """fftconv against dask_image.ndfilters.convolve on one 2048² dask array in 512²
    chunks (threaded scheduler)."""

    params = [[15, 31], ["fftconv", "dask_image"]]
    param_names = ["kernel", "implementation"]
    timeout = 600

    def setup(self, kernel, implementation):
        if da is None:
            raise NotImplementedError("dask is not installed")
        if implementation == "dask_image":
            from dask_image import ndfilters
            self.op = lambda x, k: ndfilters.convolve(x, k, mode="constant", cval=0.0)
        else:
            self.op = lambda x, k: fftconv.convolve(x, k, mode="same")
        rng = np.random.default_rng(0)
        self.x = da.from_array(rng.standard_normal((2048, 2048)).astype(np.float32),
                               chunks=512)
        self.k = rng.standard_normal((kernel, kernel)).astype(np.float32)
        self.out = np.empty(self.x.shape, np.float32)
        self.time_convolve(kernel, implementation)

    def time_convolve(self, kernel, implementation):
        da.store(self.op(self.x, self.k), self.out, scheduler="threads")
