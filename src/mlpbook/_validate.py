"""Input checks shared by the public functions.

Every check raises ``TypeError`` or ``ValueError`` with a message that names
the argument, what was expected and what was received.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch


def tensor(
    x, name: str, *, ndim: int | None = None, dtype: torch.dtype | None = None,
    finite: bool = True,
) -> torch.Tensor:
    """Return ``x`` as a tensor after checking its type, rank, dtype and values.

    NumPy arrays are converted; anything else that is not a tensor is refused.
    """
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, received {type(x).__name__}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(
            f"{name}: expected a {ndim}-D tensor, received shape {tuple(x.shape)}"
        )
    if dtype is not None and x.dtype != dtype:
        raise TypeError(f"{name}: expected dtype {dtype}, received {x.dtype}")
    if finite and x.is_floating_point() and not torch.isfinite(x).all():
        raise ValueError(f"{name}: expected finite values, received NaN or infinity")
    return x


def floating(x, name: str, *, ndim: int | None = None) -> torch.Tensor:
    """Like :func:`tensor`, but the dtype must be a floating-point one."""
    x = tensor(x, name, ndim=ndim)
    if not x.is_floating_point():
        raise TypeError(f"{name}: expected a floating-point tensor, received {x.dtype}")
    return x


def same_length(**arrays) -> int:
    """Check that all arrays share their first dimension; return it."""
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"expected the same number of rows, received {lengths}")
    return next(iter(lengths.values()))


def choice(value, name: str, allowed: Iterable[str]) -> str:
    """Check that ``value`` is one of ``allowed``."""
    allowed = list(allowed)
    if value not in allowed:
        raise ValueError(f"{name}: expected one of {allowed}, received {value!r}")
    return value


def positive_int(value, name: str, *, minimum: int = 1) -> int:
    """Check that ``value`` is an int (not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: expected an int, received {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name}: expected an int >= {minimum}, received {value}")
    return int(value)


def fraction(value, name: str, *, low: float = 0.0, high: float = 1.0) -> float:
    """Check that ``value`` is a real number in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        raise TypeError(f"{name}: expected a number, received {type(value).__name__}")
    if not (low <= value <= high) or value != value:
        raise ValueError(f"{name}: expected a number in [{low}, {high}], received {value}")
    return float(value)
