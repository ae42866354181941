"""Checks for Chapter 10, "Financial forecasting".

Conventions of the chapter: prices and returns are 1-D tensors in time order, oldest
first; ``returns[t]`` is the log return from day ``t`` to day ``t + 1``. A window row
``i`` holds ``returns[i : i + window]`` and is known once its last return is; its target
lies strictly after it.

The Experiment check (``volatility_model``) builds its data from ``data.load_goog()``
itself: absolute daily log returns in percent, windows of ``VOL_WINDOW`` days, targets
the mean absolute return of the next ``VOL_HORIZON`` days. It trains the learner's
function on the first four fifths and scores the model on the last fifth, which the
learner never receives; ``data.load_goog`` and ``backtesting.test`` (GOOG, EURUSD, ...)
refuse to run while the learner's code runs, and a held-out MSE below half the 20-day
average's is refused as too good to be honest (a model that saw the held-out days).
The model must be an MLP (an ``nn.Module`` whose output depends on at least two
``nn.Linear`` layers and is not an affine function of its input), and the check reports
a linear regression fitted on the same rows beside it.
"""

from __future__ import annotations

import contextlib
import math
from fractions import Fraction

import torch

from ._common import callable_, fail, number, ok, require, run

__all__ = ["days_needed", "momentum_features", "max_drawdown", "volatility_model"]

F64 = torch.float64
VOL_WINDOW = 20  # past days of absolute returns in each input row
VOL_HORIZON = 5  # days averaged in each target


# --- Exercise 1 -----------------------------------------------------------------------

def _days_exact(half_width, p, z) -> Fraction:
    """z^2 p (1 - p) / h^2 with the decimal inputs taken exactly."""
    h, p, z = (Fraction(str(v)) for v in (half_width, p, z))
    return z * z * p * (1 - p) / (h * h)


def days_needed(fn) -> None:
    """Check ``days_needed(half_width, p, z)``: the smallest n whose Wald half-width
    ``z * sqrt(p (1 - p) / n)`` is at most ``half_width``."""
    callable_(fn)
    cases = [(0.03, 0.5, 1.96), (0.02, 0.55, 1.96), (0.05, 0.6, 2.576),
             (0.004, 0.5, 1.645), (0.1, 0.3, 1.0), (0.01, 0.5, 1.96),
             (0.02, 0.5, 2.0)]
    # The last case is exactly 2500 in float32 and float64 alike (z / h = 100): no
    # rounding error can push it up, so 2501 there is adding one, not rounding up.
    exact_in_floats = {(0.02, 0.5, 2.0)}
    for half_width, p, z in cases:
        case = f"half_width = {half_width}, p = {p}, z = {z}"
        out = run(fn, half_width, p, z, what=case,
                  hint="half_width, p and z are floats; return a whole number.")
        value = number(out, "the number of days")
        require(value == int(value), "return a whole number of days: the smallest n "
                "that is large enough, rounded up.", case)
        exact = _days_exact(half_width, p, z)
        allowed = {math.ceil(exact)}
        if exact.denominator == 1:  # exactly on a whole number: rounding may add one
            if (half_width, p, z) in exact_in_floats:
                require(int(value) != int(exact) + 1, "when z^2 p (1 - p) / h^2 is "
                        "already a whole number, that many days are enough: round up, "
                        "do not add one.", case)
            else:
                allowed.add(int(exact) + 1)
        if int(value) in allowed:
            continue
        if abs(int(value) - float(exact)) < 1.5:
            fail("round up: the smallest whole n for which the half-width is at most "
                 "half_width; rounding down or to the nearest leaves it too wide.", case)
        fail("solve h = z sqrt(p (1 - p) / n) for n: z and h both appear squared, "
             "and p enters through p (1 - p).", case)
    ok("days_needed: right for 6 widths, p and z values, rounding included.")


# --- Exercise 2 -----------------------------------------------------------------------

def _momentum(returns: torch.Tensor, window: int):
    X = returns.unfold(0, window, 1)[:-1]  # (n, window)
    trend = X[:, -5:].mean(dim=1, keepdim=True)  # (n, 1)
    return torch.cat([X, trend], dim=1), returns[window:]


def _as_pair(out, n: int, window: int):
    require(isinstance(out, (tuple, list)) and len(out) == 2, "return a pair (X, y).")
    X, y = out
    require(isinstance(X, torch.Tensor) and isinstance(y, torch.Tensor),
            "X and y should both be tensors.")
    require(tuple(X.shape) == (n, window + 1), f"X should have shape (m - window, "
            f"window + 1) = {(n, window + 1)}, but it has {tuple(X.shape)}.")
    require(tuple(y.shape) == (n,), f"y should have shape (m - window,) = {(n,)}, but "
            f"it has {tuple(y.shape)}.")
    return X.detach().to(F64), y.detach().to(F64)


def momentum_features(fn) -> None:
    """Check ``momentum_features(returns, window)``: each window of returns, the mean of
    its last five, and the next return; nothing after the window in the features."""
    callable_(fn)
    gen = torch.Generator().manual_seed(10)
    for m, window in [(60, 10), (40, 5), (200, 20)]:
        returns = 0.02 * torch.randn(m, generator=gen, dtype=F64)
        case = f"{m} random returns, window = {window}"
        X, y = _as_pair(run(fn, returns.clone(), window, what=case), m - window, window)
        later = returns.clone()
        cut = m // 2
        later[cut:] += 0.05  # change every return from index cut on
        X_l, _ = _as_pair(run(fn, later, window, what=case), m - window, window)
        known = torch.arange(m - window) + window <= cut  # rows whose window ends first
        require(torch.allclose(X[known], X_l[known], atol=1e-6),
                "a feature changes when only LATER returns change: it looks ahead. "
                "Each feature of row i may use returns[i : i + window] only.", case)
        require(not torch.allclose(y, X[:, window - 1], atol=1e-9),
                "the target equals the window's last return, which the model already "
                "sees: the target is the return right after the window.", case)
        X_ref, y_ref = _momentum(returns, window)
        require(torch.allclose(X[:, :window], X_ref[:, :window], atol=1e-6),
                "the first window columns of row i should be returns[i : i + window].",
                case)
        require(torch.allclose(y, y_ref, atol=1e-6), "the target of row i is the "
                "return right after its window, returns[i + window].", case)
        require(torch.allclose(X[:, window], X_ref[:, window], atol=1e-6),
                "the last column should be the mean of the window's last five returns, "
                "the five that end with returns[i + window - 1].", case)
    ok("momentum_features: right on 3 series, with no look-ahead in the features.")


# --- Exercise 4 -----------------------------------------------------------------------

def _drawdown(net: torch.Tensor) -> float:
    value = torch.cat([net.new_zeros(1), net.to(F64).cumsum(0)])  # log of the account
    peak = value.cummax(0).values
    return float((1 - torch.exp(value - peak)).max())


def max_drawdown(fn) -> None:
    """Check ``max_drawdown(net)``: the largest fall of the account from a previous
    peak, as a fraction of that peak; the account starts at 1 before the first day."""
    callable_(fn)
    gen = torch.Generator().manual_seed(12)
    cases = [
        (torch.tensor([0.1, -0.2, 0.05, -0.1, 0.3], dtype=F64), "a rise, then falls"),
        (torch.tensor([-0.3, 0.1, 0.1], dtype=F64),
         "a loss on the first day (the peak is the starting value)"),
        (torch.tensor([-0.05, 0.2, -0.05, -0.4, 0.1, 0.6], dtype=F64),
         "the highest value comes after the deepest fall"),
        (torch.tensor([0.01, 0.02, 0.0, 0.03], dtype=F64), "an account that never falls"),
        (0.02 * torch.randn(300, generator=gen, dtype=F64), "300 random days"),
        (0.02 * torch.randn(50, generator=gen), "50 random float32 days"),
    ]
    for net, what in cases:
        out = run(fn, net.clone(), what=what,
                  hint="net is a 1-D tensor of daily log returns; return one number.")
        value = number(out, "the drawdown")
        expected = _drawdown(net)
        require(value >= 0 or expected == 0, "report the drawdown as a positive "
                "fraction: a fall of a fifth is 0.2.", what)
        require(value <= 1 + 1e-9, "report the drawdown as a fraction of the peak, "
                "between 0 and 1, not in percent.", what)
        simple = torch.cat([net.new_ones(1), (1 + net.to(F64)).cumprod(0)])
        as_simple = float((1 - simple / simple.cummax(0).values).max())
        require(abs(value - as_simple) >= 1e-6 or abs(value - expected) < 1e-6,
                "net holds log returns: the account is worth V_t = exp(r_0 + ... + "
                "r_t), not a product of (1 + r).", what)
        require(abs(value - expected) < 1e-6, "follow the account's value "
                "V_t = exp(r_0 + ... + r_t), starting from V = 1 before the first day; "
                "at each day compare V_t with the highest value reached so far, and "
                "report the largest relative fall 1 - V_t / peak.", what)
    ok("max_drawdown: right on 6 series, a first-day loss and a late peak included.")


# --- Exercise 5 -----------------------------------------------------------------------

_VOL_DATA: dict = {}


def _volatility_data():
    """(X_train, y_train, X_held, y_held): windows of absolute daily log returns in
    percent, (n, VOL_WINDOW), and the mean of the next VOL_HORIZON of them, (n,)."""
    if not _VOL_DATA:
        from .. import data

        close = torch.tensor(data.load_goog()["Close"].to_numpy(), dtype=F64)
        size = (100 * torch.log(close[1:] / close[:-1])).abs().float()  # (m,)
        X = size.unfold(0, VOL_WINDOW, 1)[:-VOL_HORIZON]  # (n, VOL_WINDOW)
        y = size[VOL_WINDOW:].unfold(0, VOL_HORIZON, 1).mean(dim=1)  # (n,)
        n_dev = len(y) - len(y) // 5
        stop = n_dev - VOL_HORIZON + 1  # training targets end before the held-out ones
        _VOL_DATA["split"] = (X[:stop].clone(), y[:stop].clone(), X[n_dev:].clone(),
                              y[n_dev:].clone())
    return _VOL_DATA["split"]


def _mse(forecast: torch.Tensor, target: torch.Tensor) -> float:
    return float(((forecast.to(F64) - target.to(F64)) ** 2).mean())


@contextlib.contextmanager
def _goog_unavailable():
    """While the learner's code runs, loading the GOOG prices through the course's
    loader fails (under its public name and through the helper it calls, so a reference
    imported before the check fails too); the originals come back afterwards."""
    from .. import data

    message = ("the check holds the prices back while your function runs: train on "
               "the X_train and y_train it receives")
    original_load, original_prices = data.load_goog, data._backtesting_prices

    def refuse(*args, **kwargs):
        raise RuntimeError(message)

    def prices(name, *args, **kwargs):
        if name == "GOOG":
            raise RuntimeError(message)
        return original_prices(name, *args, **kwargs)

    # backtesting.test reads its price files when first imported, and holds them as
    # GOOG, EURUSD, ...: while the learner's code runs, that module is replaced by one
    # whose every attribute refuses, whether or not it was imported before.
    import sys
    import types

    class HeldBack(types.ModuleType):
        def __getattr__(self, name):
            if name.startswith("__"):
                raise AttributeError(name)
            raise RuntimeError(message)

    held = HeldBack("backtesting.test")
    package = sys.modules.get("backtesting")
    saved_module = sys.modules.get("backtesting.test")
    saved_attribute = getattr(package, "test", None) if package is not None else None
    try:
        data.load_goog, data._backtesting_prices = refuse, prices
        sys.modules["backtesting.test"] = held
        if package is not None:
            package.test = held
        yield
    finally:
        data.load_goog, data._backtesting_prices = original_load, original_prices
        if saved_module is None:
            sys.modules.pop("backtesting.test", None)
        else:
            sys.modules["backtesting.test"] = saved_module
        package = sys.modules.get("backtesting")  # the learner's code may import it
        if package is not None:
            if saved_attribute is None:
                if getattr(package, "test", None) is held:
                    del package.test
            else:
                package.test = saved_attribute


def _ols_forecast(X_train, y_train, X_held) -> torch.Tensor:
    """Least-squares linear regression with an intercept, fitted on the training rows;
    its forecasts for X_held (m,), float64."""
    def design(X):
        return torch.cat([X.to(F64), torch.ones(len(X), 1, dtype=F64)], dim=1)

    w = torch.linalg.lstsq(design(X_train), y_train.to(F64)[:, None]).solution
    return (design(X_held) @ w)[:, 0]  # (m, 21) @ (21, 1) -> (m,)


def _linear_layers_used(model: torch.nn.Module, X: torch.Tensor) -> int:
    """How many of the model's nn.Linear layers the output on X depends on."""
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    if not linears:
        return 0
    weights = [m.weight for m in linears]
    flags = [w.requires_grad for w in weights]
    try:
        for w in weights:
            w.requires_grad_(True)
        with torch.enable_grad():
            out = model(X)
            if not (isinstance(out, torch.Tensor) and out.requires_grad):
                return 0
            grads = torch.autograd.grad(out.sum(), weights, allow_unused=True)
    finally:
        for w, flag in zip(weights, flags):
            w.requires_grad_(flag)
    return sum(g is not None and bool(g.abs().sum() > 0) for g in grads)


def _is_affine(forecast_of, X: torch.Tensor) -> bool:
    """Whether f((a + b) / 2) = (f(a) + f(b)) / 2 holds on pairs of rows of X, as it
    does for every affine function (a linear layer, a linear regression)."""
    gen = torch.Generator().manual_seed(5)
    a, b = X, X[torch.randperm(len(X), generator=gen)]
    f_mid, f_a, f_b = (forecast_of(Z).to(F64) for Z in ((a + b) / 2, a, b))
    gap = (f_mid - (f_a + f_b) / 2).abs().max()
    return bool(gap <= 1e-4 * (1 + f_a.abs().max()))


def volatility_model(fn) -> None:
    """Check ``train_volatility_mlp(X_train, y_train)``: the model it returns must be an
    MLP, and it must forecast the mean absolute return of the next five days on the
    held-out last fifth of the series with a lower mean squared error than the 20-day
    average."""
    callable_(fn)
    X_train, y_train, X_held, y_held = _volatility_data()
    with _goog_unavailable():
        model = run(fn, X_train.clone(), y_train.clone(), what="the training windows",
                    hint="X_train is (n, 20) float32, y_train (n,); return the model.")
    require(isinstance(model, torch.nn.Module), "train_volatility_mlp should return the "
            f"trained MLP, an nn.Module, not a {type(model).__name__}.")
    model.eval()

    shapes = []  # the shapes of the model's outputs, as returned

    def forecast_of(X):
        with _goog_unavailable():
            out = run(lambda Z: model(Z), X.clone(), no_grad=True,
                      what="the held-out windows",
                      hint="the model takes a (n, 20) float32 tensor of absolute "
                           "returns in percent and returns n forecasts.")
        require(isinstance(out, torch.Tensor) and out.numel() == len(X),
                f"the model should return one forecast per window: {len(X)} values "
                "for the held-out windows.")
        shapes.append(tuple(out.shape))
        return out.detach().reshape(-1)

    forecast = forecast_of(X_held)
    require(bool(torch.isfinite(forecast).all()), "the forecasts contain NaN or "
            "infinite values: lower the learning rate.")
    mlp = ("the exercise asks for an MLP: at least two nn.Linear layers with a "
           "nonlinearity such as nn.ReLU between them, trained together with "
           "train.fit.")
    with _goog_unavailable():
        used = run(_linear_layers_used, model, X_held[:64].clone(),
                   what="the held-out windows, with gradients",
                   hint="the model's forward pass should use its layers' weights.")
    require(used >= 2, mlp + f" The model's output depends on {used} linear layer(s).")
    require(not _is_affine(forecast_of, X_held), mlp + " This model's forecast is an "
            "affine function of its inputs (a linear model), which the hidden "
            "layer's nonlinearity would prevent.")
    mse = _mse(forecast, y_held)
    average = _mse(X_held.mean(dim=1), y_held)  # the 20-day historical volatility
    constant = _mse(torch.full_like(y_held, float(y_train.mean())), y_held)
    if shapes[0] == (len(X_held), 1) and mse >= average:
        fail(f"the held-out MSE is {mse:.3f}, {mse / average:.2f} of the 20-day "
             f"average's. Your model returns shape {shapes[0]}, but y_train has shape "
             f"{tuple(y_train.shape)}: nn.MSELoss then broadcasts the difference to "
             "(n, n) and trains on the wrong differences (PyTorch warns about it). End "
             "the model with nn.Flatten(0), or train on y_train[:, None].")
    require(mse < constant, f"the held-out MSE is {mse:.3f}, no better than always "
            f"forecasting the training mean ({constant:.3f}). Train on absolute returns "
            "in percent, with the MSE loss, for more epochs.")
    require(mse < average, f"the held-out MSE is {mse:.3f}, {mse / average:.2f} of the "
            "20-day average's: the bar is below 1. Train longer, or give the MLP more "
            "units; keep the inputs as they are (absolute returns in percent).")
    require(mse > 0.5 * average, f"the held-out MSE is {mse / average:.2f} of the "
            "20-day average's, far better than volatility can be forecast: does your "
            "code read prices beyond X_train and y_train (for example "
            "backtesting.test.GOOG, or a global variable of the notebook)? Train only "
            "on the rows you are given.")
    linear = _mse(_ols_forecast(X_train, y_train, X_held), y_held)
    ok(f"volatility_model: held-out MSE {mse / average:.2f} of the 20-day average "
       f"(linear fit: {linear / average:.2f}).")
