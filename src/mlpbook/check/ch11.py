"""Checks for Chapter 11, "Healthcare diagnostics".

Conventions of the chapter: labels ``y`` (n,) are 1 for malignant (the
positive class) and 0 for benign; ``probs`` (n,) are predicted probabilities
of malignancy; ``X_train`` (n, d) and ``X_test`` (m, d) are feature tables.
"""

from __future__ import annotations

import torch
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.preprocessing import StandardScaler

from ._common import callable_, close, ok, require, run

__all__ = ["sensitivity_specificity", "threshold_for_sensitivity", "brier_score",
           "auc_mann_whitney", "standardise_in_fold"]


def _binary(n, seed, p=0.4):
    gen = torch.Generator().manual_seed(seed)
    return (torch.rand(n, generator=gen) < p).long()


def _scores(y, seed, spread=1.5):
    """Probabilities that favour the positives, without ties."""
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(len(y), generator=gen, dtype=torch.float64) + spread * (2 * y - 1)
    return torch.sigmoid(z)


def _number(out, what):
    value = torch.as_tensor(out, dtype=torch.float64)
    require(value.numel() == 1, f"{what} should be a single number.")
    return value.reshape(())


def sensitivity_specificity(fn) -> None:
    """Check ``sensitivity_specificity(y_true, y_pred)``: returns ``(sensitivity, specificity)``."""
    callable_(fn)
    y1, y2 = _binary(40, 1), _binary(25, 2, p=0.6)
    cases = [(y1, _binary(40, 3), "random predictions"),
             (y2, (_scores(y2, 4) > 0.5).long(), "a reasonable classifier"),
             (y1, torch.ones_like(y1), "a classifier that always says 'malignant'")]
    for y_true, y_pred, what in cases:
        out = run(fn, y_true.clone(), y_pred.clone(), what=what)
        require(isinstance(out, tuple) and len(out) == 2,
                "return a pair (sensitivity, specificity).")
        tp = ((y_pred == 1) & (y_true == 1)).sum().item()
        tn = ((y_pred == 0) & (y_true == 0)).sum().item()
        sens, spec = tp / (y_true == 1).sum().item(), tn / (y_true == 0).sum().item()
        close(_number(out[0], "sensitivity"), torch.tensor(sens, dtype=torch.float64),
              "sensitivity", f"on {what}: sensitivity is the fraction of the truly malignant "
              "cases (y = 1) that are predicted malignant.")
        close(_number(out[1], "specificity"), torch.tensor(spec, dtype=torch.float64),
              "specificity", f"on {what}: specificity is the fraction of the truly benign "
              "cases (y = 0) that are predicted benign.")
    ok("sensitivity_specificity: correct on 3 cases, including 'always malignant'.")


def _threshold(probs, y, target):
    positives = probs[y == 1]
    for t in sorted(set(positives.tolist()), reverse=True):
        if (positives >= t).sum().item() / len(positives) >= target:
            return t
    raise AssertionError("unreachable: the smallest positive probability always works")


def threshold_for_sensitivity(fn) -> None:
    """Check ``threshold_for_sensitivity(probs, y, target)``: largest t reaching the target."""
    callable_(fn)
    y = _binary(90, 5)  # 35 positives, so target * positives is never a whole number here
    probs = _scores(y, 6, spread=1.0)
    tied = torch.round(probs * 10) / 10  # many equal probabilities
    cases = [(probs, 0.98), (probs, 0.9), (probs, 0.5), (probs, 1.0), (tied, 0.95)]
    for p, target in cases:
        out = run(fn, p.clone(), y.clone(), target, what=f"target = {target}")
        expected = torch.tensor(_threshold(p, y, target), dtype=torch.float64)
        what = "probabilities with ties" if p is tied else "distinct probabilities"
        close(_number(out, "the threshold"), expected, "the threshold",
              f"with {what} and target = {target}: predict malignant where probs >= t; among "
              "the thresholds whose sensitivity reaches the target, return the largest.")
    ok("threshold_for_sensitivity: correct for 5 targets, including 1.0 and tied probabilities.")


def brier_score(fn) -> None:
    """Check ``brier_score(probs, y)``: the mean squared difference between probs and y."""
    callable_(fn)
    for n, seed in [(30, 7), (5, 8)]:
        y = _binary(n, seed)
        probs = _scores(y, seed + 10)
        out = run(fn, probs.clone(), y.clone(), what=f"{n} cases")
        expected = torch.tensor(brier_score_loss(y.numpy(), probs.numpy()), dtype=torch.float64)
        close(_number(out, "the Brier score"), expected, "the Brier score",
              "average, over the cases, the squared gap between the predicted probability "
              "of malignancy and the outcome (1 or 0).")
    y = torch.tensor([1, 0, 1, 0])
    out = run(fn, y.double(), y.clone(), what="perfect, certain predictions")
    close(_number(out, "the Brier score"), torch.tensor(0.0, dtype=torch.float64),
          "the Brier score", "certain and correct predictions must score 0.")
    ok("brier_score: matches scikit-learn on 3 cases, including perfect predictions.")


def auc_mann_whitney(fn) -> None:
    """Check ``auc_mann_whitney(scores, y)``: P(score of a positive > score of a negative)."""
    callable_(fn)
    y = _binary(60, 9)
    scores = _scores(y, 10, spread=0.7)
    cases = [(scores, "distinct scores"), (torch.round(scores * 5) / 5, "scores with ties"),
             (y.double(), "perfectly separated scores"), (1 - y.double(), "reversed scores")]
    for s, what in cases:
        out = run(fn, s.clone(), y.clone(), what=what)
        expected = torch.tensor(roc_auc_score(y.numpy(), s.numpy()), dtype=torch.float64)
        close(_number(out, "the AUC"), expected, "the AUC",
              f"with {what}: compare every (malignant, benign) pair; count 1 when the "
              "malignant case scores higher, 1/2 on a tie, and average over the pairs.")
    ok("auc_mann_whitney: matches scikit-learn's roc_auc_score, ties and extremes included.")


def standardise_in_fold(fn) -> None:
    """Check ``standardise_in_fold(X_train, X_test)``: both scaled with the training statistics."""
    callable_(fn)
    gen = torch.Generator().manual_seed(11)
    X_train = torch.randn(20, 3, generator=gen, dtype=torch.float64) * torch.tensor(
        [1.0, 10.0, 0.1]) + torch.tensor([5.0, -2.0, 0.0])
    X_test = torch.randn(8, 3, generator=gen, dtype=torch.float64) * 2 + 3  # another spread
    train_copy, test_copy = X_train.clone(), X_test.clone()
    out = run(fn, X_train, X_test, what="a (20, 3) training set and a (8, 3) test set")
    require(isinstance(out, tuple) and len(out) == 2, "return a pair (Z_train, Z_test).")
    require(torch.equal(X_train, train_copy) and torch.equal(X_test, test_copy),
            "do not change X_train or X_test in place.")
    scaler = StandardScaler().fit(X_train.numpy())
    close(out[0], torch.as_tensor(scaler.transform(X_train.numpy())), "Z_train",
          "subtract each column's training mean and divide by its training standard "
          "deviation (the one that divides by n, as StandardScaler does).", atol=1e-5)
    close(out[1], torch.as_tensor(scaler.transform(X_test.numpy())), "Z_test",
          "the test rows are scaled with the TRAINING means and standard deviations; "
          "the test set must not influence them.", atol=1e-5)
    ok("standardise_in_fold: matches StandardScaler fitted on the training rows only.")
