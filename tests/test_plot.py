import matplotlib.pyplot as plt
import pytest
import torch
from matplotlib.colors import to_rgb

from mlpbook import data, plot


def test_palette_is_okabe_ito_and_distinct():
    assert len(set(plot.PALETTE)) == len(plot.PALETTE)
    assert to_rgb(plot.PALETTE[0]) == pytest.approx((0, 114 / 255, 178 / 255))


def test_scatter_uses_a_different_marker_per_class():
    X, y = data.spirals(90, classes=3)
    ax = plot.scatter(X, y)
    markers = {tuple(c.get_paths()[0].vertices.round(3).ravel()) for c in ax.collections}
    assert len(ax.collections) == 3 and len(markers) == 3
    assert ax.get_xlabel() and ax.get_ylabel()


def test_decision_boundary_shades_the_predicted_regions():
    X, y = data.blobs(50)
    ax = plot.decision_boundary(lambda G: (G.sum(1) > 0).long(), X, y)
    assert ax.collections and ax.get_xlabel() == "$x_1$"


def test_history_draws_one_styled_line_per_key_with_axis_labels():
    ax = plot.history({"train_loss": [3, 2, 1], "val_loss": [3, 2.5, 2]}, ylabel="loss")
    lines = ax.get_lines()
    assert len(lines) == 2 and lines[0].get_linestyle() != lines[1].get_linestyle()
    assert ax.get_ylabel() == "loss" and ax.get_xlabel() == "epoch"


def test_explorer_draws_the_default_figure_when_static(monkeypatch):
    monkeypatch.setenv("MLPBOOK_STATIC", "1")
    seen = {}
    plot.explorer(lambda a, b: seen.update(a=a, b=b), a=(0.0, 1.0, 0.1, 0.3), b=(0, 2, 1, 2))
    assert seen == {"a": 0.3, "b": 2}


@pytest.mark.parametrize("call, error, message", [
    (lambda: plot.scatter(torch.zeros(5, 3), torch.zeros(5)), ValueError, "2 columns"),
    (lambda: plot.scatter(torch.zeros(5, 2), torch.zeros(4)), ValueError, "same number"),
    (lambda: plot.line(torch.zeros(3), 0.0), ValueError, r"shape \(2,\)"),
    (lambda: plot.history([1, 2, 3]), TypeError, "mapping"),
    (lambda: plot.history({"loss": [1]}, ["acc"]), ValueError, "expected one of"),
    (lambda: plot.explorer(lambda a: None, a=(0, 1)), ValueError, "low, high, step, default"),
    (lambda: plot.function(torch.relu, torch.zeros(3, 3)), ValueError, "1-D"),
])
def test_plot_functions_reject_bad_input_clearly(call, error, message):
    with pytest.raises(error, match=message):
        call()
    plt.close("all")


def test_explorer_returns_nothing_when_interactive(monkeypatch):
    """A cell that ends with the explorer must not print ``Out[...]: <function redraw>``."""
    monkeypatch.delenv("MLPBOOK_STATIC", raising=False)
    monkeypatch.delenv("CI", raising=False)
    import ipywidgets

    calls = []
    monkeypatch.setattr(ipywidgets, "interact", lambda fn, **controls: calls.append(controls) or fn)
    assert plot.explorer(lambda a: None, a=(0.0, 1.0, 0.1, 0.5)) is None
    assert list(calls[0]) == ["a"] and calls[0]["a"].value == 0.5


def test_line_takes_parameters_that_record_gradients_without_a_warning():
    import warnings

    w = torch.tensor([1.0, -2.0], requires_grad=True)
    b = torch.tensor(0.5, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = plot.line(w, b)
    assert len(ax.get_lines()) == 1
