"""
Which backend wins where: the crossover
=======================================

``direct`` and ``im2col`` do ``N·OH·OW·C_out·C_in·k²`` multiply-adds, so their time
grows with the kernel area; the FFT backend's work hardly depends on the kernel
size (the transforms are as large as the image, or as a tile). So for every layer
family there is a kernel size above which the FFT wins. This example measures one
family on the machine that builds the documentation, marks where the backends swap
places, and rings the backend ``'auto'`` chose before anything was timed.

The numbers are a quick measurement (three repeats, single image, during a docs
build): run ``fftconv bench`` for the full sweep, or see :doc:`/benchmarking`.
"""

import fftconv
from fftconv import bench

family = (1, 4, 96)                   # batch, channels in = out, image size
layers = bench.crossover_layers(family, kernels=(1, 3, 5, 7, 11, 15, 21, 31))
rows = bench.run_sweep(layers, repeats=3, autotune_check=False, progress=False)
print(bench.format_sweep(rows))

# %%
# Where the curves cross
# ----------------------

names = fftconv.available_backends()
for i, a in enumerate(names):
    for b in names[i + 1:]:
        # over the kernels both were timed on (Winograd's stop at 7 taps)
        both = [r for r in rows if a in r.seconds and b in r.seconds]
        points = bench.crossovers([r.layer.k for r in both], [r.seconds[a] for r in both],
                                  [r.seconds[b] for r in both])
        print(f"{a} / {b}: " + (", ".join(f"k ≈ {k:.1f}" for k in points) or "no crossover"))

# %%
# The figure
# ----------

fig = bench.crossover_figure([("N=1, C_in=C_out=4, 96x96 image", rows)])
