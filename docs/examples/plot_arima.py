"""
ARIMA as convolution
====================

An ARIMA(p, d, q) model is three convolution kernels: differencing ``(1 − B)^d``
(the kernel ``(1, −1)`` convolved with itself ``d`` times), the autoregressive
kernel ``(1, −φ₁, …, −φ_p)`` and the moving-average kernel ``(1, θ₁, …, θ_q)``.
:func:`analysis.arima.fit_arima` fits them with numpy and scipy (Yule–Walker,
innovations, Hannan–Rissanen, then conditional least squares), and the result
shows them as kernels and as frequency responses (see :doc:`/frequency_learning`).
"""

import numpy as np
import scipy.signal

from analysis import arima, plots

# %%
# A series with a trend of random slope: ARIMA(1, 1, 1)
# -----------------------------------------------------
# Innovations through the MA kernel and the all-pole AR filter, then integrated
# once (the inverse of differencing).

rng = np.random.default_rng(7)
innovations = rng.standard_normal(1200)
stationary = scipy.signal.lfilter([1.0, 0.4], [1.0, -0.6], innovations)
series = arima.integrate(stationary, [0.0])
fit = arima.fit_arima(series, (1, 1, 1))
print(f"AR {fit.ar[0]:.3f} ± {fit.ar_se[0]:.3f} (true 0.6)   "
      f"MA {fit.ma[0]:.3f} ± {fit.ma_se[0]:.3f} (true 0.4)   σ² {fit.sigma2:.3f} (true 1)")
for name, kernel in fit.kernels().items():
    print(f"{name:10s} kernel {np.round(kernel, 3)}")

# %%
# Kernels, responses, forecast
# ----------------------------
# The differencing kernel has a zero at frequency 0 (it removes the trend): its
# response falls to −∞ dB at DC. The AR kernel is high-pass too, the MA kernel
# low-pass; the spectral density of the differenced series is
# ``σ² |θ|² / (2π |φ|²)``, large at low frequencies for φ₁ = 0.6.

fig = plots.arima_figure(fit, steps=60)
