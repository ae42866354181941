"""Every data set the book uses, in one place, offline.

Synthetic 2-D sets (Part I) return ``X`` of shape ``(n, 2)`` and ``y`` of shape
``(n,)``, both ``float32``; ``y`` holds class indices 0, 1, ... (use
``y.long()`` for cross-entropy). They are seeded: the same arguments give the
same tensors on every machine.

Real data sets (Part II) come from packages installed by ``requirements.txt``;
nothing is downloaded at run time. Each loader's docstring gives the source,
the licence and the citation.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from sklearn import datasets as skdatasets
from sklearn.model_selection import train_test_split

from . import _validate

GATES = {
    "and": (0, 0, 0, 1),
    "or": (0, 1, 1, 1),
    "nand": (1, 1, 1, 0),
    "nor": (1, 0, 0, 0),
    "xor": (0, 1, 1, 0),
}


def _tensors(X: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32)


def logic_gate(name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Truth table of a two-input gate: ``X`` (4, 2) in {0, 1}, ``y`` (4,).

    ``name`` is one of ``and``, ``or``, ``nand``, ``nor``, ``xor``.
    """
    _validate.choice(name, "name", GATES)
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    return _tensors(X, np.array(GATES[name]))


def blobs(n: int = 100, margin: float = 0.3, seed: int = 0):
    """Two Gaussian clouds separated by the line ``x1 + x2 = 0`` with a gap.

    Points closer to the line than ``margin`` (Euclidean distance) are
    dropped, so the classes are linearly separable with margin >= ``margin``.
    Returns ``X`` (n, 2) and ``y`` (n,), with ``y = 1`` above the line.
    """
    n = _validate.positive_int(n, "n", minimum=2)
    margin = _validate.fraction(margin, "margin", low=0.0, high=1.0)
    rng = np.random.default_rng(seed)
    kept = []
    while sum(len(k) for k in kept) < n:
        labels = rng.integers(0, 2, size=n)
        centres = np.where(labels[:, None] == 1, 1.0, -1.0) * np.array([0.9, 0.9])
        points = centres + rng.normal(scale=0.6, size=(n, 2))
        distance = points.sum(axis=1) / math.sqrt(2)
        ok = (np.abs(distance) >= margin) & ((distance > 0) == (labels == 1))
        kept.append(np.column_stack([points[ok], labels[ok]]))
    table = np.concatenate(kept)[:n]
    return _tensors(table[:, :2], table[:, 2])


def xor(n: int = 200, noise: float = 0.15, seed: int = 0):
    """Noisy XOR: four clouds at the corners of the unit square.

    Returns ``X`` (n, 2) and ``y`` (n,), with ``y = x1 XOR x2`` of the corner.
    """
    n = _validate.positive_int(n, "n", minimum=4)
    noise = _validate.fraction(noise, "noise", high=1.0)
    rng = np.random.default_rng(seed)
    corners = rng.integers(0, 2, size=(n, 2))
    X = corners + rng.normal(scale=noise, size=(n, 2))
    return _tensors(X, corners[:, 0] ^ corners[:, 1])


def moons(n: int = 200, noise: float = 0.2, seed: int = 0):
    """Two interleaving half-circles (scikit-learn's ``make_moons``)."""
    n = _validate.positive_int(n, "n", minimum=2)
    noise = _validate.fraction(noise, "noise", high=1.0)
    return _tensors(*skdatasets.make_moons(n, noise=noise, random_state=seed))


def circles(n: int = 200, noise: float = 0.1, factor: float = 0.5, seed: int = 0):
    """A small circle inside a larger one (scikit-learn's ``make_circles``)."""
    n = _validate.positive_int(n, "n", minimum=2)
    noise = _validate.fraction(noise, "noise", high=1.0)
    factor = _validate.fraction(factor, "factor", low=0.01, high=0.99)
    return _tensors(
        *skdatasets.make_circles(n, noise=noise, factor=factor, random_state=seed)
    )


def spirals(n: int = 300, classes: int = 3, noise: float = 0.2, seed: int = 0):
    """``classes`` interleaved spiral arms with ``n // classes`` points each.

    Arm ``k`` follows angle ``t * 4 + 2*pi*k/classes`` at radius ``t`` for
    ``t`` in [0, 1], plus Gaussian noise on the angle.
    """
    n = _validate.positive_int(n, "n", minimum=2)
    classes = _validate.positive_int(classes, "classes", minimum=2)
    noise = _validate.fraction(noise, "noise", high=1.0)
    rng = np.random.default_rng(seed)
    per_class = n // classes
    t = np.tile(np.linspace(0.0, 1.0, per_class), classes)
    label = np.repeat(np.arange(classes), per_class)
    angle = 4.0 * t + 2 * math.pi * label / classes + rng.normal(scale=noise, size=t.size)
    X = np.column_stack([t * np.cos(angle), t * np.sin(angle)])
    return _tensors(X, label)


def split(X, y, *, val: float = 0.2, test: float = 0.2, seed: int = 0, stratify: bool = True):
    """Split into train, validation and test sets, stratified by ``y``.

    ``val`` and ``test`` are fractions of all rows. Returns
    ``X_train, y_train, X_val, y_val, X_test, y_test``.
    """
    X = _validate.tensor(X, "X")
    y = _validate.tensor(y, "y", ndim=1)
    _validate.same_length(X=X, y=y)
    val = _validate.fraction(val, "val", high=0.9)
    test = _validate.fraction(test, "test", high=0.9)
    if val + test >= 1:
        raise ValueError(f"val + test: expected less than 1, received {val + test}")
    index = np.arange(len(y))
    labels = y.numpy() if stratify else None
    rest, test_idx = train_test_split(index, test_size=test, random_state=seed, stratify=labels)
    rest_labels = labels[rest] if stratify else None
    train_idx, val_idx = train_test_split(
        rest, test_size=val / (1 - test), random_state=seed, stratify=rest_labels
    )
    parts = []
    for idx in (train_idx, val_idx, test_idx):
        idx = torch.as_tensor(np.sort(idx))
        parts += [X[idx], y[idx]]
    return tuple(parts)


# --- Real data sets (Part II). Add each loader above this line. ---
