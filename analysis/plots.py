"""Figures for the analyses, as ``matplotlib.figure.Figure`` objects.

Nothing here touches ``pyplot`` state or writes files: every function builds and
returns a :class:`~matplotlib.figure.Figure`, and the caller decides what to do
with it (the command line saves it as PNG through :func:`analysis.files.save_figure`;
a notebook displays it). The module is organized by analysis, one section each:

1. Filters in the frequency domain (:mod:`analysis.spectrum`)
2. A kernel read as diffusion (:mod:`analysis.diffusion`)

Conventions shared by all figures: kernels in a diverging colormap centred on 0,
spectra centred with axes in cycles/pixel and the y axis pointing up, images in
grey. matplotlib is optional (the ``plots`` extra) and imported on the first
figure: without it each function raises an ImportError naming itself and
``pip install 'fftconv[plots]'``.
"""

from __future__ import annotations

import math
import re

import numpy as np

from fftconv import style
from fftconv.errors import bad_value
from fftconv.optional import require
from fftconv.text import plural

from . import diffusion, kernels, spectrum
from fftconv.checks import as_array, integer, positive

__all__ = ["filter_labels", "filter_spectra_figure", "orientation_rose_figure",
           "radial_profile_figure", "image_spectrum_figure", "frequency_mask_figure",
           "diffusion_figure", "stochastic_figure", "pooling_information_figure",
           "parametrization_figure", "arima_figure"]

KERNEL_CMAP = style.SIGNED_CMAP
SPECTRUM_CMAP = style.MAGNITUDE_CMAP
IMAGE_CMAP = style.IMAGE_CMAP
OKABE_ITO = style.OKABE_ITO


# -- shared helpers ------------------------------------------------------------------

def _figure(func, **kwargs):
    """A new ``matplotlib.figure.Figure(**kwargs)`` for the public function ``func``."""
    return require("matplotlib.figure", "plots", func).Figure(**kwargs)


def filter_labels(shape) -> list[str]:
    """Labels of the filters of a stack ``(..., kh, kw)`` in C order: ``'[o, i]'`` for 4-d.

    Parameters
    ----------
    shape : tuple of int
        Shape of the stack.

    Returns
    -------
    list of str
        One label per filter; ``['']`` for a single 2-d kernel.

    Examples
    --------
    >>> filter_labels((2, 1, 5, 5))
    ['[0, 0]', '[1, 0]']
    >>> filter_labels((3, 3))
    ['']
    """
    lead = tuple(shape[:-2])
    if not lead:
        return [""]
    return ["[" + ", ".join(map(str, idx)) + "]" for idx in np.ndindex(*lead)]


def _filters(func, w, labels, common_size=True):
    """Kernels -> ``(F, kh, kw)`` array (or a list of 2-d arrays) and ``F`` labels.

    ``w`` is an array ``(..., kh, kw)`` or a list of 2-d kernels of any sizes; a
    list is centred in a common size (:func:`analysis.kernels.stack_kernels`)
    when ``common_size``, which leaves magnitude spectra unchanged.
    """
    if isinstance(w, (list, tuple)) and any(isinstance(k, np.ndarray) or np.ndim(k) >= 2
                                            for k in w):
        flat = [as_array(func, f"w[{i}]", k, ndim=2,
                         layout="(kh, kw)", finite=True) for i, k in enumerate(w)]
        if common_size:
            flat = kernels.stack_kernels(flat)
        default = [f"[{i}]" for i in range(len(flat))]
    else:
        arr = as_array(func, "w", w, min_ndim=2,
                       layout="(..., kh, kw) or a list of 2-d kernels", finite=True)
        flat = arr.reshape((-1,) + arr.shape[-2:])
        default = filter_labels(arr.shape)
    if labels is None:
        labels = default
    elif len(labels) != len(flat):
        raise bad_value(func, "labels", labels, f"a sequence of {len(flat)} labels, one a filter")
    return flat, [str(label) for label in labels]


#: Unit on the colorbar of a kernel panel.
KERNEL_UNIT = "weight"
#: Lowest level of a spectrum drawn in dB (below the peak): spectral zeros would be −∞.
DB_FLOOR = -60.0
#: Smallest text of a dense grid (axis labels, ticks, colour bars): 7 pt, legible
#: at the 110 dpi of the report's PNGs.
SMALL_FONTSIZE = 7
#: Frequency ticks of a centred spectrum (cycles/pixel), three so small panels stay legible.
FREQUENCY_TICKS = (-0.5, 0.0, 0.5)


def _tick_text(value):
    """``-0.5`` → ``'−0.5'`` (a true minus sign), ``0.0`` → ``'0'``."""
    return "0" if value == 0 else f"{value:g}".replace("-", "\u2212")


def _show_kernel(ax, k, title="", lim=None, colorbar=False):
    """A kernel in the diverging map centred on 0 (``±lim``, default ``max |k|``), with its bar."""
    lim = float(np.abs(k).max()) if lim is None else float(lim)
    lim = lim or 1.0
    im = ax.imshow(k, cmap=KERNEL_CMAP, vmin=-lim, vmax=lim, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=8)
    if colorbar:
        _bar(ax, im, KERNEL_UNIT)
    return im


def _show_spectrum(ax, values, fy, fx, title="", cmap=SPECTRUM_CMAP, vmin=None, vmax=None,
                   unit="|K| (linear)", colorbar=False):
    """Centred spectrum, axes in cycles/pixel with DC at the centre and y pointing up.

    The axes span exactly ``[-0.5, 0.5]``, so the ticks ``−0.5, 0, 0.5`` are the
    same on every panel; for an even DFT size the ``−0.5`` row and column are
    drawn at ``+0.5`` too (it is the same frequency), half a sample wide at each edge.
    """
    values = np.asarray(values)
    # an even DFT size samples -0.5 but not +0.5, the same frequency (aliased):
    # repeat that row / column at +0.5 so the panel is symmetric about DC
    if len(fx) > 1 and fx[0] == -0.5:
        values, fx = np.concatenate([values, values[:, :1]], axis=1), np.append(fx, 0.5)
    if len(fy) > 1 and fy[0] == -0.5:
        values, fy = np.concatenate([values, values[:1]], axis=0), np.append(fy, 0.5)
    dy, dx = (fy[1] - fy[0] if len(fy) > 1 else 1.0), (fx[1] - fx[0] if len(fx) > 1 else 1.0)
    extent = (fx[0] - dx / 2, fx[-1] + dx / 2, -(fy[-1] + dy / 2), -(fy[0] - dy / 2))
    im = ax.imshow(values, cmap=cmap, extent=extent, interpolation="nearest",
                   vmin=vmin, vmax=vmax)
    ax.set_xlim(-0.5, 0.5)
    ax.set_ylim(-0.5, 0.5)
    ticks = list(FREQUENCY_TICKS)
    ax.set_xticks(ticks, [_tick_text(t) for t in ticks])
    ax.set_yticks(ticks, [_tick_text(t) for t in ticks])
    ax.set_xlabel("$f_x$ (cycles/pixel)", fontsize=SMALL_FONTSIZE, labelpad=1)
    ax.set_ylabel("$f_y$ up (cycles/pixel)", fontsize=SMALL_FONTSIZE, labelpad=1)
    ax.set_title(title, fontsize=8)
    ax.tick_params(labelsize=SMALL_FONTSIZE, pad=1)
    if colorbar:
        _bar(ax, im, unit)
    return im


def _show_image(ax, image, title="", vmin=None, vmax=None, colorbar=False):
    im = ax.imshow(image, cmap=IMAGE_CMAP, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=8)
    if colorbar:
        _bar(ax, im, "intensity")
    return im


def _decibels(magnitude, reference):
    """``20·log10(|K| / reference)``, clipped below at :data:`DB_FLOOR` (zeros included)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        db = 20 * np.log10(np.asarray(magnitude) / reference)
    return np.maximum(np.nan_to_num(db, nan=DB_FLOOR, neginf=DB_FLOOR), DB_FLOOR)


def _bar(ax, mappable, label):
    """A small colorbar (:func:`fftconv.style.add_colorbar`) for a panel in a dense grid."""
    bar = style.add_colorbar(ax, mappable)
    bar.set_label(label, fontsize=SMALL_FONTSIZE)
    bar.ax.tick_params(labelsize=SMALL_FONTSIZE)
    return bar


def _wrap_label(label: str, width: int = 22) -> str:
    """A long panel label on several lines, broken after ``,`` ``:`` or a space
    (``'gabor:theta=30,wavelength=6'`` -> ``'gabor:theta=30,\\nwavelength=6'``), so
    a narrow panel does not cut it; a piece longer than ``width`` stays whole."""
    lines = [""]
    for piece in re.split(r"(?<=[,: ])", label):
        if lines[-1] and len(lines[-1]) + len(piece) > width:
            lines.append("")
        lines[-1] += piece
    return "\n".join(line.rstrip() for line in lines)


def _grid(count, ncols):
    ncols = max(1, min(ncols, count))
    return ncols, math.ceil(count / ncols)


# == 1. Filters in the frequency domain ===============================================

def filter_spectra_figure(w, size=64, labels=None, ncols=4, shared_scale=True, db=False,
                          normalize=True):
    """Each filter beside its magnitude spectrum, with its pass type and orientation.

    Parameters
    ----------
    w : array_like, shape (..., kh, kw), or list of 2-d array_like
        One kernel, a stack (conv2d weights ``(C_out, C_in, kh, kw)``), or kernels
        of different sizes (centred in a common size, which keeps their spectra).
    size : int
        DFT size for :func:`analysis.spectrum.filter_spectrum`.
    labels : sequence of str, optional
        One per filter (default ``'[o, i]'`` indices).
    ncols : int
        Filter/spectrum pairs per row.
    shared_scale : bool
        One colour scale for all the filters (kernels ``±max |w|`` over the stack,
        spectra ``0 … max |K|`` over the stack, or ``DB_FLOOR … 0`` dB below the
        largest peak), so panels compare by colour; ``False`` scales each panel
        to its own range.
    db : bool
        Spectra in dB, ``20·log10(|K| / max |K|)`` floored at :data:`DB_FLOOR`
        (−60 dB), instead of the linear ``|K|``. The colorbar says which.
    normalize : bool
        Divide each spectrum by its own peak, ``|K(f)| / max_f |K(f)|``, and show
        each kernel on ``±`` its own ``max |w|`` (default). A Gaussian's peak gain
        is 1 and a 4-neighbour Laplacian's 8, so on one absolute scale the blur is a pale
        blot; normalized, the shared scale ``0 … 1`` (or ``DB_FLOOR … 0`` dB) reads
        the same on every panel, the quantity :func:`analysis.spectrum.pass_type`
        compares with 1/√2, and every bar says "re its peak". ``False``: absolute
        ``|K|``, one scale over the stack when ``shared_scale``.

    Returns
    -------
    matplotlib.figure.Figure
        Spatial kernels in a diverging colormap centred on 0; magnitude spectra
        ``|K(f)|`` centred (DC in the middle), axes in cycles/pixel (y up). Every
        panel has its colorbar. Each spectrum's title gives the pass type
        (:func:`analysis.spectrum.pass_type`), the dominant orientation when
        there is one, and ``g₀``, the DC gain relative to the peak
        (:func:`analysis.spectrum.relative_dc_gain`) from which, with the gain at
        ``|f| = 0.5``, the pass type follows: DC is passed when
        ``g₀ >= 1/√2 ≈ 0.707``.

    Examples
    --------
    >>> from analysis import kernels
    >>> fig = filter_spectra_figure([kernels.sobel(), kernels.gaussian(5)])
    >>> len([ax for ax in fig.axes if ax.images])      # two kernels, two spectra
    4
    """
    func = "filter_spectra_figure"
    flat, labels = _filters(func, w, labels)
    ncols = integer(func, "ncols", ncols)
    spectra = spectrum.filter_spectrum(flat, size)
    kinds = np.atleast_1d(spectrum.pass_type(spectra))
    angles = np.atleast_1d(spectrum.dominant_orientation(spectra))
    dc = np.atleast_1d(spectrum.relative_dc_gain(spectra))
    magnitude = spectra.magnitude
    own = magnitude.max(axis=(-2, -1), keepdims=True)
    own = np.where(own > 0, own, 1.0)
    if normalize:
        magnitude = magnitude / own
    peak = float(magnitude.max()) or 1.0
    relative = " re its peak" if normalize else ""
    if db:
        # each filter relative to its own peak, or all to the largest one
        values = _decibels(magnitude, peak if shared_scale and not normalize else
                           (1.0 if normalize else own))
        unit, top = f"|K| (dB{relative or ' re peak'})", 0.0
    else:
        values, unit, top = magnitude, ("|K| / its peak" if normalize else "|K| (linear)"), \
            (1.0 if normalize else peak)
    kernel_lim = (float(np.abs(np.asarray(flat)).max())
                  if shared_scale and not normalize else None)
    ncols, nrows = _grid(len(flat), ncols)
    fig = _figure(func, figsize=(4.6 * ncols, 2.1 * nrows + 0.5), layout="constrained")
    fig.get_layout_engine().set(wspace=0.06)      # room between a bar's unit and a y label
    scale = ("each spectrum relative to its own peak, one colour scale for all" if normalize
             and shared_scale else "one colour scale for all" if shared_scale
             else "each panel its own scale")
    fig.suptitle(f"Filters and their magnitude spectra |K(f)| (DFT size {spectra.fy.size}, "
                 f"DC at the centre; {scale})\n"
                 f"g₀: DC gain relative to the peak, passed when ≥ "
                 f"{spectrum.HALF_POWER_GAIN:.3f} (−3 dB)", fontsize=9)
    axes = fig.subplots(nrows, 2 * ncols, squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for n, (k, label) in enumerate(zip(flat, labels)):
        ax_k, ax_s = axes[n // ncols, 2 * (n % ncols)], axes[n // ncols, 2 * (n % ncols) + 1]
        ax_k.set_axis_on()
        ax_s.set_axis_on()
        _show_kernel(ax_k, k, _wrap_label(label), lim=kernel_lim, colorbar=True)
        angle = "" if np.isnan(angles[n]) else f", {angles[n]:.0f}°"
        gain = "" if np.isnan(dc[n]) else f"g₀ = {dc[n]:.3f}"
        low, high = ((DB_FLOOR, top) if db else (0.0, top)) if shared_scale else (None, None)
        _show_spectrum(ax_s, values[n], spectra.fy, spectra.fx,
                       f"{kinds[n]}{angle}\n{gain}".rstrip(), vmin=low, vmax=high,
                       unit=unit, colorbar=True)
    return fig


def _rose(ax, centres, energy, angle=np.nan):
    """Orientation energy on a half polar axis, 0–180° once, and the dominant axis.

    A real filter's (or image's) magnitude response is point-symmetric,
    ``|K(f)| = |K(−f)|``, so the energy at ``θ + 180°`` is the energy at ``θ``:
    the lower half of a full rose would repeat the upper one.
    """
    width = np.pi / len(centres)
    ax.bar(np.radians(centres), np.nan_to_num(energy), width=width,
           color=style.OKABE_ITO[0], alpha=0.85)
    ax.set_thetamin(0)
    ax.set_thetamax(180)
    ax.set_xticks(np.radians([0, 45, 90, 135, 180]), ["0°", "45°", "90°", "135°", "180°"])
    ax.set_yticklabels([])
    ax.tick_params(labelsize=SMALL_FONTSIZE, pad=0)
    if not np.isnan(angle):
        top = float(np.nanmax(energy)) if np.isfinite(energy).any() else 1.0
        ax.plot([np.radians(angle)] * 2, [0, top], color=style.OKABE_ITO[3], lw=1.4)


def orientation_rose_figure(w, size=64, bins=36, labels=None, ncols=6):
    """Orientation roses: spectral energy per orientation over 0–180°, one per filter.

    Parameters
    ----------
    w : array_like, shape (..., kh, kw), or list of 2-d array_like
        As in :func:`filter_spectra_figure`.
    size : int
        DFT size.
    bins : int
        Orientation bins over 180°.
    labels : sequence of str, optional
        One per filter.
    ncols : int
        Roses per row.

    Returns
    -------
    matplotlib.figure.Figure
        Half roses over 0–180° (counter-clockwise from +x, y up): a real filter's
        magnitude response is point-symmetric, ``|K(f)| = |K(−f)|``, so
        180–360° would repeat them. Bar length = fraction of energy
        (:func:`analysis.spectrum.orientation_energy`); the vermillion line marks
        the dominant orientation, and the title gives the orientation selectivity.

    Examples
    --------
    >>> from analysis import kernels
    >>> len(orientation_rose_figure(kernels.gabor(theta=30)).axes)
    1
    """
    flat, labels = _filters("orientation_rose_figure", w, labels)
    ncols = integer("orientation_rose_figure", "ncols", ncols)
    spectra = spectrum.filter_spectrum(flat, size)
    centres, energy = spectrum.orientation_energy(spectra, bins)
    angles = np.atleast_1d(spectrum.dominant_orientation(spectra))
    select = np.atleast_1d(spectrum.orientation_selectivity(spectra))
    ncols, nrows = _grid(len(flat), ncols)
    fig = _figure("orientation_rose_figure",
                  figsize=(2.3 * ncols, 1.6 * nrows + 0.6), layout="constrained")
    fig.suptitle("Share of spectral energy per wave-vector orientation, 0–180°\n"
                 "(|K(f)| = |K(−f)| for a real filter: 180–360° repeats it)", fontsize=9)
    for n in range(len(flat)):
        ax = fig.add_subplot(nrows, ncols, n + 1, projection="polar")
        _rose(ax, centres, energy[n], angles[n])
        ax.set_title(_wrap_label(f"{labels[n]} sel={select[n]:.2f}".strip()), fontsize=8)
    return fig


def radial_profile_figure(w, size=64, labels=None):
    """Orientation-averaged power against radial frequency, one line per filter.

    Parameters
    ----------
    w : array_like, shape (..., kh, kw), or list of 2-d array_like
        As in :func:`filter_spectra_figure`.
    size : int
        DFT size.
    labels : sequence of str, optional
        One per filter.

    Returns
    -------
    matplotlib.figure.Figure
        Each profile (:func:`analysis.spectrum.radial_profile`) in dB relative to
        its own peak, ``20·log10 g(r)`` with ``g`` the relative gain of
        :func:`analysis.spectrum.relative_gain`; the dashed line at −3 dB is the
        passband threshold of :func:`analysis.spectrum.pass_type`, whose verdict
        the legend gives: the label follows from where each curve starts (DC)
        and ends (``|f| = 0.5``) relative to that line. The y range fits the data
        (floored at :data:`DB_FLOOR`) with a small margin, and always shows the
        −3 dB line.

    Examples
    --------
    >>> from analysis import kernels
    >>> fig = radial_profile_figure([kernels.box(3), kernels.laplacian()])
    >>> len(fig.axes[0].lines)          # two profiles and the -3 dB line
    3
    """
    flat, labels = _filters("radial_profile_figure", w, labels)
    spectra = spectrum.filter_spectrum(flat, size)
    radii, gain = spectrum.relative_gain(spectra)
    kinds = np.atleast_1d(spectrum.pass_type(spectra))
    fig = _figure("radial_profile_figure", figsize=(6.4, 4.0), layout="constrained")
    ax = fig.subplots()
    threshold = 20 * np.log10(spectrum.HALF_POWER_GAIN)
    low, high = threshold, 0.0
    for n in range(len(flat)):
        db = _decibels(gain[n], 1.0)
        if np.isnan(gain[n]).all():                 # a zero filter has no profile
            db = np.full_like(radii, np.nan)
        else:
            low = min(low, float(np.nanmin(db)))
        ax.plot(radii, db, lw=1.4, color=style.line_colour(n),
                ls=("-", "--", "-.", ":")[(n // len(style.OKABE_ITO)) % 4],
                label=f"{labels[n]} {kinds[n]}".strip())
    ax.axhline(threshold, color="k", ls="--", lw=0.8)
    ax.set_xlabel("radial frequency |f| (cycles/pixel)")
    ax.set_ylabel("power relative to the peak (dB)")
    ax.set_xlim(0, 0.5)
    margin = max(0.05 * (high - low), 0.5)
    ax.set_ylim(low - margin, high + margin)
    ax.set_title("Radial power profiles (dashed: −3 dB, the passband threshold)", fontsize=10)
    # beside the axes, not on the curves
    fig.legend(*ax.get_legend_handles_labels(), loc="outside right upper", fontsize=7,
               ncols=2 if len(flat) > 12 else 1, title="filter, pass type", title_fontsize=7)
    return fig


def image_spectrum_figure(image, bins=36):
    """An image, its centred log-magnitude spectrum and its orientation rose.

    Parameters
    ----------
    image : array_like, shape (H, W)
        Grey-level image.
    bins : int
        Orientation bins over 180°.

    Returns
    -------
    matplotlib.figure.Figure
        The spectrum is :func:`analysis.spectrum.image_spectrum` (mean removed,
        Hann window) with its colorbar; the half rose shows
        :func:`analysis.spectrum.orientation_energy` over 0–180° (the spectrum of a
        real image is point-symmetric) and its title the dominant orientation.

    Examples
    --------
    >>> from analysis.images import stripes
    >>> fig = image_spectrum_figure(stripes(64, 37, 6))
    >>> len([ax for ax in fig.axes if ax.images]), fig.axes[-1].name
    (2, 'polar')
    """
    image = as_array("image_spectrum_figure", "image", image, ndim=2, layout="(H, W)", finite=True)
    scene_spectrum = spectrum.image_spectrum(image)
    centres, energy = spectrum.orientation_energy(scene_spectrum, bins)
    angle = spectrum.dominant_orientation(scene_spectrum)
    fig = _figure("image_spectrum_figure", figsize=(10.0, 3.4), layout="constrained")
    ax_i = fig.add_subplot(1, 3, 1)
    _show_image(ax_i, image, "image", colorbar=True)
    ax_s = fig.add_subplot(1, 3, 2)
    _show_spectrum(ax_s, scene_spectrum.log_magnitude, scene_spectrum.fy, scene_spectrum.fx,
                   "log(1 + |X(f)|), DC at the centre", unit="log(1 + |X|)", colorbar=True)
    ax_r = fig.add_subplot(1, 3, 3, projection="polar")
    _rose(ax_r, centres, energy)
    ax_r.set_title("energy per orientation, 0–180° (180–360° repeats it)" if np.isnan(angle)
                   else f"energy per orientation (dominant {angle:.1f}°)\n"
                        "0–180°: 180–360° repeats it", fontsize=8)
    return fig


def frequency_mask_figure(image, mask):
    """Filtering in frequency: the image, the mask, the result and the mask's kernel.

    Parameters
    ----------
    image : array_like, shape (H, W)
        Grey-level image.
    mask : array_like, shape (H, W)
        Centred mask (:func:`analysis.spectrum.lowpass` and friends).

    Returns
    -------
    matplotlib.figure.Figure
        Four panels, each with its colorbar: the image; the mask (axes in
        cycles/pixel, DC at the centre); the filtered image on the input's grey
        scale (:func:`analysis.spectrum.apply_frequency_mask`); and the centre of
        the spatial kernel (:func:`analysis.spectrum.mask_kernel`) that the same
        filtering convolves with.

    Examples
    --------
    >>> from analysis.images import demo_image
    >>> from analysis.spectrum import lowpass
    >>> len([ax for ax in frequency_mask_figure(demo_image(32), lowpass(32, 0.1)).axes
    ...      if ax.images])
    4
    """
    image = as_array("frequency_mask_figure", "image", image, ndim=2, layout="(H, W)", finite=True)
    filtered = spectrum.apply_frequency_mask(image, mask)
    kernel = spectrum.mask_kernel(mask)
    fy, fx = spectrum.frequency_grid(kernel.shape)
    fig = _figure("frequency_mask_figure", figsize=(13.0, 3.2), layout="constrained")
    axes = fig.subplots(1, 4)
    lo, hi = float(image.min()), float(image.max())
    _show_image(axes[0], image, "image", lo, hi, colorbar=True)
    _show_spectrum(axes[1], np.asarray(mask), fy, fx, "mask M(f), DC at the centre",
                   unit="gain M (linear)", colorbar=True)
    _show_image(axes[2], filtered, "IDFT(DFT(x) · M)", lo, hi, colorbar=True)
    h, w = kernel.shape
    r = min(h, w, 33) // 2
    _show_kernel(axes[3], kernel[h // 2 - r:h // 2 + r + 1, w // 2 - r:w // 2 + r + 1],
                 f"its kernel IDFT(M) (centre {2 * r + 1}×{2 * r + 1})", colorbar=True)
    return fig


# == 2. A kernel read as diffusion ====================================================

def diffusion_figure(w, image, steps=(0, 1, 2, 4, 8, 16), temperature=None, labels=None):
    """Per filter: the kernel, its softmax propagator, and an image diffused by it.

    Parameters
    ----------
    w : array_like, shape (..., kh, kw), or list of 2-d array_like
        Kernels in conv2d form (cross-correlation), like layer weights and the
        named kernels of :mod:`analysis.kernels`. A list keeps each kernel's own
        size (zero padding would change its softmax).
    image : array_like, shape (H, W)
        Grey-level image to diffuse (periodic boundaries).
    steps : sequence of int
        Numbers of steps to show.
    temperature : float or None
        Softmax temperature; None (default): each kernel's
        :func:`analysis.diffusion.auto_temperature`, half the standard deviation
        of its entries.
    labels : sequence of str, optional
        One per filter.

    Returns
    -------
    matplotlib.figure.Figure
        One row per filter: ``w`` with a colorbar of its weights; the
        propagator ``p = softmax(w / T)`` with a colorbar in probability per
        step, its temperature and the probability of staying put (the centre
        tap); then the image after ``n`` steps of the layer's operation with
        ``p`` as its weight (cross-correlation with circular boundaries, i.e.
        :func:`analysis.diffusion.diffuse` with ``p[::-1, ::-1]``), all on the
        grey scale of the input image (bar beside the last frame).

    Examples
    --------
    >>> from analysis import kernels
    >>> from analysis.images import demo_image
    >>> fig = diffusion_figure(kernels.laplacian(), demo_image(32), steps=(0, 1, 4))
    >>> [ax.get_label() for ax in fig.axes[-3:]]          # a colorbar per row's panel
    ['<colorbar>', '<colorbar>', '<colorbar>']
    """
    func = "diffusion_figure"
    flat, labels = _filters(func, w, labels, common_size=False)
    image = as_array(func, "image", image, ndim=2, layout="(H, W)", finite=True)
    if temperature is not None:
        temperature = positive(func, "temperature", temperature)
    temps = [diffusion.auto_temperature(k) if temperature is None else temperature
             for k in flat]
    props = [diffusion.softmax_kernel(k, t) for k, t in zip(flat, temps)]
    steps = list(steps)
    ncols = 2 + len(steps)
    # 1.5 in a panel: the demo's eight columns fit a report page at full size
    fig = _figure(func, figsize=(1.5 * ncols + 1.4, 1.5 * len(flat) + 1.0),
                  layout="constrained")
    rule = ("T = half the standard deviation of each kernel's entries" if temperature is None
            else f"T = {temperature:g} for every kernel")
    fig.suptitle("Each row: a kernel w (conv2d weight); its propagator p = softmax(w / T), the "
                 "probability that a pixel's value\nmoves by each offset in one step "
                 f"({rule}; 'stay': the centre tap); the test image after n steps "
                 "of diffusion by p (circular boundaries)", fontsize=9)
    axes = fig.subplots(len(flat), ncols, squeeze=False)
    lo, hi = float(image.min()), float(image.max())
    for n, (k, p, t, label) in enumerate(zip(flat, props, temps, labels)):
        _bar(axes[n, 0], _show_kernel(axes[n, 0], k, _wrap_label(f"kernel {label}".strip())),
             "weight")
        c = p[p.shape[0] // 2, p.shape[1] // 2]
        shown = axes[n, 1].imshow(p, cmap=style.PROBABILITY_CMAP, vmin=0,
                                  vmax=float(p.max()), interpolation="nearest")
        axes[n, 1].set_xticks([])
        axes[n, 1].set_yticks([])
        axes[n, 1].set_title(f"p, T = {t:.3g}; stay {c:.3f}", fontsize=8)
        _bar(axes[n, 1], shown, "probability")
        frames = diffusion.diffuse(image, p[::-1, ::-1], steps)
        for j, (s, frame) in enumerate(zip(steps, frames)):
            _show_image(axes[n, 2 + j], frame,
                        "n = 0 (input)" if s == 0 else f"n = {plural(s, 'step')}",
                        lo, hi)
        _bar(axes[n, ncols - 1], axes[n, ncols - 1].images[0], "grey level")
    return fig


def stochastic_figure(image, propagator, samples=(1, 10, 100, 1000), seed=0):
    """Stochastic convolution converging to the deterministic one as ``1/√S``.

    Parameters
    ----------
    image : array_like, shape (H, W)
        Grey-level image.
    propagator : array_like, shape (kh, kw)
        Probability kernel in convolution form.
    samples : sequence of int
        Sample counts ``S`` to show.
    seed : int
        Seed of ``numpy.random.default_rng`` for the random moves (named in the
        title, so the figure can be redrawn).

    Returns
    -------
    matplotlib.figure.Figure
        Top row: the mean of ``S`` random moves per pixel for each ``S``
        (:func:`analysis.diffusion.stochastic_convolve`) and the exact circular
        convolution, on the input's grey scale (bar on the right). Bottom: the
        RMS error against ``S`` on log-log axes with the predicted
        ``sqrt((1 - Σp²)·mean(x²) / S)``.

    Examples
    --------
    >>> from analysis.diffusion import heat_kernel
    >>> from analysis.images import demo_image
    >>> len(stochastic_figure(demo_image(32), heat_kernel(0.5), samples=(1, 10)).axes)
    5
    """
    image = as_array("stochastic_figure", "image", image, ndim=2, layout="(H, W)", finite=True)
    samples = list(samples)
    means = [diffusion.stochastic_convolve(image, propagator, s, seed=seed) for s in samples]
    exact = spectrum.circular_convolve(image, propagator)
    errors = [float(np.sqrt(np.mean((m - exact) ** 2))) for m in means]
    ncols = len(samples) + 1
    fig = _figure("stochastic_figure",
                  figsize=(max(1.9 * ncols + 0.8, 6.0), 5.4), layout="constrained")
    fig.suptitle("Stochastic convolution: each pixel's value jumps S times to an offset drawn "
                 "from the propagator p;\nthe mean of the S jumps tends to the exact "
                 f"convolution (moves drawn by numpy.random.default_rng({seed}))", fontsize=9)
    sub = fig.subfigures(2, 1, height_ratios=[1.0, 1.3])
    top = sub[0].subplots(1, ncols, squeeze=False)[0]
    lo, hi = float(image.min()), float(image.max())
    for ax, s, m in zip(top, samples, means):
        _show_image(ax, m, f"mean of S = {s}", lo, hi)
    _show_image(top[-1], exact, "exact p ⊛ x (S → ∞)", lo, hi)
    _bar(top[-1], top[-1].images[0], "grey level")
    ax = sub[1].subplots()
    s_arr = np.asarray(samples, dtype=np.float64)
    predicted = np.sqrt((1 - np.sum(np.square(propagator))) * np.mean(image ** 2) / s_arr)
    ax.loglog(s_arr, errors, "o-", color=style.line_colour(0), label="measured RMS error")
    ax.loglog(s_arr, predicted, "--", color=style.line_colour(7), lw=0.8,
              label="predicted √((1 − Σp²)·mean(x²) / S)")
    ax.set_xlabel("samples S (jumps per pixel)")
    ax.set_ylabel("RMS error (vs exact)")
    ax.legend(fontsize=8)
    return fig


# -- learning in the frequency domain ----------------------------------------------------

def pooling_information_figure(curves_by_dataset):
    """Reconstruction error of spectral, max and average pooling against output size.

    Parameters
    ----------
    curves_by_dataset : dict of str to dict of str to PoolingCurve
        Dataset name → :func:`analysis.frequency_learning.pooling_information`.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per dataset: the mean relative error
        ``‖(x − x̄) − (R − R̄)‖ / ‖x − x̄‖`` of the reconstructions ``R`` over the
        maps at each output fraction ``1/factor``, with a band of ±1
        standard deviation. Lower is better: more of the map survives.
    """
    func = "pooling_information_figure"
    fig = _figure(func, figsize=(4.2 * len(curves_by_dataset), 3.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(curves_by_dataset), squeeze=False)[0])
    for ax, (name, curves) in zip(axes, curves_by_dataset.items()):
        for colour, (method, curve) in zip(OKABE_ITO, curves.items()):
            factor = np.asarray(curve.factors, float)
            ax.plot(factor, curve.mean, "o-", color=colour, label=f"{method} pooling")
            ax.fill_between(factor, curve.mean - curve.std, curve.mean + curve.std,
                            color=colour, alpha=0.2, lw=0)
        ax.set_xscale("log", base=2)
        ax.set_xticks(factor, [f"1/{f}" for f in curve.factors])
        ax.minorticks_off()
        ax.set_ylim(bottom=0)
        ax.set_xlabel("output side / input side (stronger pooling →)")
        ax.set_ylabel("relative reconstruction error")
        ax.set_title(name, fontsize=10)
        ax.legend(fontsize=8)
    return fig


def parametrization_figure(study, dataset):
    """Training loss of spatially and spectrally stored filters, at each one's best rate.

    Parameters
    ----------
    study : dict
        As written by ``tools/spectral_study.py``: ``study['datasets'][dataset]['runs']``
        is a list of runs with ``parametrization``, ``lr``, ``seed`` and ``batch_loss``.
    dataset : str

    Returns
    -------
    matplotlib.figure.Figure
        Left: the loss per step (a running mean over 10 steps), median over the seeds
        with the min–max band, for each parametrization at the learning rate with
        the lowest mean final loss. Right: the final loss at every rate of the grid
        (mean over seeds, bars: min–max), the learning-rate search itself.
    """
    func = "parametrization_figure"
    runs = study["datasets"][dataset]["runs"]
    kinds = sorted({r["parametrization"] for r in runs})
    rates = sorted({r["lr"] for r in runs})

    def final(r):
        return float(np.mean(r["batch_loss"][-20:]))

    fig = _figure(func, figsize=(10, 3.8), layout="constrained")
    curve_ax, grid_ax = fig.subplots(1, 2)
    for colour, kind in zip(OKABE_ITO, kinds):
        by_rate = {lr: [r for r in runs if r["parametrization"] == kind and r["lr"] == lr]
                   for lr in rates}
        finals = {lr: [final(r) for r in rs] for lr, rs in by_rate.items() if rs}
        best = min(finals, key=lambda lr: np.mean(finals[lr]))
        losses = np.array([r["batch_loss"] for r in by_rate[best]])
        window = min(10, losses.shape[1])
        kernel = np.ones(window) / window
        smooth = np.array([np.convolve(row, kernel, mode="valid") for row in losses])
        steps = np.arange(smooth.shape[1]) + window
        seeds = f"{len(losses)} seed{'s' if len(losses) != 1 else ''}"
        curve_ax.plot(steps, np.median(smooth, axis=0), "-" if len(steps) > 1 else "o",
                      color=colour, label=f"{kind} (lr {best:g}, {seeds})")
        curve_ax.fill_between(steps, smooth.min(axis=0), smooth.max(axis=0), color=colour,
                              alpha=0.25, lw=0)
        lrs = sorted(finals)
        mean = np.array([np.mean(finals[lr]) for lr in lrs])
        low = mean - np.array([np.min(finals[lr]) for lr in lrs])
        high = np.array([np.max(finals[lr]) for lr in lrs]) - mean
        grid_ax.errorbar(lrs, mean, yerr=[low, high], fmt="o-", color=colour, capsize=3,
                         label=kind)
    curve_ax.set_yscale("log")
    curve_ax.set_xlabel("training step")
    curve_ax.set_ylabel("training loss (10-step mean)")
    curve_ax.set_title(f"{dataset}: loss at each parametrization's best rate", fontsize=10)
    curve_ax.legend(fontsize=8)
    grid_ax.set_xscale("log")
    grid_ax.set_yscale("log")
    grid_ax.set_xlabel("Adam learning rate")
    grid_ax.set_ylabel("final loss (last 20 steps)")
    grid_ax.set_title("learning-rate grid (mean, min–max over seeds)", fontsize=10)
    grid_ax.legend(fontsize=8)
    return fig


def arima_figure(result, steps=50):
    """An ARIMA fit read as convolution: the series and forecast, kernels, responses.

    Parameters
    ----------
    result : analysis.arima.ARIMAResult
    steps : int
        Forecast horizon drawn after the series.

    Returns
    -------
    matplotlib.figure.Figure
        Top: the last part of the series and the point forecast. Bottom left: the
        differencing, AR and MA kernels as stems (convolution order, lag 0
        first). Bottom right: their magnitude responses in dB over frequency
        (cycles/sample), and the spectral density of the differenced series.
    """
    func = "arima_figure"
    steps = integer(func, "steps", steps, 1)
    fig = _figure(func, figsize=(10, 6.5), layout="constrained")
    grid = fig.add_gridspec(2, 2)
    series_ax = fig.add_subplot(grid[0, :])
    kernel_ax, response_ax = fig.add_subplot(grid[1, 0]), fig.add_subplot(grid[1, 1])
    x = result.x
    shown = min(len(x), 4 * steps)
    t = np.arange(len(x) - shown, len(x))
    series_ax.plot(t, x[-shown:], color=OKABE_ITO[7], lw=1, label="series")
    series_ax.plot(np.arange(len(x), len(x) + steps), result.forecast(steps),
                   color=OKABE_ITO[3], lw=1.6, label="forecast")
    p, d, q = result.order
    series_ax.set_title(f"ARIMA({p}, {d}, {q}) fit and forecast", fontsize=10)
    series_ax.set_xlabel("sample")
    series_ax.legend(fontsize=8)
    kernels_ = result.kernels()
    for offset, (colour, name) in zip((-0.2, 0.0, 0.2),
                                      zip(OKABE_ITO, ("difference", "ar", "ma"))):
        k = kernels_[name]
        lags = np.arange(len(k)) + offset
        kernel_ax.vlines(lags, 0, k, color=colour)
        kernel_ax.plot(lags, k, "o", color=colour, label=f"{name} kernel")
    kernel_ax.axhline(0, color="k", lw=0.6)
    kernel_ax.set_xticks(np.arange(max(len(kernels_[n]) for n in ("difference", "ar", "ma"))))
    kernel_ax.set_xlabel("lag (samples)")
    kernel_ax.set_ylabel("weight")
    kernel_ax.set_title("the model's convolution kernels", fontsize=10)
    kernel_ax.legend(fontsize=8)
    response = result.frequency_response()
    f = response["frequency"]
    with np.errstate(divide="ignore"):
        for colour, name in zip(OKABE_ITO, ("difference", "ar", "ma")):
            response_ax.plot(f, 20 * np.log10(np.abs(response[name])), color=colour,
                             label=f"|{name}| response")
        density = response["spectral_density"]
        response_ax.plot(f, 10 * np.log10(density / density.max()), color=OKABE_ITO[4],
                         ls="--", label="spectral density (rel. peak)")
    response_ax.set_ylim(-40, 20)
    response_ax.set_xlim(0, 0.5)
    response_ax.set_xlabel("frequency (cycles/sample)")
    response_ax.set_ylabel("dB")
    response_ax.set_title("frequency responses", fontsize=10)
    response_ax.legend(fontsize=8)
    return fig
