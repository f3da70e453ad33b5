"""ARIMA as convolution, against statsmodels (a test-only oracle; the fit uses numpy/scipy)."""

import warnings

import numpy as np
import pytest
import scipy.signal
from statsmodels.regression.linear_model import yule_walker as sm_yule_walker
from statsmodels.tsa.arima.estimators.innovations import innovations as sm_innovations
from statsmodels.tsa.arima.model import ARIMA
from statsmodels.tsa.arima_process import ArmaProcess
from statsmodels.tsa.stattools import acovf

from analysis import arima


def simulate(order, ar, ma, n, seed, mean=0.0):
    e = np.random.default_rng(seed).standard_normal(n)
    x = scipy.signal.lfilter(np.r_[1.0, ma], np.r_[1.0, -np.asarray(ar, float)], e) + mean
    for _ in range(order[1]):
        x = np.cumsum(x)
    return x


@pytest.mark.parametrize("d", [0, 1, 2, 3])
def test_differencing_is_convolution_and_integration_inverts_it(d):
    x = np.random.default_rng(d).standard_normal(40).cumsum()
    np.testing.assert_allclose(arima.difference(x, d), np.diff(x, n=d), atol=1e-12)
    np.testing.assert_array_equal(arima.difference_kernel(d),
                                  np.poly1d([1.0, -1.0]) ** d if d else [1.0])
    np.testing.assert_allclose(arima.integrate(arima.difference(x, d), x[:d]), x, atol=1e-9)


def test_autocovariance_yule_walker_and_innovations_match_statsmodels():
    rng = np.random.default_rng(1)
    x = scipy.signal.lfilter([1, 0.5, 0.2], [1], rng.standard_normal(800)) + 1.0
    np.testing.assert_allclose(arima.autocovariance(x, 10), acovf(x, fft=False)[:11],
                               atol=1e-13)
    phi, sigma2 = arima.yule_walker(x, 3)
    rho, sigma = sm_yule_walker(x, order=3, method="mle", result_object=False)
    np.testing.assert_allclose(phi, rho, atol=1e-12)
    np.testing.assert_allclose(sigma2, sigma ** 2, rtol=1e-12)
    theta, v = arima.innovations_ma(x, 2, m=6)
    reference = sm_innovations(x - x.mean(), ma_order=6)[0][6]
    np.testing.assert_allclose(theta, reference.ma_params[:2], atol=1e-12)
    np.testing.assert_allclose(v, reference.sigma2, rtol=1e-12)


CASES = [((2, 0, 1), [0.5, -0.3], [0.4], 3.0), ((1, 1, 1), [0.6], [0.4], 0.0),
         ((0, 1, 2), [], [0.5, 0.2], 0.0), ((1, 2, 0), [0.5], [], 0.0)]


@pytest.mark.parametrize("order, ar, ma, mean", CASES)
def test_fit_matches_statsmodels_arima_within_its_standard_errors(order, ar, ma, mean):
    x = simulate(order, ar, ma, 1500, seed=sum(order), mean=mean)
    fit = arima.fit_arima(x, order)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")               # statsmodels' own convergence notes
        sm = ARIMA(x, order=order).fit()
    params = dict(zip(sm.param_names, sm.params))
    se = dict(zip(sm.param_names, sm.bse))
    p, _, q = order
    for i in range(p):
        name = f"ar.L{i + 1}"
        assert abs(fit.ar[i] - params[name]) < 0.2 * se[name], name
        assert fit.ar_se[i] == pytest.approx(se[name], rel=0.25)
    for j in range(q):
        name = f"ma.L{j + 1}"
        assert abs(fit.ma[j] - params[name]) < 0.2 * se[name], name
        assert fit.ma_se[j] == pytest.approx(se[name], rel=0.25)
    if "const" in params:
        assert abs(fit.mean - params["const"]) < 0.2 * se["const"]
    assert fit.sigma2 == pytest.approx(params["sigma2"], rel=0.01)
    # Forecasts: the same filters run forward; they agree to a small part of σ.
    np.testing.assert_allclose(fit.forecast(6), sm.forecast(6), atol=0.02 * np.sqrt(fit.sigma2))


def test_kernels_and_frequency_responses():
    x = simulate((1, 1, 1), [0.6], [0.4], 1200, seed=9)
    fit = arima.fit_arima(x, (1, 1, 1))
    k = fit.kernels()
    np.testing.assert_allclose(k["arima"], np.convolve([1, -1], [1, -fit.ar[0]]))
    # The residuals are the series convolved with the ARIMA kernel, then IIR 1/θ(B).
    z = arima.difference(x, 1)
    np.testing.assert_allclose(scipy.signal.lfilter(k["ar"], k["ma"], z), fit.residuals)
    fr = fit.frequency_response(4096)
    assert fr["frequency"][0] == 0 and fr["frequency"][-1] < 0.5
    assert abs(fr["difference"][0]) == 0                      # (1 − B) removes the DC
    # The spectral density integrates to the model's variance (Wiener–Khinchin).
    variance = fit.sigma2 * ArmaProcess(k["ar"], k["ma"]).acovf(1)[0]
    assert 2 * np.pi * np.mean(fr["spectral_density"]) == pytest.approx(variance, rel=2e-3)


@pytest.mark.parametrize("call, pattern", [
    (lambda: arima.fit_arima(np.ones((3, 3)), (1, 0, 0)), r"fit_arima: parameter 'x'.*1-D"),
    (lambda: arima.fit_arima(np.arange(8.0), (1, 0, 0)), r"at least 11 samples"),
    (lambda: arima.fit_arima(np.r_[np.arange(30.0), np.nan], (1, 0, 0)), r"finite"),
    (lambda: arima.fit_arima(np.arange(30.0), (1, -1, 0)), r"parameter 'order'"),
    (lambda: arima.difference(np.arange(3.0), 4), r"at least 5 samples"),
    (lambda: arima.fit_arima(np.random.default_rng(0).standard_normal(300).cumsum()
                             .cumsum(), (1, 0, 0)), r"stationary and invertible"),
])
def test_errors(call, pattern):
    with pytest.raises((TypeError, ValueError), match=pattern):
        call()
