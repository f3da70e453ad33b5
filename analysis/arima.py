"""ARIMA as convolution: differencing, AR and MA filters fitted to a series.

An ARIMA(p, d, q) model (Box & Jenkins, 1970) of a series ``x`` is three
convolution kernels in the backshift operator ``B`` (``B x_t = x_{t-1}``)::

    φ(B) (1 − B)^d x_t = μ + θ(B) e_t,      e_t white noise of variance σ²
    φ(B) = 1 − φ₁B − … − φ_pB^p,            θ(B) = 1 + θ₁B + … + θ_qB^q

* **I**, differencing: ``(1 − B)^d`` is convolution with the kernel
  ``Δ^d = (1, −1) * … * (1, −1)`` (binomial coefficients with alternating signs),
  a high-pass filter with a zero of order ``d`` at frequency 0
  (:func:`difference`); integration is its inverse, an IIR filter.
* **AR**, autoregression: convolution with ``(1, −φ₁, …, −φ_p)`` turns the
  differenced series into the MA part; its inverse is an all-pole filter.
* **MA**, moving average: the series is the innovations convolved with
  ``(1, θ₁, …, θ_q)``; the residuals are the innovations recovered by the IIR
  filter ``φ(B) / θ(B)`` (``scipy.signal.lfilter``).

Fitting (:func:`fit_arima`), all with numpy/scipy, following Brockwell & Davis,
"Introduction to Time Series and Forecasting" (3rd ed., 2016), §5.1:

1. AR(p) alone: the Yule–Walker equations (a Toeplitz system in the sample
   autocovariances, :func:`yule_walker`).
2. MA(q) alone: the innovations algorithm (:func:`innovations_ma`).
3. ARMA(p, q): Hannan & Rissanen (1982): a long autoregression estimates the
   innovations, then least squares on lagged values and lagged innovations.
4. Refinement of any of these by conditional least squares (minimizing
   ``Σ e_t²`` over the residuals of the filter ``φ(B)/θ(B)``), whose estimates
   are asymptotically those of maximum likelihood; standard errors from the
   Gauss–Newton approximation ``σ² (JᵀJ)⁻¹``.

Forecasts (:meth:`ARIMAResult.forecast`) run the same filters forward with
future innovations set to zero, then integrate ``d`` times.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.optimize
import scipy.signal
from scipy.special import comb

import fftconv
from fftconv.checks import is_int
from fftconv.errors import bad_type, bad_value

__all__ = ["difference_kernel", "difference", "integrate", "autocovariance", "yule_walker",
           "innovations_ma", "fit_arima", "ARIMAResult"]


# -- arguments ---------------------------------------------------------------------------

def _series(func: str, x, minimum: int = 2) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.kind not in "fiu" or x.ndim != 1:
        raise bad_type(func, "x", x, "a 1-D real array (a time series)")
    if len(x) < minimum:
        raise bad_value(func, "x", x, f"a series of at least {minimum} samples")
    x = x.astype(np.float64)
    if not np.isfinite(x).all():
        raise bad_value(func, "x", x, "a series of finite values (no NaN or inf)")
    return x


def _order(func: str, name: str, value, upper: int | None = None) -> int:
    if not is_int(value) or value < 0 or (upper is not None and value > upper):
        allowed = "an int >= 0" if upper is None else f"an int in [0, {upper}]"
        raise bad_value(func, name, value, allowed)
    return int(value)


# -- I: differencing as convolution -------------------------------------------------------

def difference_kernel(d):
    """The kernel of ``(1 − B)^d``: ``(1, −1)`` convolved with itself ``d`` times.

    Returns
    -------
    ndarray, shape (d + 1,)
        ``c_k = (−1)^k · C(d, k)``; ``d = 0`` gives ``[1.]``.

    Examples
    --------
    >>> difference_kernel(2)
    array([ 1., -2.,  1.])
    """
    d = _order("difference_kernel", "d", d)
    k = np.arange(d + 1)
    return (-1.0) ** k * comb(d, k)


def difference(x, d=1):
    """``(1 − B)^d x``: the series convolved with :func:`difference_kernel`, valid part.

    Parameters
    ----------
    x : array_like, shape (n,)
    d : int >= 0

    Returns
    -------
    ndarray, shape (n − d,)
        ``y_t = Σ_k c_k x_{t+d−k}`` for ``t = 0 … n−d−1`` (``y_t`` belongs to
        time ``t + d``), computed by :func:`fftconv.convolve` in mode ``'valid'``.

    See Also
    --------
    numpy.diff : the same differences (``numpy.diff(x, n=d)``).
    statsmodels.tsa.statespace.tools.diff : statsmodels' (``k_diff=d``).

    Examples
    --------
    >>> difference([1., 4., 9., 16.], 1)
    array([3., 5., 7.])
    >>> difference([1., 4., 9., 16.], 2)
    array([2., 2.])
    """
    func = "difference"
    d = _order(func, "d", d)
    x = _series(func, x, minimum=d + 1)
    return fftconv.convolve(x, difference_kernel(d), mode="valid", method="direct")


def integrate(y, initial):
    """The inverse of :func:`difference`: rebuild a series from its differences.

    Parameters
    ----------
    y : array_like, shape (m,)
        ``(1 − B)^d x`` for the samples after the first ``d``.
    initial : array_like, shape (d,)
        The first ``d`` samples of ``x`` (the integration constants).

    Returns
    -------
    ndarray, shape (d + m,)
        ``x`` with ``difference(x, d) == y``: the all-pole (IIR) filter
        ``1 / (1 − B)^d`` run from the given initial values, that is
        ``x_t = y_t − Σ_{k≥1} c_k x_{t−k}``.

    Examples
    --------
    >>> integrate([3., 5., 7.], [1.])
    array([ 1.,  4.,  9., 16.])
    """
    func = "integrate"
    y = _series(func, y, minimum=0)
    initial = np.atleast_1d(np.asarray(initial, dtype=np.float64))
    if initial.ndim != 1:
        raise bad_type(func, "initial", initial, "a 1-D array of the first d samples")
    d = len(initial)
    c = difference_kernel(d)
    # lfilter with the initial state that makes the first d outputs the given samples.
    zi = scipy.signal.lfiltic([1.0], c, y=initial[::-1]) if d else None
    rest = scipy.signal.lfilter([1.0], c, y, zi=zi)[0] if d else y.copy()
    return np.concatenate([initial, rest])


# -- AR and MA estimates ---------------------------------------------------------------------

def autocovariance(x, lags):
    """Sample autocovariances ``γ̂(h) = (1/n) Σ_t (x_{t+h} − x̄)(x_t − x̄)``, h = 0 … lags.

    The biased (``1/n``) estimate, which keeps the autocovariance matrix positive
    definite (Brockwell & Davis, §2.4). Computed as one correlation of the
    centred series with itself (:func:`fftconv.correlate`).

    See Also
    --------
    statsmodels.tsa.stattools.acovf : the same biased estimate
        (``acovf(x, nlag=lags)``).
    """
    func = "autocovariance"
    x = _series(func, x)
    lags = _order(func, "lags", lags, len(x) - 1)
    z = x - x.mean()
    full = fftconv.correlate(z, z, mode="full")          # lag h at index n − 1 + h
    return full[len(x) - 1:len(x) + lags] / len(x)


def yule_walker(x, p):
    """AR(p) coefficients from the Yule–Walker equations ``Γ_p φ = γ_p``.

    Returns
    -------
    phi : ndarray, shape (p,)
        ``φ₁ … φ_p`` of ``x_t = φ₁x_{t−1} + … + φ_px_{t−p} + e_t`` (after centring).
    sigma2 : float
        Innovation variance ``γ̂(0) − φ·γ_p``.

    See Also
    --------
    statsmodels.regression.linear_model.yule_walker : the same estimate with
        ``method='mle'``; it returns the innovation standard deviation, the
        square root of ``sigma2`` here.
    """
    func = "yule_walker"
    x = _series(func, x)
    p = _order(func, "p", p, len(x) - 1)
    gamma = autocovariance(x, p)
    if p == 0:
        return np.zeros(0), float(gamma[0])
    phi = scipy.linalg.solve_toeplitz(gamma[:p], gamma[1:p + 1])
    return phi, float(gamma[0] - phi @ gamma[1:p + 1])


def innovations_ma(x, q, m=None):
    """MA(q) coefficients by the innovations algorithm (Brockwell & Davis, §5.1.3).

    Parameters
    ----------
    x : array_like, shape (n,)
    q : int
        MA order.
    m : int, optional
        Number of recursion steps, ``m >= q`` (default ``max(q, min(n − 1, 20))``,
        consistent as ``m → ∞`` with ``m = o(n^{1/3})``).

    Returns
    -------
    theta : ndarray, shape (q,)
        ``θ̂_{m,1} … θ̂_{m,q}``.
    sigma2 : float
        ``v̂_m``, the one-step prediction error variance.
    """
    func = "innovations_ma"
    x = _series(func, x)
    q = _order(func, "q", q, len(x) - 1)
    m = max(q, min(len(x) - 1, 20)) if m is None else _order(func, "m", m, len(x) - 1)
    if m < q:
        raise bad_value(func, "m", m, f"an int >= q = {q}")
    gamma = autocovariance(x, m)
    v = np.empty(m + 1)
    theta = np.zeros((m + 1, m + 1))                    # theta[n, j] = θ_{n,j}
    v[0] = gamma[0]
    for n in range(1, m + 1):
        for k in range(n):
            acc = gamma[n - k] - sum(theta[k, k - j] * theta[n, n - j] * v[j] for j in range(k))
            theta[n, n - k] = acc / v[k]
        v[n] = gamma[0] - sum(theta[n, n - j] ** 2 * v[j] for j in range(n))
    return theta[m, 1:q + 1].copy(), float(v[m])


# -- ARMA on the differenced series -----------------------------------------------------------

def _residuals(z: np.ndarray, phi: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """``e = (φ(B) / θ(B)) z`` with zero pre-sample values (the conditional residuals)."""
    return scipy.signal.lfilter(np.r_[1.0, -phi], np.r_[1.0, theta], z)


def _hannan_rissanen(z: np.ndarray, p: int, q: int) -> tuple[np.ndarray, np.ndarray]:
    """Initial ARMA(p, q) estimates: a long AR for the innovations, then least squares."""
    n = len(z)
    if q == 0:
        return (yule_walker(z, p)[0] if p else np.zeros(0)), np.zeros(0)
    if p == 0 and q:
        return np.zeros(0), innovations_ma(z, q)[0]
    long = min(n // 4, max(p + q + 1, int(10 * np.log10(n))))
    a, _ = yule_walker(z, long)
    e = scipy.signal.lfilter(np.r_[1.0, -a], [1.0], z)      # e_t = a(B) z_t
    start = long + q
    rows = np.arange(start, n)
    design = np.column_stack([z[rows - i] for i in range(1, p + 1)]
                             + [e[rows - j] for j in range(1, q + 1)])
    coef, *_ = np.linalg.lstsq(design, z[rows], rcond=None)
    return coef[:p], coef[p:]


def _stable(poly: np.ndarray) -> bool:
    """All roots of ``1 + poly[0] z + …`` outside the unit circle (poly in ascending powers)."""
    if not len(poly) or not np.any(poly):
        return True
    roots = np.roots(np.r_[1.0, poly][::-1])
    return bool(np.all(np.abs(roots) > 1.0))


@dataclass(frozen=True)
class ARIMAResult:
    """A fitted ARIMA(p, d, q) model, read as three convolution kernels.

    Attributes
    ----------
    order : (int, int, int)
        ``(p, d, q)``.
    ar, ma : ndarray, shapes (p,) and (q,)
        ``φ₁ … φ_p`` and ``θ₁ … θ_q`` (statsmodels' sign conventions:
        ``φ(B) = 1 − Σ φ_i B^i``, ``θ(B) = 1 + Σ θ_j B^j``).
    mean : float
        ``μ / φ(1)``, the mean of the differenced series (0 unless ``d = 0``).
    sigma2 : float
        Innovation variance (mean square of the conditional residuals).
    ar_se, ma_se : ndarray
        Standard errors of ``ar`` and ``ma``.
    residuals : ndarray, shape (n − d,)
        The innovations estimated by the filter ``φ(B)/θ(B)``.
    x : ndarray
        The series the model was fitted to.
    """

    order: tuple
    ar: np.ndarray
    ma: np.ndarray
    mean: float
    sigma2: float
    ar_se: np.ndarray
    ma_se: np.ndarray
    residuals: np.ndarray
    x: np.ndarray

    def kernels(self) -> dict:
        """The model's convolution kernels, in convolution order (newest sample first).

        Returns
        -------
        dict
            ``'difference'``: ``(1 − B)^d``; ``'ar'``: ``(1, −φ₁, …, −φ_p)``;
            ``'ma'``: ``(1, θ₁, …, θ_q)``; ``'arima'``: ``φ(B)(1 − B)^d``, the
            whole left-hand side as one kernel (``difference`` convolved with ``ar``).
        """
        diff = difference_kernel(self.order[1])
        ar = np.r_[1.0, -self.ar]
        return {"difference": diff, "ar": ar, "ma": np.r_[1.0, self.ma],
                "arima": np.convolve(diff, ar)}

    def frequency_response(self, n: int = 512) -> dict:
        """Frequency responses of the kernels and the model's spectral density.

        Parameters
        ----------
        n : int
            Number of frequencies in ``[0, 0.5)`` cycles per sample.

        Returns
        -------
        dict
            ``'frequency'`` (cycles/sample); complex responses ``'difference'``,
            ``'ar'``, ``'ma'`` of each kernel (``scipy.signal.freqz``); and
            ``'spectral_density'`` of the stationary (differenced) part,
            ``σ² |θ(e^{−iω})|² / (2π |φ(e^{−iω})|²)``.
        """
        kernels = self.kernels()
        omega = np.linspace(0, np.pi, n, endpoint=False)
        response = {name: scipy.signal.freqz(kernels[name], worN=omega)[1]
                    for name in ("difference", "ar", "ma")}
        density = (self.sigma2 * np.abs(response["ma"]) ** 2
                   / (2 * np.pi * np.abs(response["ar"]) ** 2))
        return {"frequency": omega / (2 * np.pi), **response, "spectral_density": density}

    def forecast(self, steps: int) -> np.ndarray:
        """Point forecasts of the next ``steps`` samples of ``x``.

        The ARMA recursion on the differenced series with future innovations 0
        and past ones the residuals, ``ẑ_{t} = μ' + Σ φ_i ẑ_{t−i} + Σ θ_j e_{t−j}``
        (``μ' = mean·φ(1)``), then :func:`integrate` from the last ``d`` samples.
        """
        steps = _order("ARIMAResult.forecast", "steps", steps)
        p, d, q = self.order
        z = difference(self.x, d) - self.mean
        e = self.residuals
        history, shocks = list(z), list(e) + [0.0] * steps
        out = []
        for h in range(steps):
            t = len(z) + h
            value = sum(self.ar[i] * history[t - 1 - i] for i in range(p))
            value += sum(self.ma[j] * shocks[t - 1 - j] for j in range(q) if t - 1 - j < len(e))
            history.append(value)
            out.append(value)
        z_future = np.asarray(out) + self.mean
        if d == 0:
            return z_future
        # Integrate from the last d samples: x_t = z_t − Σ_{k≥1} c_k x_{t−k}.
        return integrate(z_future, self.x[-d:])[d:]


def fit_arima(x, order):
    """Fit ARIMA(p, d, q) to a series by conditional least squares.

    Parameters
    ----------
    x : array_like, shape (n,)
        The series (``n`` comfortably larger than ``p + d + q``; a few hundred
        samples for useful standard errors).
    order : (int, int, int)
        ``(p, d, q)``, each ``>= 0``.

    Returns
    -------
    ARIMAResult
        Coefficients with standard errors, residuals, kernels, frequency
        responses and forecasts. A constant (the mean of the differenced series)
        is estimated when ``d = 0`` and assumed zero otherwise, as statsmodels'
        ``ARIMA`` does by default.

    Raises
    ------
    ValueError
        For a bad order, a series too short for it, non-finite values, or when
        the fit ends non-stationary or non-invertible (roots of ``φ`` or ``θ``
        on or inside the unit circle): such a model has no causal reading as a
        convolution of past innovations.

    See Also
    --------
    statsmodels.tsa.arima.model.ARIMA : the reference implementation; it fits
        by exact maximum likelihood (a state-space model), so its estimates
        differ slightly from these conditional least squares ones.

    Notes
    -----
    Initial values from Yule–Walker (AR only), the innovations algorithm (MA
    only) or Hannan–Rissanen (both); refinement by minimizing ``Σ e_t²`` over
    ``(mean, φ, θ)`` with :func:`scipy.optimize.least_squares`, where
    ``e = (φ(B)/θ(B))(z − mean)`` runs as one IIR filter. Standard errors are
    ``sqrt(diag(σ² (JᵀJ)⁻¹))`` at the optimum (Box & Jenkins, §7.2).

    Examples
    --------
    >>> import numpy as np, scipy.signal
    >>> e = np.random.default_rng(0).standard_normal(3000)
    >>> x = np.cumsum(scipy.signal.lfilter([1, 0.4], [1, -0.6], e))   # ARIMA(1, 1, 1)
    >>> fit = fit_arima(x, (1, 1, 1))
    >>> np.round(fit.ar, 1), np.round(fit.ma, 1)
    (array([0.6]), array([0.4]))
    """
    func = "fit_arima"
    if (not isinstance(order, (tuple, list)) or len(order) != 3
            or not all(is_int(v) and v >= 0 for v in order)):
        raise bad_type(func, "order", order, "a tuple (p, d, q) of ints >= 0")
    p, d, q = (int(v) for v in order)
    x = _series(func, x, minimum=p + d + q + 10)
    z = difference(x, d)
    with_mean = d == 0
    mean0 = float(z.mean()) if with_mean else 0.0
    phi0, theta0 = _hannan_rissanen(z - mean0, p, q)
    if not _stable(-phi0):
        phi0 = np.zeros(p)
    if not _stable(theta0):
        theta0 = np.zeros(q)

    def unpack(params):
        mean = params[0] if with_mean else 0.0
        rest = params[1:] if with_mean else params
        return mean, rest[:p], rest[p:]

    def residuals(params):
        mean, phi, theta = unpack(params)
        return _residuals(z - mean, phi, theta)

    start = np.r_[[mean0] if with_mean else [], phi0, theta0]
    if len(start):
        solution = scipy.optimize.least_squares(residuals, start, method="lm", xtol=1e-12,
                                                ftol=1e-12, gtol=1e-12)
        params, jac = solution.x, solution.jac
    else:
        params, jac = start, np.zeros((len(z), 0))
    mean, phi, theta = unpack(params)
    if not _stable(-phi) or not _stable(theta):
        raise bad_value(func, "order", order,
                        "an order whose fit is stationary and invertible; the least-squares "
                        f"fit has AR {np.round(phi, 4)} and MA {np.round(theta, 4)} with "
                        "roots on or inside the unit circle")
    e = residuals(params)
    sigma2 = float(np.mean(e ** 2))
    if len(params):
        cov = sigma2 * np.linalg.pinv(jac.T @ jac)
        se = np.sqrt(np.clip(np.diag(cov), 0, None))
    else:
        se = np.zeros(0)
    se_rest = se[1:] if with_mean else se
    return ARIMAResult(order=(p, d, q), ar=np.asarray(phi, float), ma=np.asarray(theta, float),
                       mean=float(mean), sigma2=sigma2, ar_se=se_rest[:p], ma_se=se_rest[p:],
                       residuals=e, x=x)
