"""
The convolution theorem, and where the wrap-around goes
=======================================================

The discrete Fourier transform turns a *circular* convolution into a pointwise
product: ``DFT(x ⊛ k) = DFT(x) · DFT(k)``. Two details decide whether that gives the
convolution a layer wants:

* the DFT of a length-``P`` signal treats it as periodic, so the product is the
  convolution *on a circle of length P*, and what falls off one edge comes back on
  the other;
* zero-padding both signals to ``P ≥ N + K − 1`` leaves room for the whole result,
  and the circular convolution becomes the ordinary ('full') one. A 'valid' layer
  needs even less: ``P = N`` suffices, because the wrapped terms land only in the
  ``K − 1`` outputs it discards.

This example checks all three statements numerically and draws them.
"""

import numpy as np
import scipy.fft
from matplotlib.figure import Figure

import fftconv
from fftconv import style

rng = np.random.default_rng(0)

# %%
# 1-D: circular, full and valid
# -----------------------------

n, k = 32, 9
x = np.sin(np.linspace(0, 3 * np.pi, n)) + 0.3 * rng.standard_normal(n)
h = np.exp(-0.5 * ((np.arange(k) - k // 2) / 1.5) ** 2)
h /= h.sum()

circular = np.real(scipy.fft.ifft(scipy.fft.fft(x) * scipy.fft.fft(h, n)))
p = n + k - 1
full_fft = np.real(scipy.fft.ifft(scipy.fft.fft(x, p) * scipy.fft.fft(h, p)))
full = fftconv.convolve(x, h, mode="full", method="direct")
valid = fftconv.convolve(x, h, mode="valid", method="direct")

print("padded to N+K-1: circular == full      ", np.allclose(full_fft, full))
print("unpadded: circular == full on the valid part",
      np.allclose(circular[k - 1:], valid))
print("unpadded: the first K-1 outputs differ  ", not np.allclose(circular[:k - 1],
                                                                 full[:k - 1]))

# %%
# 2-D: the spectra multiply
# -------------------------
# A blur kernel's spectrum is a low-pass mask; the product of spectra is the
# spectrum of the blurred image, and its inverse transform is the blurred image.

image = np.zeros((64, 64))
image[16:40, 20:30] = 1.0
image[44:52, 8:56] = 0.6
image += 0.1 * rng.standard_normal(image.shape)
kernel = np.outer(*(2 * [np.exp(-0.5 * (np.arange(-6, 7) / 2.0) ** 2)]))
kernel /= kernel.sum()

P = (image.shape[0] + kernel.shape[0] - 1, image.shape[1] + kernel.shape[1] - 1)
X, K = scipy.fft.rfft2(image, P), scipy.fft.rfft2(kernel, P)
product = scipy.fft.irfft2(X * K, P)
reference = fftconv.convolve(image, kernel, mode="full", method="direct")
print("2-D theorem holds:", np.allclose(product, reference))


def spectrum_db(spectrum):
    """``20 log10 |F|`` of a centred 2-D spectrum, floored at -120 dB (|F| = 1e-6)."""
    return 20 * np.log10(1e-6 + np.abs(np.fft.fftshift(spectrum)))


# %%
# The figure
# ----------

fig = Figure(figsize=(13, 5.6), layout="constrained")
top, bottom = fig.subfigures(2, 1, height_ratios=[1, 0.8], hspace=0.04)
ax = top.subplots(1, 2)
ax[0].plot(full, "-", color=style.line_colour(7), lw=2, label="full convolution (direct)")
ax[0].plot(full_fft, "--", color=style.line_colour(1), label=f"FFT, padded to N+K-1 = {p}")
ax[0].plot(np.arange(n), circular, ":", color=style.line_colour(3), lw=2,
           label=f"FFT, no padding (P = N = {n})")
ax[0].axvspan(-0.5, k - 1.5, color=style.line_colour(3), alpha=0.12,
              label="wrapped outputs (K-1)")
ax[0].set_xlabel("output index (sample)")
ax[0].set_ylabel("value (signal units)")
ax[0].legend(fontsize=7)
ax[0].set_title("1-D: circular vs linear convolution", fontsize=10)
frequency = np.fft.rfftfreq(p)                  # cycles per sample, 0 to 1/2
magnitudes = [(np.abs(scipy.fft.rfft(x, p)), "|X(f)|"),
              (np.abs(scipy.fft.rfft(h, p)) * np.abs(scipy.fft.rfft(x, p)).max(),
               "|H(f)| (scaled to max |X|)"),
              (np.abs(scipy.fft.rfft(full, p)), "|X(f) H(f)| = |DFT(x * h)|")]
for i, (magnitude, label) in enumerate(magnitudes):
    ax[1].plot(frequency, magnitude, color=style.line_colour(i), label=label)
ax[1].set_xlabel("frequency (cycles/sample)")
ax[1].set_ylabel("magnitude (signal units)")
ax[1].legend(fontsize=7)
ax[1].set_title("the spectra multiply", fontsize=10)
# Spectra centred (DC in the middle) in dB, on one scale so they compare: the
# product's dB are the sum of the factors' dB.
X_full, K_full = np.fft.fft2(image, P), np.fft.fft2(kernel, P)
panels = [(image, "image x", style.IMAGE_CMAP, "intensity"),
          (spectrum_db(X_full), "|X|", style.MAGNITUDE_CMAP, "|X| (dB)"),
          (spectrum_db(K_full), "|K| (blur: low-pass)", style.MAGNITUDE_CMAP, "|K| (dB)"),
          (spectrum_db(X_full * K_full), "|X·K|", style.MAGNITUDE_CMAP, "|X·K| (dB)"),
          (product, "IDFT(X·K) = x * k", style.IMAGE_CMAP, "intensity")]
half = (P[1] // 2, P[0] // 2)
for a, (data, title, cmap, unit) in zip(bottom.subplots(1, len(panels)), panels):
    if cmap == style.MAGNITUDE_CMAP:
        shown = a.imshow(data, cmap=cmap, vmin=-80, vmax=50,
                         extent=(-half[0] / P[1], (P[1] - half[0]) / P[1],
                                 (P[0] - half[1]) / P[0], -half[1] / P[0]))
        a.set_xlabel("x frequency (cycles/pixel)", fontsize=8)
        if title == "|X|":
            a.set_ylabel("y frequency (cycles/pixel)", fontsize=8)
        a.tick_params(labelsize=7)
    else:
        shown = a.imshow(data, cmap=cmap)
        a.set_xticks([])
        a.set_yticks([])
    bar = style.add_colorbar(a, shown)
    bar.set_label(unit, fontsize=8)
    bar.ax.tick_params(labelsize=7)
    a.set_title(title, fontsize=9)
fig.suptitle("The convolution theorem: convolution is multiplication of spectra")
