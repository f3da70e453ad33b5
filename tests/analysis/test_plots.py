"""Figures: built as matplotlib Figures, showing what the analyses computed, no pyplot."""

import subprocess
import sys

import numpy as np
import pytest
from matplotlib.figure import Figure

from analysis import kernels, plots, spectrum
from analysis.diffusion import heat_kernel, softmax_kernel
from analysis.images import demo_image, stripes

NAMED = [kernels.sobel(), kernels.gaussian(5, 1.0), kernels.gabor(theta=30)]


def _titles(fig):
    return [ax.get_title() for ax in fig.axes]


def _images(fig):
    """The image panels of ``fig`` (colorbar axes hold no image)."""
    return [ax for ax in fig.axes if ax.images]


def _colorbars(fig):
    return [ax for ax in fig.axes if hasattr(ax, "_colorbar")]


def test_filter_spectra_figure_pairs_filters_with_their_spectra():
    fig = plots.filter_spectra_figure(NAMED, labels=["sobel", "gauss", "gabor"], ncols=2)
    assert isinstance(fig, Figure)
    panels = _images(fig)
    assert len(panels) == 6
    titles = [ax.get_title() for ax in panels]
    assert titles[:2] == ["sobel", "bandpass, 0°\ng₀ = 0.000"]
    assert titles[3] == "lowpass\ng₀ = 1.000"
    assert "gabor" in titles and titles[5].startswith("bandpass, 30°")
    spec = spectrum.filter_spectrum(kernels.stack_kernels(NAMED), 64)
    shown = panels[1].images[0].get_array()                # the -0.5 row/column repeated
    np.testing.assert_allclose(shown[:-1, :-1], spec.magnitude[0] / spec.magnitude[0].max())
    np.testing.assert_allclose(shown[-1], shown[0])


def test_every_spectrum_and_kernel_panel_has_a_colorbar_with_its_unit():
    fig = plots.filter_spectra_figure(NAMED, ncols=2)
    bars = _colorbars(fig)
    assert len(bars) == len(_images(fig)) == 6
    units = [ax.get_ylabel() for ax in bars]
    assert units.count("weight") == 3 and units.count("|K| / its peak") == 3
    absolute = plots.filter_spectra_figure(NAMED, ncols=2, normalize=False)
    assert [ax.get_ylabel() for ax in _colorbars(absolute)].count("|K| (linear)") == 3
    db = plots.filter_spectra_figure(NAMED, db=True, normalize=False)
    assert [ax.get_ylabel() for ax in _colorbars(db)].count("|K| (dB re peak)") == 3
    spectra = [ax for ax in _images(db) if ax.get_xlabel()]
    values = [ax.images[0].get_array() for ax in spectra]
    assert max(v.max() for v in values) == pytest.approx(0.0)     # the largest peak: 0 dB
    assert values[0].min() == pytest.approx(plots.DB_FLOOR)       # Sobel's zeros, floored
    assert {ax.images[0].get_clim() for ax in spectra} == {(plots.DB_FLOOR, 0.0)}
    for figure in (plots.image_spectrum_figure(stripes(32, 0, 4)),
                   plots.frequency_mask_figure(demo_image(32), spectrum.lowpass(32, 0.1))):
        assert len(_colorbars(figure)) == len(_images(figure))


def test_spectrum_axes_are_labelled_in_cycles_per_pixel_with_dc_at_the_centre():
    fig = plots.filter_spectra_figure([kernels.sobel()], size=32)
    ax = _images(fig)[1]
    assert "cycles/pixel" in ax.get_xlabel() and "cycles/pixel" in ax.get_ylabel()
    assert list(ax.get_xticks()) == [-0.5, 0.0, 0.5] == list(ax.get_yticks())
    assert [t.get_text() for t in ax.get_xticklabels()] == ["\u22120.5", "0", "0.5"]
    assert ax.get_xlim() == (-0.5, 0.5) and ax.get_ylim() == (-0.5, 0.5)
    left, right, bottom, top = ax.images[0].get_extent()
    assert (left + right) / 2 == pytest.approx(0.0) == (bottom + top) / 2   # DC at the centre
    assert "DC at the centre" in fig.get_suptitle()


def test_shared_scale_gives_every_filter_the_same_colour_limits():
    w = [kernels.box(3), 3 * kernels.sobel(), kernels.laplacian(4)]
    shared = _images(plots.filter_spectra_figure(w, normalize=False))
    kernel_lims = {ax.images[0].get_clim() for ax in shared[0::2]}
    spectrum_lims = {ax.images[0].get_clim() for ax in shared[1::2]}
    assert kernel_lims == {(-6.0, 6.0)}                      # 3·sobel's largest tap
    peak = spectrum.filter_spectrum(kernels.stack_kernels(w), 64).magnitude.max()
    assert len(spectrum_lims) == 1
    assert spectrum_lims.pop() == pytest.approx((0.0, peak))
    own = _images(plots.filter_spectra_figure(w, shared_scale=False, normalize=False))
    assert len({ax.images[0].get_clim() for ax in own[1::2]}) == 3
    assert own[0].images[0].get_clim() == pytest.approx((-1 / 9, 1 / 9))


def test_normalized_spectra_share_one_scale_of_each_filters_own_peak():
    # a box's peak gain is 1, a 4-neighbour Laplacian's 8: on one absolute scale the box is a
    # pale blot; each relative to its own peak, both reach the top of the shared bar
    w = [kernels.box(3), kernels.laplacian(4), 3 * kernels.sobel()]
    fig = plots.filter_spectra_figure(w)
    panels = _images(fig)
    spectra, kernel_panels = panels[1::2], panels[0::2]
    assert {ax.images[0].get_clim() for ax in spectra} == {(0.0, 1.0)}
    assert [float(ax.images[0].get_array().max()) for ax in spectra] == pytest.approx([1, 1, 1])
    assert [ax.images[0].get_clim()[1] for ax in kernel_panels] == pytest.approx(
        [1 / 9, 4.0, 6.0])                                   # each kernel on its own ±max|w|
    assert "relative to its own peak" in fig.get_suptitle()
    db = _images(plots.filter_spectra_figure(w, db=True))[1::2]
    assert {ax.images[0].get_clim() for ax in db} == {(plots.DB_FLOOR, 0.0)}
    assert [float(ax.images[0].get_array().max()) for ax in db] == pytest.approx([0, 0, 0])
    assert [ax.get_ylabel() for ax in _colorbars(plots.filter_spectra_figure(w, db=True))
            ].count("|K| (dB re its peak)") == 3


def test_long_filter_labels_are_wrapped_not_cut():
    label = "gabor:theta=30,wavelength=6,sigma=3"
    fig = plots.filter_spectra_figure([kernels.gabor(theta=30)], labels=[label])
    title = _images(fig)[0].get_title()
    assert title == "gabor:theta=30,\nwavelength=6,sigma=3"        # broken after a comma


def test_filter_spectra_figure_of_a_conv_layer_labels_filters():
    w = np.random.default_rng(0).standard_normal((3, 2, 5, 5))
    fig = plots.filter_spectra_figure(w, size=32)
    assert "[2, 1]" in _titles(fig)
    assert plots.filter_labels(w.shape)[:3] == ["[0, 0]", "[0, 1]", "[1, 0]"]


def test_orientation_rose_draws_0_to_180_degrees_once_and_the_dominant_axis():
    fig = plots.orientation_rose_figure([kernels.gabor(theta=30), kernels.box(3)], bins=12,
                                        labels=["g", "b"])
    assert len(fig.axes) == 2 and fig.axes[0].name == "polar"
    heights = [p.get_height() for p in fig.axes[0].patches]
    _, energy = spectrum.orientation_energy(spectrum.filter_spectrum(kernels.gabor(theta=30),
                                                                     64), 12)
    np.testing.assert_allclose(heights, energy)           # one bar per bin, no repeat
    assert [p.get_x() + p.get_width() / 2 for p in fig.axes[0].patches] == \
        pytest.approx(np.radians(np.arange(12) * 15))
    assert (fig.axes[0].get_thetamin(), fig.axes[0].get_thetamax()) == \
        pytest.approx((0.0, 180.0))
    assert "180–360° repeats" in fig.get_suptitle()
    (line,) = fig.axes[0].lines
    assert np.degrees(line.get_xdata()[0]) == pytest.approx(30, abs=0.5)
    assert not fig.axes[1].lines                        # isotropic: no dominant axis
    assert fig.axes[0].get_title().startswith("g sel=0.9")


def test_radial_profile_figure_shows_the_half_power_rule():
    fig = plots.radial_profile_figure(NAMED, labels=["s", "g", "b"])
    ax = fig.axes[0]
    assert len(ax.lines) == 4
    assert ax.lines[-1].get_ydata()[0] == pytest.approx(-10 * np.log10(2))
    assert ax.get_legend() is None                    # beside the axes, not on the curves
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["s bandpass", "g lowpass", "b bandpass"]
    assert max(ax.lines[1].get_ydata()) == pytest.approx(0.0)


def test_radial_profile_range_fits_the_data_with_a_margin():
    # a gentle lowpass whose profile spans about -15 ... 0 dB
    mask = 10 ** (-15 * (spectrum.frequency_grid(64)[0][:, None] ** 2
                        + spectrum.frequency_grid(64)[1][None, :] ** 2) / 0.25 / 20)
    fig = plots.radial_profile_figure(spectrum.mask_kernel(mask), size=64)
    ax = fig.axes[0]
    data = ax.lines[0].get_ydata()
    low, high = ax.get_ylim()
    assert -16 < data.min() < -14 and data.max() == pytest.approx(0.0)
    assert low < data.min() and high > 0 and ax.lines[-1].get_ydata()[0] > low
    assert low > -20 and high < 2                         # not the old fixed -60 ... 3
    narrow = plots.radial_profile_figure([np.ones((1, 1))]).axes[0]   # flat at 0 dB
    assert narrow.get_ylim()[0] < -3.01 < narrow.get_ylim()[1]


def test_image_and_mask_figures():
    fig = plots.image_spectrum_figure(stripes(64, 37, 6))
    rose = fig.axes[-1]
    assert rose.name == "polar" and "dominant 37.0°" in rose.get_title()
    assert rose.get_thetamax() == pytest.approx(180.0)
    image = demo_image(32)
    mask = spectrum.lowpass(32, 0.1)
    fig = plots.frequency_mask_figure(image, mask)
    panels = _images(fig)
    np.testing.assert_allclose(panels[2].images[0].get_array(),
                               spectrum.apply_frequency_mask(image, mask))
    assert panels[2].images[0].get_clim() == panels[0].images[0].get_clim()


def test_diffusion_figure_rows_show_kernel_propagator_and_steps():
    image = demo_image(32)
    fig = plots.diffusion_figure([kernels.laplacian(), kernels.gaussian(5, 1.0)], image,
                                 steps=(0, 3), labels=["lap", "gauss"], temperature=1.0)
    grid = fig.axes[:2 * 4]
    assert [ax.get_title() for ax in grid[:4]] == ["kernel lap", "p, T = 1; stay 0.999",
                                                   "n = 0 (input)", "n = 3 steps"]
    np.testing.assert_allclose(grid[5].images[0].get_array(),
                               softmax_kernel(kernels.gaussian(5, 1.0), 1.0))
    np.testing.assert_allclose(grid[2].images[0].get_array(), image)
    assert "T = 1 for every kernel" in fig.get_suptitle()


def test_diffusion_figure_has_a_probability_colorbar_per_propagator():
    w = 0.2 * np.random.default_rng(0).standard_normal((3, 5, 5))
    fig = plots.diffusion_figure(w, demo_image(16), steps=(0, 1))
    propagators = fig.axes[1:3 * 4:4]
    for ax, k in zip(propagators, w):
        bar = ax.images[0].colorbar
        assert bar is not None and bar.ax.get_ylabel() == "probability"
        lo, hi = bar.mappable.get_clim()
        p = softmax_kernel(k)
        assert lo == 0 and hi == pytest.approx(p.max())
        t = 0.5 * k.std()
        assert ax.get_title().startswith(f"p, T = {t:.3g}; stay ")
    # The default temperature: the rule is stated, and the propagators are not uniform.
    assert "half the standard deviation" in fig.get_suptitle()
    assert min(ax.images[0].get_array().max() for ax in propagators) >= 3 / 25
    # Kernels and the last frame of each row have their bars too; every label is explained.
    assert fig.axes[0].images[0].colorbar.ax.get_ylabel() == "weight"
    assert fig.axes[3].images[0].colorbar.ax.get_ylabel() == "grey level"
    assert "'stay': the centre tap" in fig.get_suptitle() and "n steps" in fig.get_suptitle()


def test_stochastic_figure_plots_the_measured_and_predicted_rates():
    fig = plots.stochastic_figure(demo_image(32), heat_kernel(0.5), samples=(1, 10, 100), seed=3)
    curve = fig.axes[-1]
    measured, predicted = curve.lines[0].get_ydata(), curve.lines[1].get_ydata()
    assert np.all(np.diff(measured) < 0)
    np.testing.assert_allclose(predicted[0] / predicted[-1], 10.0)
    title = fig.get_suptitle()
    assert "numpy.random.default_rng(3)" in title and "seed" not in title.lower()


def test_plot_errors():
    with pytest.raises(ValueError, match=r"filter_spectra_figure: parameter 'labels' must be a "
                                         r"sequence of 3 labels, one a filter"):
        plots.filter_spectra_figure(NAMED, labels=["a"])
    with pytest.raises(ValueError, match=r"parameter 'w\[1\]' must be a 2-d array"):
        plots.diffusion_figure([np.ones((3, 3)), np.ones(3)], demo_image(16))
    for bad in (0, -1.0):
        with pytest.raises(ValueError, match=r"diffusion_figure: parameter 'temperature' must "
                                             r"be a finite real number > 0"):
            plots.diffusion_figure([np.ones((3, 3))], demo_image(16), temperature=bad)
    with pytest.raises(ValueError, match=r"orientation_rose_figure: parameter 'ncols' must be "
                                         r"an int >= 1; got 0"):
        plots.orientation_rose_figure(NAMED, ncols=0)


def test_library_figures_never_touch_pyplot():
    code = ("import sys\n"
            "from analysis import kernels, plots\n"
            "from analysis.images import demo_image\n"
            "plots.filter_spectra_figure([kernels.sobel()])\n"
            "plots.diffusion_figure([kernels.box(3)], demo_image(16), steps=(1,))\n"
            "assert 'matplotlib.pyplot' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_figures_of_degenerate_filters_build_without_warnings():
    import warnings

    w = np.zeros((2, 1, 3, 3))
    w[1, 0, 1, 1] = 1.0                              # a zero filter and an impulse
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(_images(plots.filter_spectra_figure(w))) == 4
        plots.filter_spectra_figure(w, db=True, shared_scale=False)
        rose = plots.orientation_rose_figure(w)
        assert not any(ax.lines for ax in rose.axes)  # no dominant orientation to draw
        plots.radial_profile_figure(w)
        plots.diffusion_figure(w, demo_image(16), steps=(0, 1))
