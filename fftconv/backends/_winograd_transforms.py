"""Winograd minimal-filtering transforms ``F(m, r)``, derived from interpolation points.

``F(m, r)`` computes ``m`` outputs of the 1-D valid correlation of an
``α = m + r - 1`` sample input ``d`` with an ``r``-tap filter ``g``::

    y_i = Σ_u g_u · d_{i+u},   i < m        ⇔        y = Aᵀ [ (G g) ⊙ (Bᵀ d) ]

with ``α`` multiplications instead of ``m·r`` (Winograd 1980, *Arithmetic
Complexity of Computations*, shows ``α`` is the minimum). Construction
(Cook–Toom; Lavin & Gray 2016, *Fast Algorithms for Convolutional Neural
Networks*, section 4): pick ``α - 1`` distinct finite points ``a_k`` and the
point at infinity, and let ``E_k`` be the ``α × k`` evaluation matrix (row
``[1, a, …, a^{k-1}]`` for a finite point, ``[0, …, 0, 1]`` for ∞: the leading
coefficient). The linear convolution ``s = h * g`` of a length-``m`` and a
length-``r`` polynomial is ``s = E_α⁻¹ [(E_m h) ⊙ (E_r g)]`` (evaluate, multiply
pointwise, interpolate). Correlation is the transpose of convolution
(``⟨h * g, d⟩ = ⟨h, y⟩``), so by the transposition principle::

    Aᵀ = E_mᵀ,      G = E_r,      Bᵀ = E_α⁻ᵀ.

Each transformed position ``k`` may be rescaled (``G`` row ``k`` by ``1/f_k``,
``Bᵀ`` row ``k`` by ``f_k``) without changing the product; with ``f_k`` the
Lagrange denominator ``Π_{j≠k}|a_k − a_j|`` of a finite point, ``Bᵀ`` gets
small integer entries and ``G`` the fractions, the normalization Lavin & Gray
use. The points are theirs (and those of Lavin's ``wincnn`` tool):
``0, 1, −1, 2, −2, 1/2, −1/2, …`` then ∞; small points keep the powers in the
Vandermonde matrices, and so the float32 error, small, and the error still grows
quickly with ``α`` (Barabasz et al. 2020, *Error analysis and improving the
accuracy of Winograd convolution for deep neural networks*).

Matrices are built in exact rational arithmetic (:class:`fractions.Fraction`)
and converted to floats once; the 2-D algorithm ``F(m_h × m_w, r_h × r_w)``
nests the two 1-D ones (``Y = A_hᵀ [(G_h g G_wᵀ) ⊙ (B_hᵀ d B_w)] A_w``), so
rectangular kernels, ``r × 1`` and ``1 × r`` included, need nothing else.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np

__all__ = ["POINTS", "MAX_ALPHA", "points", "transform_matrices", "exact_transforms"]

#: Finite interpolation points in the order they are taken (Lavin & Gray 2016);
#: ``F(m, r)`` uses the first ``m + r - 2`` and the point at infinity.
POINTS = (Fraction(0), Fraction(1), Fraction(-1), Fraction(2), Fraction(-2),
          Fraction(1, 2), Fraction(-1, 2), Fraction(3), Fraction(-3),
          Fraction(1, 3), Fraction(-1, 3))

#: Largest tile ``α = m + r - 1`` the construction is offered for.
MAX_ALPHA = len(POINTS) + 1


def points(m: int, r: int) -> tuple:
    """The ``α - 1`` finite points of ``F(m, r)`` (the last point is ∞)."""
    alpha = m + r - 1
    if not 1 <= alpha <= MAX_ALPHA or m < 1 or r < 1:
        raise ValueError(f"F({m}, {r}): need m, r >= 1 and m + r - 1 <= {MAX_ALPHA}")
    return POINTS[:alpha - 1]


def _evaluation(pts: tuple, k: int) -> list:
    """``E_k``: ``α × k`` rows ``[a^0 … a^{k-1}]`` per finite point, then ``[0 … 0 1]`` (∞)."""
    rows = [[p ** j for j in range(k)] for p in pts]
    rows.append([Fraction(0)] * (k - 1) + [Fraction(1)])
    return rows


def _inverse(matrix: list) -> list:
    """Exact inverse by Gauss–Jordan elimination over the rationals."""
    n = len(matrix)
    aug = [list(row) + [Fraction(int(i == j)) for j in range(n)] for i, row in enumerate(matrix)]
    for col in range(n):
        pivot = next(i for i in range(col, n) if aug[i][col] != 0)
        aug[col], aug[pivot] = aug[pivot], aug[col]
        scale = aug[col][col]
        aug[col] = [v / scale for v in aug[col]]
        for i in range(n):
            if i != col and aug[i][col] != 0:
                factor = aug[i][col]
                aug[i] = [a - factor * b for a, b in zip(aug[i], aug[col])]
    return [row[n:] for row in aug]


@lru_cache(maxsize=None)
def exact_transforms(m: int, r: int) -> tuple:
    """``(Aᵀ, G, Bᵀ)`` of ``F(m, r)`` as tuples of rows of :class:`~fractions.Fraction`.

    Shapes ``(m, α)``, ``(α, r)``, ``(α, α)``; exactly
    ``Aᵀ[(G g) ⊙ (Bᵀ d)] = [Σ_u g_u d_{i+u}]_{i<m}`` for every ``g``, ``d``.

    Examples
    --------
    >>> at, g, bt = exact_transforms(2, 3)
    >>> [[int(v) for v in row] for row in bt]
    [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, -1, 0, 1]]
    >>> [[str(v) for v in row] for row in g]
    [['1', '0', '0'], ['1/2', '1/2', '1/2'], ['1/2', '-1/2', '1/2'], ['0', '0', '1']]
    """
    pts = points(m, r)
    alpha = m + r - 1
    e_alpha = _evaluation(pts, alpha)
    a = _evaluation(pts, m)                          # α × m;  Aᵀ = E_mᵀ
    g = _evaluation(pts, r)                          # α × r
    inv = _inverse(e_alpha)                          # E_α⁻¹, α × α;  Bᵀ = E_α⁻ᵀ
    bt = [[inv[j][k] for j in range(alpha)] for k in range(alpha)]
    for k, p in enumerate(pts):                      # Lagrange denominators into G
        f = Fraction(1)
        for q in pts:
            if q != p:
                f *= abs(p - q)
        bt[k] = [v * f for v in bt[k]]
        g[k] = [v / f for v in g[k]]
    at = [[a[k][i] for k in range(alpha)] for i in range(m)]
    return (tuple(map(tuple, at)), tuple(map(tuple, g)), tuple(map(tuple, bt)))


@lru_cache(maxsize=None)
def _float_transforms(m: int, r: int, dtype: str) -> tuple:
    out = []
    for matrix in exact_transforms(m, r):
        array = np.array([[float(v) for v in row] for row in matrix], dtype=dtype)
        array.flags.writeable = False
        out.append(array)
    return tuple(out)


def transform_matrices(m: int, r: int, dtype=np.float64) -> tuple:
    """``(Aᵀ, G, Bᵀ)`` of ``F(m, r)`` as read-only arrays of ``dtype``
    (:func:`exact_transforms` rounded once)."""
    return _float_transforms(m, r, np.dtype(dtype).name)
