"""
Winograd's float32 error, by tile size and channels
===================================================

Winograd's minimal filtering ``F(m × m, r × r)`` (Lavin & Gray 2016) computes an
``m × m`` block of outputs from an ``α × α`` input tile, ``α = m + r − 1``, with
``α²`` multiplications instead of ``m² r²``. The price is numerical: the
transforms' entries are powers of the interpolation points, so they grow with
``α``, and so does the rounding error. Here each tile size runs in float32 and is
compared with the float64 direct result, as the input channel count (the length
of the sum each output is) grows; float32 direct is the baseline.
"""

import numpy as np
from matplotlib.figure import Figure

import fftconv
from fftconv import style
from fftconv.backends.winograd import set_tile_size
from fftconv.testing import relative_error, winograd_tolerance

rng = np.random.default_rng(0)
channels = [1, 4, 16, 64, 256]
tiles = {3: [2, 4, 6], 5: [2, 4]}


def errors(r, m=None):
    """Relative error of float32 Winograd F(m, r) (or float32 direct, m=None)."""
    out = []
    for c in channels:
        x = rng.standard_normal((2, c, 16, 16))
        w = rng.standard_normal((8, c, r, r))
        ref = fftconv.conv2d(x, w, padding=r // 2, backend="direct")
        x32, w32 = x.astype(np.float32), w.astype(np.float32)
        if m is None:
            y = fftconv.conv2d(x32, w32, padding=r // 2, backend="direct")
        else:
            with set_tile_size(m):
                y = fftconv.conv2d(x32, w32, padding=r // 2, backend="winograd")
        out.append(relative_error(y, ref))
    return out


results = {r: {m: errors(r, m) for m in [None, *ms]} for r, ms in tiles.items()}
for r, rows in results.items():
    for m, errs in rows.items():
        name = "direct" if m is None else f"F({m}x{m}, {r}x{r}), alpha={m + r - 1}"
        print(f"{name:26s}", " ".join(f"{e:.1e}" for e in errs))

# %%
# The figure
# ----------
# Dashed: the float32 norm tolerance of each tile size in the one tolerance
# table (``fftconv.testing.winograd_tolerance``), which the tests hold the
# backend to.

fig = Figure(figsize=(10, 4), layout="constrained")
for ax, (r, rows) in zip(fig.subplots(1, 2, sharey=True), results.items()):
    for i, (m, errs) in enumerate(rows.items()):
        label = "direct (float32)" if m is None else f"F({m}×{m}, {r}×{r}), α = {m + r - 1}"
        ax.loglog(channels, errs, "o-", color=style.line_colour(i), label=label)
        if m is not None:
            ax.axhline(winograd_tolerance(m + r - 1, np.float32).norm, color=style.line_colour(i),
                       ls="--", lw=0.8)
    ax.set_xlabel("input channels (terms per output: channels · r²)")
    ax.set_title(f"{r}×{r} kernels", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
fig.axes[0].set_ylabel("relative error ‖y − y₆₄‖ / ‖y₆₄‖ (float32 run)")
fig.suptitle("Winograd's float32 error grows with the tile α = m + r − 1")
