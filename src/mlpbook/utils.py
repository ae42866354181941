"""Seeds, devices and the execution context."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from . import _validate

DEVICES = ("cuda", "mps", "cpu")


def set_seed(seed: int) -> torch.Generator:
    """Seed Python, NumPy and PyTorch; return a ``torch.Generator`` seeded alike.

    Use the returned generator wherever randomness should not depend on what
    ran before (data shuffling, sampling).
    """
    seed = _validate.positive_int(seed, "seed", minimum=0)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def get_device(prefer: str | None = None) -> torch.device:
    """Return the best available device: cuda, then mps, then cpu.

    ``prefer`` names a device to use instead; it must be available.
    """
    if prefer is not None:
        _validate.choice(prefer, "prefer", DEVICES)
        if not _available(prefer):
            raise ValueError(f"prefer: device {prefer!r} is not available on this machine")
        return torch.device(prefer)
    return torch.device(next(d for d in DEVICES if _available(d)))


def _available(name: str) -> bool:
    if name == "cuda":
        return torch.cuda.is_available()
    if name == "mps":
        return hasattr(torch.backends, "mps") and torch.backends.mps.is_available()
    return True


def is_static() -> bool:
    """True when a notebook runs unattended (tests, ``make execute``, CI).

    Then widgets and progress bars give way to plain, reproducible output.
    The Makefile sets ``MLPBOOK_STATIC=1``; CI services set ``CI``. An explicit
    ``MLPBOOK_STATIC=0`` asks for live widgets even under ``CI`` (the JupyterLab test,
    ``make lab``).
    """
    setting = os.environ.get("MLPBOOK_STATIC", "")
    if setting:
        return setting != "0"
    return bool(os.environ.get("CI"))
