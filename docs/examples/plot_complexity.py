"""
What each algorithm costs
=========================

Counting operations explains the crossover before anything is timed
(CS231n; Qiu, *Neural Networks and Deep Learning*). For one layer with an
``H × W`` output, ``C_in`` input and ``C_out`` output channels, a batch of ``N`` and a ``k × k`` kernel:

* **direct** and **im2col** do the same multiply-adds,
  ``N · H · W · C_out · C_in · k²``; im2col pays memory for them (a column matrix
  ``k²`` times the input) and gets one large matrix product in return;
* **FFT** transforms every input map, kernel and output map once, at a size
  ``P ≈ (H + k − 1)(W + k − 1)``: about ``2.5 · P log₂ P`` real operations each
  (a real-input FFT), then multiplies spectra and sums over input channels at every
  frequency: ``4 · (P / 2) · N · C_in · C_out`` real multiply-adds.

The direct count grows with ``k²``, the FFT count only with ``log P``. The 1×1
bottleneck of Qiu (*Neural Networks and Deep Learning*) shows the other lever:
fewer channels, not a faster algorithm.
"""

import math

import numpy as np
from matplotlib.figure import Figure

import fftconv
from fftconv import style
from analysis.architectures import BOTTLENECK_256, CONV3X3_256
from analysis.complexity import network_cost


def direct_ops(n, c_in, c_out, h, k):
    """Real multiply-adds of direct / im2col for a 'valid' layer on h×h input."""
    spec = fftconv.make_spec("count", (n, c_in, h, h), (c_out, c_in, k, k))
    return spec.macs


def fft_ops(n, c_in, c_out, h, k):
    """Transforms (2.5 P log2 P each) plus per-frequency complex products (4 real each)."""
    p = h * h                                   # 'valid' needs only the input size
    transforms = n * c_in + c_in * c_out + n * c_out
    return transforms * 2.5 * p * math.log2(p) + 4 * (p / 2) * n * c_in * c_out


ks = np.arange(1, 32, 2)
families = [(1, 1, 1, 256, "one 256×256 image, one kernel"),
            (8, 64, 64, 32, "N=8, 64→64 channels, 32×32")]

# %%
# Direct against FFT, as the kernel grows
# ---------------------------------------

for n, c_in, c_out, h, title in families:
    ratio = [direct_ops(n, c_in, c_out, h, k) / fft_ops(n, c_in, c_out, h, k) for k in ks]
    first = next((k for k, r in zip(ks, ratio) if r > 1), None)
    print(f"{title}: the FFT needs fewer operations from k = {first}")

# %%
# The 1×1 bottleneck (Qiu)
# -----------------------------

plain, bottleneck = network_cost(CONV3X3_256), network_cost(BOTTLENECK_256)
print(f"3x3, 256->256 on 100x100:          {plain.macs:.3e} multiply-adds")
print(f"1x1 to 64, then 3x3 64->256:       {bottleneck.macs:.3e} multiply-adds "
      f"({plain.macs / bottleneck.macs:.1f}x fewer)")

# %%
# The figure
# ----------

fig = Figure(figsize=(11, 4), layout="constrained")
axes = fig.subplots(1, 3)
for ax, (n, c_in, c_out, h, title) in zip(axes[:2], families):
    ax.semilogy(ks, [direct_ops(n, c_in, c_out, h, k) for k in ks], "o-",
                color=style.backend_colour("direct"),
                label="direct / im2col: N·H·W·C_out·C_in·k²")
    ax.semilogy(ks, [fft_ops(n, c_in, c_out, h, k) for k in ks], "s-",
                color=style.backend_colour("fft"), label="FFT: transforms + spectral products")
    ax.set_xlabel("kernel size k (pixels)")
    ax.set_ylabel("real operations per layer call")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, which="both")
axes[2].bar(["3×3\n256→256", "1×1 256→64\n+ 3×3 64→256"], [plain.macs, bottleneck.macs],
            color=[style.line_colour(0), style.line_colour(2)])
axes[2].set_ylabel("multiply-adds (count)")
axes[2].set_title("a 1×1 bottleneck on 100×100", fontsize=10)
fig.suptitle("Operation counts: direct grows with k², the FFT with log P")
