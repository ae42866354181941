"""Checks for Chapter 10, "Financial forecasting".

Conventions of the chapter: prices and returns are 1-D tensors in time order,
oldest first; ``returns[t]`` is the log return from day ``t`` to day ``t + 1``.
A day counts as "up" when its return is strictly positive, and a forecast says
"up" when it is strictly positive; zero counts as "not up" on both sides.
"""

from __future__ import annotations

import math

import torch

from ._common import callable_, close, ok, require, run, tensor_like

__all__ = ["log_returns", "directional_accuracy", "wilson_interval", "walk_forward_splits",
           "long_flat_returns"]


def _log_returns(prices):
    return torch.log(prices[1:] / prices[:-1])


def _directional_accuracy(predicted, actual):
    return ((predicted > 0) == (actual > 0)).double().mean().item()


def _wilson(k, n, z):
    p = k / n
    denominator = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return centre - half, centre + half


def _walk_forward(n, n_folds):
    edges = [j * n // (n_folds + 1) for j in range(n_folds + 2)]
    return [(torch.arange(0, edges[k]), torch.arange(edges[k], edges[k + 1]))
            for k in range(1, n_folds + 1)]


def _long_flat(signal, returns, cost):
    position = signal.to(returns.dtype)
    previous = torch.cat([position.new_zeros(1), position[:-1]])
    return position * returns - cost * (position - previous).abs()


def _as_float(value, what: str) -> float:
    require(isinstance(value, (int, float)) or (isinstance(value, torch.Tensor)
                                                  and value.numel() == 1),
            f"{what} should be one number (a float or a 0-D tensor), "
            f"not a {type(value).__name__}.")
    return float(value)


def log_returns(fn) -> None:
    """Check ``log_returns(prices)``: ``log(prices[t + 1] / prices[t])``, shape (n - 1,)."""
    callable_(fn)
    gen = torch.Generator().manual_seed(10)
    walk = 100 * torch.exp(torch.cumsum(0.02 * torch.randn(30, generator=gen,
                                                           dtype=torch.float64), 0))
    cases = [
        (walk, "a random walk of 30 prices"),
        (torch.tensor([10.0, 20.0, 5.0, 5.0], dtype=torch.float64),
         "prices 10, 20, 5, 5 (a doubling, a fall to a quarter, no change)"),
        (torch.tensor([50.0, 55.0]), "two float32 prices"),
    ]
    for prices, what in cases:
        out = run(fn, prices.clone(), what=what)
        close(out, _log_returns(prices), "log_returns(prices)",
              f"on {what}: take log(prices[t + 1] / prices[t]) for each day after the first; "
              "there is one return fewer than prices.", atol=1e-6)
        require(out.dtype == prices.dtype, f"keep the prices' dtype ({prices.dtype}).")
    ok("log_returns: correct on 3 price series, including a doubling and a flat day.")


def directional_accuracy(fn) -> None:
    """Check ``directional_accuracy(predicted, actual)``: the fraction of days whose direction
    (strictly positive or not) the forecast gets right."""
    callable_(fn)
    gen = torch.Generator().manual_seed(11)
    cases = [
        (torch.tensor([0.5, -0.2, 0.0, 0.1, 0.0, -1.0, 0.0]),
         torch.tensor([0.1, -0.3, -0.2, 0.0, 0.0, 0.4, 0.3]),
         "forecasts and returns that include zeros"),
        (torch.randn(101, generator=gen), torch.randn(101, generator=gen),
         "101 random forecasts and returns"),
        (torch.tensor([0.3, 0.2]), torch.tensor([0.1, 0.5]), "two correct up days"),
    ]
    for predicted, actual, what in cases:
        out = run(fn, predicted.clone(), actual.clone(), what=what)
        value = _as_float(out, "the accuracy")
        require(abs(value - _directional_accuracy(predicted, actual)) < 1e-6,
                f"on {what}: compare (predicted > 0) with (actual > 0) day by day and return "
                "the fraction of days where they agree; zero means 'not up' on both sides.")
    ok("directional_accuracy: correct on 3 cases, zeros included.")


def wilson_interval(fn) -> None:
    """Check ``wilson_interval(k, n, z)``: the Wilson score interval ``(low, high)``."""
    callable_(fn)
    for k, n, z in [(213, 427, 1.96), (3, 7, 1.96), (0, 10, 1.96), (10, 10, 1.96),
                    (60, 100, 2.576), (1, 2, 1.0)]:
        out = run(fn, k, n, z, what=f"k = {k}, n = {n}, z = {z}")
        require(isinstance(out, (tuple, list)) and len(out) == 2, "return a pair (low, high).")
        low, high = (_as_float(v, "each bound") for v in out)
        ref_low, ref_high = _wilson(k, n, z)
        require(low <= high, "return the lower bound first.")
        require(abs(low - ref_low) < 1e-6 and abs(high - ref_high) < 1e-6,
                f"for k = {k}, n = {n}, z = {z}: the Wilson interval is centred on "
                "(p + z^2/(2n)) / (1 + z^2/n), not on p, and its half-width has the extra term "
                "z^2/(4n^2) under the square root; use the z you are given.")
    ok("wilson_interval: correct on 6 cases, including k = 0, k = n and other z values.")


def walk_forward_splits(fn) -> None:
    """Check ``walk_forward_splits(n, n_folds)``: expanding-window folds in time order."""
    callable_(fn)
    for n, n_folds in [(20, 3), (1710, 3), (103, 4), (9, 2)]:
        out = run(fn, n, n_folds, what=f"n = {n}, n_folds = {n_folds}")
        require(isinstance(out, (list, tuple)) and len(out) == n_folds,
                f"return a list of n_folds = {n_folds} pairs (train_idx, val_idx).")
        for k, (fold, (train_ref, val_ref)) in enumerate(zip(out, _walk_forward(n, n_folds)), 1):
            require(isinstance(fold, (tuple, list)) and len(fold) == 2,
                    "each fold should be a pair (train_idx, val_idx).")
            train_idx, val_idx = (tensor_like(torch.as_tensor(f), ref, f"fold {k}'s {name}")
                                  for f, ref, name in zip(fold, (train_ref, val_ref),
                                                          ("train_idx", "val_idx")))
            require(torch.equal(train_idx, train_ref.double()),
                    f"fold {k} (n = {n}, n_folds = {n_folds}): train on every row before the "
                    "validation block, from row 0, in order.")
            require(torch.equal(val_idx, val_ref.double()),
                    f"fold {k} (n = {n}, n_folds = {n_folds}): cut the rows into n_folds + 1 "
                    "blocks at j * n // (n_folds + 1); fold k validates on block k, which "
                    "starts right after its training rows.")
    ok("walk_forward_splits: correct folds for 4 sizes; training always precedes validation.")


def long_flat_returns(fn) -> None:
    """Check ``long_flat_returns(signal, returns, cost)``: the strategy's daily net returns."""
    callable_(fn)
    gen = torch.Generator().manual_seed(12)
    returns = 0.02 * torch.randn(40, generator=gen, dtype=torch.float64)
    cases = [
        (torch.tensor([True, True, False, True, False, False]),
         torch.tensor([0.01, -0.02, 0.03, 0.01, -0.01, 0.02], dtype=torch.float64), 0.001,
         "a short hand-made series"),
        (torch.rand(40, generator=gen) > 0.5, returns, 0.002, "40 random days"),
        (torch.ones(5, dtype=torch.bool), returns[:5], 0.01, "a signal that is always long"),
        (torch.zeros(5, dtype=torch.bool), returns[:5], 0.01, "a signal that is never long"),
    ]
    for signal, rets, cost, what in cases:
        out = run(fn, signal.clone(), rets.clone(), cost, what=what)
        close(out, _long_flat(signal, rets, cost), "the daily net returns",
              f"on {what}: each day earn returns[t] when signal[t] is True, else 0, and pay "
              "cost once for every change of position, starting flat (no position).",
              atol=1e-9)
    ok("long_flat_returns: correct on 4 signals, costs charged on every entry and exit.")
