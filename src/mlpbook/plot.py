"""Figures in one consistent, colour-blind-safe style.

Colours are the Okabe-Ito palette; classes and lines also differ by marker
and line style, so no figure relies on colour alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import ListedColormap

from . import _validate, utils

# Okabe & Ito (2008), "Color Universal Design".
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES = ("-", "--", ":", "-.", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)))


# One inch of figure is 96 CSS pixels, so a font of N points shows N points tall in
# the book when the figure is shown at its own width; keep figures at most
# MAX_WIDTH_INCHES wide (the text column is 753 px) so that they are not shrunk.
DPI = 96
MAX_WIDTH_INCHES = 7.8


def use_style() -> None:
    """Apply the book's matplotlib style (palette, sizes, grid) and sharp figures.

    In Jupyter, figures are drawn at twice their displayed size ("retina" PNGs, whose
    metadata gives the displayed size), so they stay sharp on high-density screens and
    when a reader zooms in.
    """
    _retina()
    plt.rcParams.update({
        "figure.figsize": (5.0, 3.6),
        "figure.dpi": DPI,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.prop_cycle": plt.cycler(color=PALETTE[:6], linestyle=LINESTYLES),
        "legend.frameon": False,
        "font.size": 10,
        "legend.fontsize": 9,
        "xtick.labelsize": 9,
        "ytick.labelsize": 9,
    })


def _retina() -> None:
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # plain Python: nothing is displayed inline
        return
    if get_ipython() is not None:
        set_matplotlib_formats("retina")


def scatter(X, y, ax=None, *, labels: Sequence[str] | None = None):
    """Scatter 2-D points ``X`` (n, 2) coloured and marked by class ``y`` (n,)."""
    X = _validate.floating(X, "X", ndim=2)
    y = _validate.tensor(y, "y", ndim=1)
    _validate.same_length(X=X, y=y)
    if X.shape[1] != 2:
        raise ValueError(f"X: expected 2 columns, received shape {tuple(X.shape)}")
    ax = ax or plt.gca()
    size = 60 if len(X) <= 20 else 18  # a truth table's four points stay visible
    for k, cls in enumerate(torch.unique(y).tolist()):
        mask = y == cls
        name = labels[k] if labels else f"class {int(cls)}"
        ax.scatter(X[mask, 0], X[mask, 1], s=size, color=PALETTE[k % 8],
                   marker=MARKERS[k % 8], edgecolor="white", linewidth=0.4, label=name)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return ax


def decision_boundary(predict: Callable[[torch.Tensor], torch.Tensor], X, y, ax=None, *,
                      resolution: int = 200, padding: float = 0.5):
    """Shade the regions where ``predict`` assigns each class, then scatter the data.

    ``predict`` maps a float32 tensor (m, 2) to class indices (m,).
    """
    X = _validate.floating(X, "X", ndim=2)
    ax = ax or plt.gca()
    lo, hi = X.min(0).values - padding, X.max(0).values + padding
    g1, g2 = torch.meshgrid(torch.linspace(lo[0], hi[0], resolution),
                            torch.linspace(lo[1], hi[1], resolution), indexing="xy")
    grid = torch.stack([g1.ravel(), g2.ravel()], dim=1)  # (resolution**2, 2)
    with torch.no_grad():
        classes = torch.as_tensor(predict(grid)).reshape(g1.shape).float()
    n_classes = int(max(classes.max().item(), y.max().item())) + 1
    ax.contourf(g1, g2, classes, levels=np.arange(n_classes + 1) - 0.5,
                cmap=ListedColormap(PALETTE[:n_classes]), alpha=0.18)
    scatter(X, y, ax)
    return ax


def line(w, b, ax=None, *, xlim=(-3.0, 3.0), **kwargs):
    """Draw the line ``w[0] * x1 + w[1] * x2 + b = 0`` for a weight vector ``w`` (2,).

    ``w`` and ``b`` may be parameters that record gradients: only their values are used.
    """
    w = _validate.floating(w, "w", ndim=1).detach()
    if w.shape[0] != 2:
        raise ValueError(f"w: expected shape (2,), received {tuple(w.shape)}")
    ax = ax or plt.gca()
    b = b.detach() if isinstance(b, torch.Tensor) else b
    w1, w2, b = float(w[0]), float(w[1]), float(b)
    if abs(w2) > 1e-12:
        xs = np.linspace(*xlim, 2)
        ax.plot(xs, -(w1 * xs + b) / w2, **kwargs)
    else:
        ax.axvline(-b / w1 if w1 else 0.0, **kwargs)
    return ax


def history(history: Mapping[str, Sequence[float]], keys: Sequence[str] | None = None,
            ax=None, *, xlabel: str = "epoch", ylabel: str = "value"):
    """Plot curves from a history mapping, e.g. ``{"train_loss": [...], "val_loss": [...]}``."""
    if not isinstance(history, Mapping):
        raise TypeError(f"history: expected a mapping, received {type(history).__name__}")
    keys = list(keys) if keys is not None else list(history)
    for key in keys:
        _validate.choice(key, "keys", history)
    ax = ax or plt.gca()
    for k, key in enumerate(keys):
        values = list(history[key])
        ax.plot(range(1, len(values) + 1), values, label=key, color=PALETTE[k % 8],
                linestyle=LINESTYLES[k % len(LINESTYLES)], marker=MARKERS[k % 8],
                markevery=max(1, len(values) // 10), markersize=4)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    return ax


def function(fn: Callable[[torch.Tensor], torch.Tensor], x=None, ax=None, *, label=None,
             k: int = 0):
    """Plot ``fn`` on the grid ``x`` (1-D tensor, default -4..4), with style number ``k``."""
    x = torch.linspace(-4, 4, 401) if x is None else _validate.floating(x, "x", ndim=1)
    ax = ax or plt.gca()
    with torch.no_grad():
        ax.plot(x, fn(x), label=label, color=PALETTE[k % 8],
                linestyle=LINESTYLES[k % len(LINESTYLES)])
    ax.set_xlabel("$z$")
    return ax


def explorer(draw: Callable[..., None], **sliders: tuple[float, float, float, float]) -> None:
    """An interactive figure: ``draw(**values)`` redraws it whenever a slider moves.

    Each slider is ``name=(low, high, step, default)``. When notebooks run
    unattended (``utils.is_static()``), the figure is drawn once at the
    defaults, so the static book shows it and no empty widget area remains.
    Returns nothing, so that a notebook cell ending with it prints no ``Out[...]``.
    """
    for name, spec in sliders.items():
        if not (isinstance(spec, tuple) and len(spec) == 4):
            raise ValueError(f"{name}: expected (low, high, step, default), received {spec!r}")
    defaults = {name: spec[3] for name, spec in sliders.items()}
    if utils.is_static():
        draw(**defaults)
        plt.show()
        return None
    import ipywidgets as widgets

    controls = {name: widgets.FloatSlider(min=lo, max=hi, step=step, value=value,
                                          description=name, continuous_update=False)
                for name, (lo, hi, step, value) in sliders.items()}

    def redraw(**values):
        draw(**values)
        plt.show()

    widgets.interact(redraw, **controls)
