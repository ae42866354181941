"""Chapter 11 checks: each accepts a correct answer and rejects plausible wrong ones."""

import math

import torch


def sens_spec_ok(y_true, y_pred):
    positive, negative = y_true == 1, y_true == 0
    sensitivity = (y_pred[positive] == 1).float().mean().item()
    specificity = (y_pred[negative] == 0).float().mean().item()
    return sensitivity, specificity


def threshold_ok(probs, y, target):
    positives = probs[y == 1].sort(descending=True).values
    for t in positives.unique().flip(0):
        if (positives >= t).float().mean() >= target:
            return t.item()
    return positives[-1].item()


def threshold_by_count(probs, y, target, extra=0):
    """The k-th largest positive probability, k = ceil(target * P) + extra."""
    positives = probs[y == 1].sort(descending=True).values
    k = min(math.ceil(target * len(positives)) + extra, len(positives))
    return positives[max(k, 1) - 1].item()


def brier_ok(probs, y):
    return ((probs - y.double()) ** 2).mean()


def auc_ok(scores, y):
    pos, neg = scores[y == 1], scores[y == 0]
    diff = pos[:, None] - neg[None, :]  # (P, N)
    return ((diff > 0).double() + 0.5 * (diff == 0).double()).mean()


def standardise_ok(X_train, X_test):
    mean, std = X_train.mean(0), X_train.std(0, correction=0)
    return (X_train - mean) / std, (X_test - mean) / std


def standardise_on_all(X_train, X_test):
    both = torch.cat([X_train, X_test])
    mean, std = both.mean(0), both.std(0, correction=0)
    return (X_train - mean) / std, (X_test - mean) / std


def standardise_each_on_itself(X_train, X_test):
    return standardise_ok(X_train, X_train)[0], standardise_ok(X_test, X_test)[0]


CORRECT = {
    "sensitivity_specificity": sens_spec_ok,
    "threshold_for_sensitivity": threshold_ok,
    "brier_score": brier_ok,
    "auc_mann_whitney": auc_ok,
    "standardise_in_fold": standardise_ok,
}

MUTANTS = {
    "sensitivity_specificity": {
        "swapped": lambda y_true, y_pred: sens_spec_ok(y_true, y_pred)[::-1],
        "benign as the positive class": lambda y_true, y_pred: sens_spec_ok(1 - y_true,
                                                                            1 - y_pred),
        "precision instead of sensitivity": lambda y_true, y_pred: (
            (y_true[y_pred == 1] == 1).float().mean().item(), sens_spec_ok(y_true, y_pred)[1]),
        "accuracy twice": lambda y_true, y_pred: ((y_true == y_pred).float().mean().item(),) * 2,
    },
    "threshold_for_sensitivity": {
        "always the smallest positive": lambda probs, y, target: probs[y == 1].min().item(),
        "one positive too few": lambda probs, y, target: threshold_by_count(probs, y, target, -1),
        "uses all the cases": lambda probs, y, target: threshold_ok(probs, torch.ones_like(y),
                                                                    target),
        "ignores the target": lambda probs, y, target: 0.5,
        "quantile of the benign cases": lambda probs, y, target: torch.quantile(
            probs[y == 0], target).item(),
    },
    "brier_score": {
        "root mean square": lambda probs, y: brier_ok(probs, y).sqrt(),
        "absolute error": lambda probs, y: (probs - y.double()).abs().mean(),
        "probability of the wrong class": lambda probs, y: brier_ok(1 - probs, y),
        "sum instead of mean": lambda probs, y: brier_ok(probs, y) * len(y),
    },
    "auc_mann_whitney": {
        "ties count as wins": lambda s, y: (s[y == 1][:, None] >= s[y == 0][None, :]).double()
        .mean(),
        "ties count as losses": lambda s, y: (s[y == 1][:, None] > s[y == 0][None, :]).double()
        .mean(),
        "classes swapped": lambda s, y: auc_ok(s, 1 - y),
        "accuracy at 0.5": lambda s, y: ((s >= 0.5).long() == y).double().mean(),
    },
    "standardise_in_fold": {
        "fitted on all the rows": standardise_on_all,
        "each set on its own statistics": standardise_each_on_itself,
        "unbiased standard deviation": lambda X_train, X_test: tuple(
            z * ((len(X_train) - 1) / len(X_train)) ** 0.5 for z in standardise_ok(X_train,
                                                                                   X_test)),
        "centred only": lambda X_train, X_test: (X_train - X_train.mean(0),
                                                 X_test - X_train.mean(0)),
        "divides by the variance": lambda X_train, X_test: tuple(
            z / X_train.std(0, correction=0) for z in standardise_ok(X_train, X_test)),
    },
}

# Each correct answer as its only variant, until the chapter lists its variants.
CORRECT = {name: {"reference": fn} for name, fn in CORRECT.items()}
