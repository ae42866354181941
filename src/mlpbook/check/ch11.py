"""Checks for Chapter 11, "Healthcare diagnostics".

Conventions of the chapter: labels ``y`` (n,) are 1 for malignant (the positive class)
and 0 for benign; ``probs`` (n,) are predicted probabilities of malignancy; a decision
is "malignant" when ``probs >= threshold``; ``X`` (n, 30) are raw feature rows.

The Experiment check (``recalibration``) loads the breast-cancer data itself. It cuts
the 569 masses into five stratified folds; for each fold it trains the exercise's
label-smoothed MLP on three other folds, hands the learner's function the model and a
fourth fold for calibration, and scores the calibrated model on the held-out fold. The
Brier score is pooled over the five held-out folds, 569 masses in all.
"""

from __future__ import annotations

import copy
import numbers

import torch

from ._common import callable_, fail, ok, require, run

__all__ = ["positive_predictive_value", "out_of_fold", "net_benefit", "recalibration"]

F64 = torch.float64


def _number(value, what: str) -> float:
    if isinstance(value, torch.Tensor):
        require(value.numel() == 1, f"{what} should be one number, not a tensor of "
                f"shape {tuple(value.shape)}.")
        value = value.item()
    require(isinstance(value, numbers.Real) and not isinstance(value, bool),
            f"{what} should be a number, not a {type(value).__name__}.")
    return float(value)


# --- Exercise 1 -----------------------------------------------------------------------

def _ppv(sensitivity, specificity, prevalence):
    found = sensitivity * prevalence
    return found / (found + (1 - specificity) * (1 - prevalence))


def positive_predictive_value(fn) -> None:
    """Check ``positive_predictive_value(sensitivity, specificity, prevalence)``: the
    probability that a mass called malignant is malignant, by Bayes' rule."""
    callable_(fn)
    cases = [(0.98, 0.85, 0.37), (0.98, 0.85, 0.01), (0.9, 0.95, 0.5),
             (0.5, 1.0, 0.3), (1.0, 0.5, 0.2), (0.7, 0.6, 0.9)]
    for sensitivity, specificity, prevalence in cases:
        case = (f"sensitivity = {sensitivity}, specificity = {specificity}, "
                f"prevalence = {prevalence}")
        out = run(fn, sensitivity, specificity, prevalence, what=case,
                  hint="the three arguments are floats between 0 and 1.")
        value = _number(out, "the positive predictive value")
        require(abs(value - _ppv(sensitivity, specificity, prevalence)) < 1e-9,
                "of all masses, a share prevalence x sensitivity are malignant and "
                "called malignant, and a share (1 - prevalence) x (1 - specificity) are "
                "benign and called malignant; the PPV is the first share over the sum "
                "of the two.", case)
    ok("positive_predictive_value: right for 6 cases, prevalences 1 % to 90 %.")


# --- Exercise 2 -----------------------------------------------------------------------

def _centroid_model(Z_fit: torch.Tensor, y_fit: torch.Tensor):
    """A deterministic classifier: a softmax over minus squared distances to the two
    class means. It depends on the scale of the inputs, as a network does."""
    means = torch.stack([Z_fit[y_fit == c].mean(dim=0) for c in (0, 1)])  # (2, d)

    def predict(Z):
        distances = ((Z[:, None, :] - means[None]) ** 2).sum(dim=2)  # (m, 2)
        return torch.softmax(-distances, dim=1)[:, 1]
    return predict


def _scaled(X_fit, X_apply, correction):
    mean, std = X_fit.mean(dim=0), X_fit.std(dim=0, correction=correction)
    return (X_apply - mean) / std


def _reference_oof(X, y, folds, correction):
    probs = torch.zeros(len(y), dtype=X.dtype)
    for fit_rows, held_rows in folds:
        model = _centroid_model(_scaled(X[fit_rows], X[fit_rows], correction),
                                y[fit_rows])
        probs[held_rows] = model(_scaled(X[fit_rows], X[held_rows], correction))
    return probs


def out_of_fold(fn) -> None:
    """Check ``out_of_fold(X, y, folds, fit_predict)``: each row's probability comes from
    a model fitted, and standardised, on the other folds only."""
    callable_(fn)
    gen = torch.Generator().manual_seed(11)
    n, d = 60, 4
    X = torch.randn(n, d, generator=gen) * torch.tensor([1.0, 10.0, 0.1, 3.0])
    y = (torch.arange(n) % 3 == 0).long()
    X = X + 1.5 * y[:, None].float()  # (n, d) float32; the positives sit apart
    order = torch.randperm(n, generator=gen)
    folds = [(torch.cat([order[:k * 12], order[(k + 1) * 12:]]),
              order[k * 12:(k + 1) * 12]) for k in range(5)]
    calls = []

    def fit_predict(Z_fit, y_fit):
        calls.append(Z_fit.detach().clone())
        return _centroid_model(Z_fit.detach(), y_fit)

    case = "60 rows, 4 columns on different scales, 5 folds of 12"
    out = run(fn, X.clone(), y.clone(), folds, fit_predict, what=case,
              hint="fit_predict(Z_fit, y_fit) returns a function; call that function on "
                   "the held-out rows.")
    require(len(calls) == len(folds), f"call fit_predict once per fold: {len(folds)} "
            f"times, not {len(calls)}.", case)
    require(all(len(Z) == n - 12 for Z in calls), "each model must be fitted on the "
            "training rows of its fold only (the other four folds), never on the rows "
            "it will predict.", case)
    require(all(Z.to(F64).mean(dim=0).abs().max() < 1e-4 for Z in calls),
            "the rows a model is fitted on should be standardised with their own means "
            "and standard deviations: fit the standardisation inside each fold, on its "
            "training rows only.", case)
    require(isinstance(out, torch.Tensor) and tuple(out.shape) == (n,),
            f"return one probability per row: a tensor of shape ({n},).", case)
    out = out.detach().to(F64)
    matches = [torch.allclose(out, _reference_oof(X.double(), y, folds, c), atol=1e-5)
               for c in (0, 1)]
    require(any(matches), "each held-out row must be scaled with the means and "
            "standard deviations of its fold's training rows, then predicted by that "
            "fold's model, and its probability stored at its own index.", case)
    ok("out_of_fold: every model fitted and standardised on its training folds only.")


# --- Exercise 3 -----------------------------------------------------------------------

def _net_benefit(probs, y, threshold):
    called = probs >= threshold
    n = len(y)
    tp = (called & (y == 1)).sum().item() / n
    fp = (called & (y == 0)).sum().item() / n
    return tp - fp * threshold / (1 - threshold)


def net_benefit(fn) -> None:
    """Check ``net_benefit(probs, y, threshold)``: TP/n - FP/n * t / (1 - t), with the
    decision probs >= t."""
    callable_(fn)
    gen = torch.Generator().manual_seed(13)
    y = (torch.rand(80, generator=gen) < 0.35).long()
    probs = torch.sigmoid(torch.randn(80, generator=gen, dtype=F64) + 2.0 * (2 * y - 1))
    tied = torch.round(probs * 10) / 10  # many probabilities equal to the threshold
    cases = [(probs, 0.5, "80 masses, threshold 0.5"),
             (probs, 0.1, "80 masses, threshold 0.1"),
             (probs, 0.8, "80 masses, threshold 0.8"),
             (tied, 0.3, "probabilities equal to the threshold"),
             (probs.float(), 0.2, "float32 probabilities")]
    for p, threshold, what in cases:
        out = run(fn, p.clone(), y.clone(), threshold, what=what,
                  hint="probs and y are 1-D tensors of the same length, threshold a "
                       "float; return one number.")
        value = _number(out, "the net benefit")
        require(abs(value - _net_benefit(p, y, threshold)) < 1e-6,
                "call a mass malignant when probs >= threshold; count the true and "
                "false positives, each divided by the number of ALL masses, and weigh "
                "each false positive by the odds threshold / (1 - threshold).", what)
    ok("net_benefit: right at 4 thresholds, ties at the threshold included.")


# --- Exercise 5 -----------------------------------------------------------------------

SMOOTHING = 0.4  # the exercise's label smoothing: targets 0.2 and 0.8


class Standardise(torch.nn.Module):
    """Scale raw rows (n, d) with fixed means and standard deviations."""

    def __init__(self, X_fit):
        super().__init__()
        self.mean, self.std = X_fit.mean(dim=0), X_fit.std(dim=0)

    def forward(self, X):
        return (X - self.mean) / self.std


def train_smoothed_mlp(X_fit, y_fit, seed):
    """The exercise's model: raw rows (n, 30) -> logit of malignancy (n, 1), trained on
    label-smoothed targets, so that its probabilities stay mostly between 0.2 and 0.8."""
    from .. import train, utils

    utils.set_seed(seed)
    model = torch.nn.Sequential(Standardise(X_fit), torch.nn.Linear(30, 16),
                                torch.nn.ReLU(), torch.nn.Linear(16, 1))
    targets = y_fit.float()[:, None] * (1 - SMOOTHING) + SMOOTHING / 2  # (n, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    train.fit(model, torch.nn.BCEWithLogitsLoss(), optimizer, (X_fit, targets),
              epochs=40, batch_size=32, seed=seed, progress=False)
    return model


_BASE: dict = {}


def _base_models():
    """[(model, X_cal, y_cal, X_held, y_held)] for the five held-out folds, built once."""
    if not _BASE:
        import numpy as np
        from sklearn.model_selection import StratifiedKFold

        from .. import data

        X, y = data.load_breast_cancer()
        splitter = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
        folds = [torch.as_tensor(held) for _, held in splitter.split(X, y)]
        rounds = []
        for k in range(5):
            held, cal = folds[k], folds[(k + 1) % 5]
            fit = torch.as_tensor(np.setdiff1d(np.arange(len(y)),
                                               torch.cat([held, cal]).numpy()))
            model = train_smoothed_mlp(X[fit], y[fit], seed=k)
            rounds.append((model, X[cal], y[cal], X[held], y[held]))
        _BASE["rounds"] = rounds
    return _BASE["rounds"]


def _logits(model, X) -> torch.Tensor:
    if isinstance(model, torch.nn.Module):
        model.eval()
    with torch.no_grad():
        return model(X)


def recalibration(fn) -> None:
    """Check ``calibrate(model, X_cal, y_cal)``: the calibrated model it returns must
    lower the Brier score on held-out masses to at most 0.6 of the model's own."""
    callable_(fn)
    raw, calibrated, outcomes = [], [], []
    for model, X_cal, y_cal, X_held, y_held in _base_models():
        mine = copy.deepcopy(model)  # the learner may change the model it is given
        new = run(fn, mine, X_cal.clone(), y_cal.clone(), what="a model and its "
                  "calibration masses", hint="calibrate(model, X_cal, y_cal) returns a "
                  "model that maps raw rows to calibrated logits.")
        require(callable(new), "calibrate should return the calibrated model, not a "
                f"{type(new).__name__}.")
        out = run(_logits, new, X_held.clone(), what="held-out masses",
                  hint="the calibrated model takes raw rows (m, 30) and returns m "
                       "logits.")
        require(isinstance(out, torch.Tensor) and out.numel() == len(y_held),
                f"the calibrated model should return one logit per mass: {len(y_held)} "
                "values for the held-out masses.")
        out = out.detach().reshape(-1).to(F64)
        require(bool(torch.isfinite(out).all()), "the calibrated logits contain NaN or "
                "infinite values.")
        raw.append(torch.sigmoid(_logits(model, X_held).reshape(-1).to(F64)))
        calibrated.append(out)
        outcomes.append(y_held.to(F64))
    logits, y = torch.cat(calibrated), torch.cat(outcomes)
    if bool(((logits >= 0) & (logits <= 1)).all()):
        fail("the calibrated model returns numbers between 0 and 1: return logits "
             "(the score before the sigmoid), not probabilities.")
    before = float(((torch.cat(raw) - y) ** 2).mean())
    after = float(((torch.sigmoid(logits) - y) ** 2).mean())
    require(after <= 0.6 * before, f"on 569 held-out masses the Brier score goes from "
            f"{before:.4f} to {after:.4f}, {after / before:.2f} of the original; the bar "
            "is 0.6. Fit a and b of sigmoid(a s + b) on the calibration masses' logits s, "
            "minimising the binary cross-entropy.")
    ok(f"recalibration: the held-out Brier score falls from {before:.4f} to "
       f"{after:.4f}.")
