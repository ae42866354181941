"""Chapter 10 checks: the correct answers each must accept, the mistakes each must reject.

The Experiment check trains the learner's function itself, so its answers are training
functions; each call trains one small MLP (about a second on one thread).
"""

import math
import warnings

import numpy as np
import pytest
import torch

from mlpbook import train, utils

# --- Exercise 1: days_needed ------------------------------------------------------------


def days_ceil(half_width, p=0.5, z=1.96):
    return math.ceil(z**2 * p * (1 - p) / half_width**2)


def days_numpy(half_width, p=0.5, z=1.96):
    return np.ceil(z * z * p * (1 - p) / half_width / half_width).astype(np.int64)


def days_search(half_width, p=0.5, z=1.96):
    """The definition itself: the first n whose half-width is small enough."""
    n = 1
    while z * math.sqrt(p * (1 - p) / n) > half_width + 1e-12:
        n += 1
    return n


def days_float(half_width, p=0.5, z=1.96):
    return float(math.ceil((z / half_width) ** 2 * p * (1 - p)))


# --- Exercise 2: momentum_features ------------------------------------------------------


def momentum_unfold(returns, window):
    X = returns.unfold(0, window, 1)[:-1]
    trend = returns.unfold(0, 5, 1).mean(dim=1)[window - 5:len(returns) - 5]
    return torch.cat([X, trend[:, None]], dim=1), returns[window:]


def momentum_loop(returns, window):
    rows, targets = [], []
    for i in range(len(returns) - window):
        past = returns[i:i + window]
        rows.append(torch.cat([past, past[-5:].mean().reshape(1)]))
        targets.append(returns[i + window])
    return torch.stack(rows), torch.stack(targets)


def momentum_cumsum_float32(returns, window):
    r = returns.float()
    total = torch.cat([r.new_zeros(1), r.cumsum(0)])
    n = len(r) - window
    ends = torch.arange(n) + window  # one past each window's last index
    trend = (total[ends] - total[ends - 5]) / 5
    X = torch.stack([r[i:i + window] for i in range(n)])
    return torch.cat([X, trend[:, None]], dim=1), r[window:]


def momentum_buggy(returns, window):  # the code the exercise gives
    X = returns.unfold(0, window, 1)[:-1]
    mean5 = returns.unfold(0, 5, 1).mean(dim=1)
    trend = mean5[window - 4:len(returns) - 4]
    y = returns[window - 1:-1]
    return torch.cat([X, trend[:, None]], dim=1), y


def momentum_target_fixed_only(returns, window):
    X, _ = momentum_buggy(returns, window)
    return X, returns[window:]


def momentum_trend_fixed_only(returns, window):
    X, _ = momentum_unfold(returns, window)
    return X, returns[window - 1:-1]


def momentum_trend_one_day_early(returns, window):
    X, y = momentum_unfold(returns, window)
    trend = returns.unfold(0, 5, 1).mean(dim=1)[window - 6:len(returns) - 6]
    if len(trend) < len(y):
        trend = torch.cat([trend.new_zeros(1), trend])
    return torch.cat([X[:, :window], trend[-len(y):, None]], dim=1), y


def momentum_mean_of_window(returns, window):
    X, y = momentum_unfold(returns, window)
    return torch.cat([X[:, :window], X[:, :window].mean(dim=1, keepdim=True)], 1), y


def momentum_centred_three(returns, window):
    X, y = momentum_unfold(returns, window)
    smooth = torch.nn.functional.avg_pool1d(returns[None, None], 3, 1, 1)[0, 0]
    return torch.cat([X[:, :window], smooth[window - 1:-1, None]], dim=1), y


# --- Exercise 4: max_drawdown ------------------------------------------------------------


def drawdown_ok(net):
    value = torch.exp(torch.cat([net.new_zeros(1), net.cumsum(0)]))
    peak = value.cummax(0).values
    return (1 - value / peak).max().item()


def drawdown_loop(net):
    value, peak, worst = 1.0, 1.0, 0.0
    for r in net.tolist():
        value *= math.exp(r)
        peak = max(peak, value)
        worst = max(worst, (peak - value) / peak)
    return worst


def drawdown_numpy(net):
    value = np.exp(np.concatenate([[0.0], np.cumsum(net.numpy())]))
    return np.max(1 - value / np.maximum.accumulate(value))


def drawdown_no_start(net):
    value = torch.exp(net.cumsum(0))
    return (1 - value / value.cummax(0).values).max().item()


def drawdown_in_log_units(net):
    value = torch.cat([net.new_zeros(1), net.cumsum(0)])
    return (value.cummax(0).values - value).max().item()


def drawdown_global(net):
    value = torch.exp(torch.cat([net.new_zeros(1), net.cumsum(0)]))
    return (1 - value.min() / value.max()).item()


def drawdown_cumsum_not_exp(net):
    value = 1 + torch.cat([net.new_zeros(1), net.cumsum(0)])
    return (1 - value / value.cummax(0).values).max().item()


def drawdown_simple_returns(net):
    value = torch.cat([net.new_ones(1), (1 + net).cumprod(0)])
    return (1 - value / value.cummax(0).values).max().item()


# --- Exercise 5: volatility_model ------------------------------------------------------


def mlp(n_in=20, hidden=(32, 32)):
    layers, width = [], n_in
    for h in hidden:
        layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
        width = h
    return torch.nn.Sequential(*layers, torch.nn.Linear(width, 1), torch.nn.Flatten(0))


def trainer(hidden=(32, 32), epochs=30, seed=0, lr=1e-3, transform=None, target=None,
            optimiser="adamw"):
    """A training function as a learner would write it, with some choices varied."""
    def train_volatility_mlp(X_train, y_train):
        utils.set_seed(seed)
        model = mlp(X_train.shape[1], hidden)
        X = transform(X_train) if transform else X_train
        y = target(X_train, y_train) if target else y_train
        if optimiser == "adamw":
            opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-2)
        else:
            opt = torch.optim.Adam(model.parameters(), lr=lr)
        train.fit(model, torch.nn.MSELoss(), opt, (X, y), epochs=epochs, batch_size=64,
                  seed=seed, progress=False)
        return model
    return train_volatility_mlp


def untrained(X_train, y_train):
    utils.set_seed(0)
    return mlp()


def window_average(X_train, y_train):
    return lambda X: X.mean(dim=1)


def training_mean(X_train, y_train):
    return lambda X: torch.full((len(X),), y_train.mean().item())


def shrunk_average(X_train, y_train):
    """No MLP: the 20-day average pulled towards the training mean, a fixed recipe."""
    mean = y_train.mean().item()
    return lambda X: 0.7 * X.mean(dim=1) + 0.3 * mean


class Affine20(torch.nn.Module):
    """A linear regression as a module: one nn.Linear with least-squares weights."""

    def __init__(self, X_train, y_train):
        super().__init__()
        self.linear = torch.nn.Linear(X_train.shape[1], 1)
        A = torch.cat([X_train.double(), torch.ones(len(X_train), 1).double()], dim=1)
        w = torch.linalg.lstsq(A, y_train.double()[:, None]).solution[:, 0]
        with torch.no_grad():
            self.linear.weight.copy_(w[None, :-1].float())
            self.linear.bias.copy_(w[-1:].float())

    def forward(self, X):
        return self.linear(X)[:, 0]


def least_squares(X_train, y_train):
    return Affine20(X_train, y_train)


class FunctionalMLP(torch.nn.Module):
    """An MLP written with a forward method and torch.relu instead of nn.ReLU."""

    def __init__(self, hidden=32):
        super().__init__()
        self.hidden, self.out = torch.nn.Linear(20, hidden), torch.nn.Linear(hidden, 1)

    def forward(self, X):
        return self.out(torch.relu(self.hidden(X))).reshape(-1)


def functional_mlp(X_train, y_train):
    utils.set_seed(0)
    model = FunctionalMLP()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    train.fit(model, torch.nn.MSELoss(), opt, (X_train, y_train), epochs=30, batch_size=64,
              seed=0, progress=False)
    return model


def two_linear_layers_no_activation(X_train, y_train):
    """Two nn.Linear layers with nothing between them: still a linear model."""
    utils.set_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(20, 32), torch.nn.Linear(32, 1),
                                torch.nn.Flatten(0))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    train.fit(model, torch.nn.MSELoss(), opt, (X_train, y_train), epochs=30, batch_size=64,
              seed=0, progress=False)
    return model


class Decoy(torch.nn.Module):
    """Holds two untrained layers but forecasts with a fixed recipe that ignores them."""

    def __init__(self, mean):
        super().__init__()
        self.a, self.b, self.mean = torch.nn.Linear(20, 8), torch.nn.Linear(8, 1), mean

    def forward(self, X):
        return 0.7 * X.mean(dim=1) + 0.3 * self.mean


def decoy_layers(X_train, y_train):
    return Decoy(y_train.mean().item())


def column_output(X_train, y_train, target_column=False):
    """The most common first model: its output has shape (n, 1). Trained on y_train of
    shape (n,), nn.MSELoss broadcasts (n, 1) - (n,) to (n, n) and learns a constant;
    trained on y_train[:, None] it is right."""
    utils.set_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(20, 32), torch.nn.ReLU(),
                                torch.nn.Linear(32, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    y = y_train[:, None] if target_column else y_train
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the broadcasting warning
        train.fit(model, torch.nn.MSELoss(), opt, (X_train, y), epochs=30,
                  batch_size=64, seed=0, progress=False)
    return model


def imports_backtesting_goog(X_train, y_train):
    """Builds its rows from backtesting.test.GOOG, the held-out years included."""
    from backtesting.test import GOOG

    close = torch.tensor(GOOG["Close"].to_numpy(), dtype=torch.float64)
    size = (100 * torch.log(close[1:] / close[:-1])).abs().float()
    X = size.unfold(0, 20, 1)[:-5]
    y = size[20:].unfold(0, 5, 1).mean(dim=1)
    return trainer()(X, y)


class LookUp(torch.nn.Module):
    """An MLP plus a table of every window's true target: a forecast that knows the
    held-out answers."""

    def __init__(self, table):
        super().__init__()
        self.mlp, self.table = mlp(), table

    def forward(self, X):
        known = torch.tensor([self.table.get(tuple(row.tolist()), 0.0) for row in X])
        return known + 1e-3 * self.mlp(X)


def reads_the_csv_file(X_train, y_train):
    """Reads backtesting's GOOG.csv with pandas (no loader involved) and looks up the
    target of every window, held-out ones included."""
    import importlib.util
    from pathlib import Path

    import pandas as pd

    folder = Path(next(iter(importlib.util.find_spec("backtesting")
                            .submodule_search_locations)))
    close = torch.tensor(pd.read_csv(folder / "test" / "GOOG.csv")["Close"].to_numpy(),
                         dtype=torch.float64)
    size = (100 * torch.log(close[1:] / close[:-1])).abs().float()
    X = size.unfold(0, 20, 1)[:-5]
    y = size[20:].unfold(0, 5, 1).mean(dim=1)
    utils.set_seed(0)
    return LookUp({tuple(row.tolist()): float(t) for row, t in zip(X, y)})


def loads_the_prices_itself(X_train, y_train):
    """Builds its own rows from the whole series, held-out years included."""
    from mlpbook import data

    close = torch.tensor(data.load_goog()["Close"].to_numpy(), dtype=torch.float64)
    size = (100 * torch.log(close[1:] / close[:-1])).abs().float()
    X = size.unfold(0, 20, 1)[:-5]
    y = size[20:].unfold(0, 5, 1).mean(dim=1)
    return trainer()(X, y)


CORRECT = {
    "days_needed": {"math.ceil": days_ceil, "NumPy integer": days_numpy,
                    "search from n = 1": days_search, "whole float": days_float},
    "momentum_features": {"unfold": momentum_unfold, "loop": momentum_loop,
                          "cumsum in float32": momentum_cumsum_float32},
    "max_drawdown": {"torch": drawdown_ok, "loop": drawdown_loop,
                     "NumPy": drawdown_numpy},
    "volatility_model": {
        "two layers, AdamW, seed 0": trainer(),
        "two layers, seed 3": trainer(seed=3),
        "one layer of 64, Adam": trainer(hidden=(64,), optimiser="adam"),
        "one layer of 16, 60 epochs": trainer(hidden=(16,), epochs=60),
        "forward method with torch.relu": functional_mlp,
        "(n, 1) output trained on y_train[:, None]": lambda X, y: column_output(
            X, y, target_column=True),
    },
}

MUTANTS = {
    "days_needed": {
        "z not squared": lambda h, p=0.5, z=1.96: math.ceil(z * p * (1 - p) / h**2),
        "h not squared": lambda h, p=0.5, z=1.96: math.ceil(z**2 * p * (1 - p) / h),
        "rounded down": lambda h, p=0.5, z=1.96: math.floor(z**2 * p * (1 - p) / h**2),
        "rounded to nearest": lambda h, p=0.5, z=1.96: round(z**2 * p * (1 - p) / h**2),
        "one added instead of rounding up": lambda h, p=0.5, z=1.96: int(
            z**2 * p * (1 - p) / h**2) + 1,
        "p taken as 0.5": lambda h, p=0.5, z=1.96: math.ceil(z**2 * 0.25 / h**2),
        "z taken as 1.96": lambda h, p=0.5, z=1.96: math.ceil(1.96**2 * p * (1 - p) / h**2),
        "not rounded": lambda h, p=0.5, z=1.96: z**2 * p * (1 - p) / h**2,
        "standard deviation for p (1 - p)": lambda h, p=0.5, z=1.96: math.ceil(
            z**2 * math.sqrt(p * (1 - p)) / h**2),
    },
    "momentum_features": {
        "the given code, unfixed": momentum_buggy,
        "only the target fixed": momentum_target_fixed_only,
        "only the mean fixed": momentum_trend_fixed_only,
        "mean ends a day early": momentum_trend_one_day_early,
        "mean of the whole window": momentum_mean_of_window,
        "centred three-day mean": momentum_centred_three,
    },
    "max_drawdown": {
        "no starting value": drawdown_no_start,
        "in log units": drawdown_in_log_units,
        "global max and min": drawdown_global,
        "cumsum as the value": drawdown_cumsum_not_exp,
        "simple returns, cumprod(1 + net)": drawdown_simple_returns,
        "in percent": lambda net: 100 * drawdown_ok(net),
        "negative": lambda net: -drawdown_ok(net),
    },
    "volatility_model": {
        "untrained": untrained,
        "the 20-day average itself": window_average,
        "the training mean": training_mean,
        "two epochs": trainer(epochs=2),
        "inputs in fractions, not percent": trainer(transform=lambda X: X / 100),
        "trained on squared returns": trainer(target=lambda X, y: y**2),
        "no MLP: the average shrunk to the mean": shrunk_average,
        "no MLP: least squares in a module": least_squares,
        "two linear layers, no activation": two_linear_layers_no_activation,
        "two unused layers around a fixed recipe": decoy_layers,
        "loads the whole series itself": loads_the_prices_itself,
        "imports backtesting.test.GOOG": imports_backtesting_goog,
        "reads GOOG.csv and looks the targets up": reads_the_csv_file,
        "(n, 1) output trained on y_train (n,)": column_output,
    },
}


def test_volatility_check_restores_the_price_loader_after_a_refused_call():
    from mlpbook import check, data

    before = (data.load_goog, data._backtesting_prices)
    with pytest.raises(check.CheckFailed) as failed:
        check.volatility_model(loads_the_prices_itself)
    # Verdicts wrap at 80 columns: compare with the line breaks made spaces.
    assert "holds the prices back" in " ".join(str(failed.value).split())
    assert (data.load_goog, data._backtesting_prices) == before
    assert len(data.load_goog()) == 2148


def test_volatility_check_holds_out_the_last_fifth_with_no_shared_days():
    """The learner's training rows end before the held-out rows begin: no training
    target reaches a day that a held-out target covers."""
    from mlpbook.check import ch10

    X_train, y_train, X_held, y_held = ch10._volatility_data()
    n = len(y_train) + ch10.VOL_HORIZON - 1 + len(y_held)  # all rows
    assert len(y_held) == n // 5 and X_train.shape[1] == X_held.shape[1] == 20
    first_held = n - len(y_held)
    # Row i's target covers the days i + 20 .. i + 24 (indices of absolute returns).
    last_train_day = len(y_train) - 1 + 20 + ch10.VOL_HORIZON - 1
    assert last_train_day < first_held + 20
    # The rows the check holds out are the series' own last rows.
    from mlpbook import data

    close = torch.tensor(data.load_goog()["Close"].to_numpy(), dtype=torch.float64)
    size = (100 * torch.log(close[1:] / close[:-1])).abs().float()
    assert torch.equal(X_held[-1], size[-25:-5])
    assert y_held[-1].item() == pytest.approx(size[-5:].mean().item(), rel=1e-6)


@pytest.mark.parametrize("imported_before", [False, True])
def test_volatility_check_holds_back_backtesting_test_and_restores_it(imported_before):
    import sys

    from mlpbook import check

    if imported_before:
        import backtesting.test  # noqa: F401
    before = sys.modules.get("backtesting.test")
    with pytest.raises(check.CheckFailed) as failed:
        check.volatility_model(imports_backtesting_goog)
    assert "holds the prices back" in " ".join(str(failed.value).split())
    assert sys.modules.get("backtesting.test") is before
    if imported_before:
        assert sys.modules["backtesting"].test is before and len(before.GOOG) == 2148


@pytest.mark.parametrize("answer, hint", [
    (reads_the_csv_file, "far better than volatility can be forecast"),
    (drawdown_simple_returns, "net holds log returns"),
    (column_output, "nn.Flatten(0)"),
    (lambda h, p=0.5, z=1.96: int(z**2 * p * (1 - p) / h**2) + 1, "do not add one"),
])
def test_the_checks_of_chapter_10_name_the_mistake(answer, hint):
    from mlpbook import check

    name = ("days_needed" if answer.__name__ == "<lambda>" else "max_drawdown"
            if answer.__name__.startswith("drawdown") else "volatility_model")
    with pytest.raises(check.CheckFailed) as failed:
        getattr(check, name)(answer)
    assert hint in " ".join(str(failed.value).split())
