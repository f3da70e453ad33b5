"""Weight initialisation and seeding shared by the layers."""

from __future__ import annotations

import numbers

import numpy as np

from ..errors import bad_type, bad_value

__all__ = ["as_generator", "uniform_init", "INITS"]

#: ``name -> gain²`` of the uniform initialisations: weights are drawn from
#: ``U(-b, b)`` with ``b = sqrt(3 · gain² / fan_in)``, i.e. variance ``gain² / fan_in``.
#: ``'lecun'`` (variance ``1/fan_in``) suits tanh and sigmoid (LeCun et al. 1998,
#: "Efficient BackProp"); ``'he'`` (variance ``2/fan_in``) suits ReLU (He et al. 2015).
INITS = {"lecun": 1.0, "he": 2.0}


def as_generator(func: str, seed) -> np.random.Generator:
    """``seed`` (None, an int or a ``Generator``) as a ``numpy.random.Generator``.

    A ``Generator`` is returned as is, so a model can pass one generator through
    all its layers and stay reproducible from one seed.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool)
                        and seed >= 0):
        return np.random.default_rng(seed)
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        raise bad_value(func, "seed", seed, "None, a non-negative int or a numpy Generator")
    raise bad_type(func, "seed", seed, "None, a non-negative int or a numpy Generator")


def check_init(func: str, init) -> str:
    if not isinstance(init, str) or init not in INITS:
        raise bad_value(func, "init", init, f"one of {', '.join(map(repr, INITS))}")
    return init


def uniform_init(rng: np.random.Generator, shape: tuple, fan_in: int, init: str,
                 dtype) -> np.ndarray:
    """Draw ``U(-b, b)``, ``b = sqrt(3·gain²/fan_in)``, in float64 then cast to ``dtype``.

    Drawing in float64 first makes float32 and float64 models built from the same
    seed equal up to rounding.
    """
    bound = np.sqrt(3.0 * INITS[init] / max(fan_in, 1))
    return rng.uniform(-bound, bound, size=shape).astype(dtype)
