"""Chapter 10 checks: each accepts a correct answer and rejects plausible wrong ones."""

import math

import pytest
import torch
from scipy import stats


def log_returns_ok(prices):
    return torch.diff(torch.log(prices))


def accuracy_ok(predicted, actual):
    return ((predicted > 0) == (actual > 0)).float().mean().item()


def wilson_ok(k, n, z=1.96):
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return centre - half, centre + half


def wald(k, n, z=1.96):
    p = k / n
    half = z * math.sqrt(p * (1 - p) / n)
    return p - half, p + half


def wilson_no_correction_term(k, n, z=1.96):
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n)
    return centre - half, centre + half


def walk_forward_ok(n, n_folds):
    edges = [j * n // (n_folds + 1) for j in range(n_folds + 2)]
    return [(torch.arange(edges[k]), torch.arange(edges[k], edges[k + 1]))
            for k in range(1, n_folds + 1)]


def walk_forward_sliding(n, n_folds):
    edges = [j * n // (n_folds + 1) for j in range(n_folds + 2)]
    return [(torch.arange(edges[k - 1], edges[k]), torch.arange(edges[k], edges[k + 1]))
            for k in range(1, n_folds + 1)]


def walk_forward_shuffled(n, n_folds):
    order = torch.randperm(n, generator=torch.Generator().manual_seed(0))
    return [(order[train], order[val]) for train, val in walk_forward_ok(n, n_folds)]


def walk_forward_overlapping(n, n_folds):
    folds = walk_forward_ok(n, n_folds)
    return [(train, torch.cat([train[-1:], val])[:-1]) for train, val in folds]


def walk_forward_n_blocks(n, n_folds):  # n_folds blocks instead of n_folds + 1
    edges = [j * n // n_folds for j in range(n_folds + 1)] + [n]
    return [(torch.arange(edges[k]), torch.arange(edges[k], edges[k + 1]))
            for k in range(1, n_folds + 1)]


def long_flat_ok(signal, returns, cost):
    position = signal.to(returns.dtype)
    previous = torch.cat([position.new_zeros(1), position[:-1]])
    return position * returns - cost * (position - previous).abs()


def long_flat_lagged(signal, returns, cost):
    position = signal.to(returns.dtype)
    previous = torch.cat([position.new_zeros(1), position[:-1]])
    return previous * returns - cost * (position - previous).abs()


def long_flat_buy_cost_only(signal, returns, cost):
    position = signal.to(returns.dtype)
    previous = torch.cat([position.new_zeros(1), position[:-1]])
    return position * returns - cost * (position - previous).clamp(min=0)


def long_flat_starts_long(signal, returns, cost):
    position = signal.to(returns.dtype)
    previous = torch.cat([position.new_ones(1), position[:-1]])
    return position * returns - cost * (position - previous).abs()


CORRECT = {
    "log_returns": log_returns_ok,
    "directional_accuracy": accuracy_ok,
    "wilson_interval": wilson_ok,
    "walk_forward_splits": walk_forward_ok,
    "long_flat_returns": long_flat_ok,
}

MUTANTS = {
    "log_returns": {
        "simple returns": lambda p: p[1:] / p[:-1] - 1,
        "wrong sign": lambda p: torch.log(p[:-1] / p[1:]),
        "keeps n values": lambda p: torch.cat([p.new_zeros(1), torch.diff(torch.log(p))]),
        "divides by the later price": lambda p: torch.diff(p) / p[1:],
        "returns float32 always": lambda p: torch.diff(torch.log(p)).float(),
    },
    "directional_accuracy": {
        "zero counts as up": lambda p, a: ((p >= 0) == (a >= 0)).float().mean().item(),
        "compares signs": lambda p, a: (torch.sign(p) == torch.sign(a)).float().mean().item(),
        "counts instead of fraction": lambda p, a: ((p > 0) == (a > 0)).sum().item(),
        "error rate": lambda p, a: ((p > 0) != (a > 0)).float().mean().item(),
        "misaligned by one day": lambda p, a: (
            ((p[:-1] > 0) == (a[1:] > 0)).float().mean().item()),
        "returns a tensor of hits": lambda p, a: ((p > 0) == (a > 0)).float(),
    },
    "wilson_interval": {
        "Wald interval": wald,
        "missing z^2/(4n^2)": wilson_no_correction_term,
        "ignores z": lambda k, n, z=1.96: wilson_ok(k, n, 1.96),
        "bounds swapped": lambda k, n, z=1.96: wilson_ok(k, n, z)[::-1],
        "not recentred": lambda k, n, z=1.96: (
            k / n - (wilson_ok(k, n, z)[1] - wilson_ok(k, n, z)[0]) / 2,
            k / n + (wilson_ok(k, n, z)[1] - wilson_ok(k, n, z)[0]) / 2),
    },
    "walk_forward_splits": {
        "sliding window": walk_forward_sliding,
        "shuffled rows": walk_forward_shuffled,
        "validation overlaps training": walk_forward_overlapping,
        "n_folds blocks": walk_forward_n_blocks,
        "one fold too few": lambda n, n_folds: walk_forward_ok(n, n_folds)[:-1],
        "validation before training": lambda n, n_folds: [
            (v, t) for t, v in walk_forward_ok(n, n_folds)],
    },
    "long_flat_returns": {
        "no costs": lambda s, r, c: long_flat_ok(s, r, 0.0),
        "cost every day in the market": lambda s, r, c: s.to(r.dtype) * (r - c),
        "position one day late": long_flat_lagged,
        "cost only on buying": long_flat_buy_cost_only,
        "starts long": long_flat_starts_long,
        "adds the cost": lambda s, r, c: long_flat_ok(s, r, -c),
    },
}


@pytest.mark.parametrize("k, n", [(0, 10), (3, 7), (213, 427), (427, 427)])
def test_wilson_reference_matches_scipy(k, n):
    z = stats.norm.ppf(0.975)
    expected = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert wilson_ok(k, n, z) == pytest.approx((expected.low, expected.high), abs=1e-9)

# Each correct answer as its only variant, until the chapter lists its variants.
CORRECT = {name: {"reference": fn} for name, fn in CORRECT.items()}
