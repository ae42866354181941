"""Checks for Chapter 11, "Healthcare diagnostics".

Conventions of the chapter: labels ``y`` (n,) are 1 for malignant (the positive class)
and 0 for benign; ``probs`` (n,) are predicted probabilities of malignancy; a decision
is "malignant" when ``probs >= threshold``; ``X`` (n, 30) are raw feature rows.

The Experiment check (``recalibration``) loads the breast-cancer data itself. It cuts
the 569 masses into five stratified folds; for each fold it trains the exercise's
label-smoothed MLP on three other folds, distorts its logits by a different known
slope and shift in each round (``DISTORTIONS``, so that no fixed map repairs all five),
hands the learner's function that model and a fourth fold for calibration, and scores
the calibrated model on the held-out fold. A recalibration must keep the order of the
model's scores on the held-out masses; the Brier score is pooled over the five held-out
folds, 569 masses in all. The breast-cancer loaders refuse to run while the learner's
code runs.
"""

from __future__ import annotations

import copy

import torch

from ._common import callable_, fail, number, ok, patched, require, run

__all__ = ["positive_predictive_value", "out_of_fold", "net_benefit", "recalibration"]

F64 = torch.float64


# --- Exercise 1 -----------------------------------------------------------------------

def _ppv(sensitivity, specificity, prevalence):
    found = sensitivity * prevalence
    return found / (found + (1 - specificity) * (1 - prevalence))


_PPV_TOLERANCE = 1e-6  # float32 arithmetic (about 1e-7 relative) passes


def _ppv_hint(fn, value, sensitivity, specificity, prevalence) -> str:
    """A hint for a wrong PPV that names the mistake, never the formula."""
    def near(other):
        return abs(value - other) <= _PPV_TOLERANCE * max(1.0, abs(other))

    s, c, p = sensitivity, specificity, prevalence
    if near(c * (1 - p) / (c * (1 - p) + (1 - s) * p)):
        return ("that is P(benign | called benign), the negative predictive value; the "
                "PPV is P(malignant | called malignant).")
    if near(s * p / (s * p + c * (1 - p))):
        return ("a benign mass is called malignant with probability 1 - specificity, "
                "not specificity.")
    if near(s):
        return ("that is the sensitivity, P(called malignant | malignant); the PPV "
                "turns it around: P(malignant | called malignant).")
    if near(s * p):
        return ("that is the share of ALL masses that are malignant and called "
                "malignant; the PPV is a share of the masses called malignant only.")
    if near(_ppv(s, c, 1 - p)):
        return ("the prevalence is the share of malignant masses, not of benign ones.")
    other = 0.5 if p != 0.5 else 0.2
    try:
        again = number(fn(s, c, other), "the positive predictive value")
    except Exception:
        again = None
    if again is not None and abs(again - value) <= _PPV_TOLERANCE and \
            abs(_ppv(s, c, other) - _ppv(s, c, p)) > 1e-3:
        return ("your answer does not depend on the prevalence, but the PPV does: at "
                "1 % prevalence most positive calls are benign.")
    return ("the PPV is P(malignant | called malignant). Picture 10,000 masses at this "
            "prevalence: how many are malignant and called malignant, how many are "
            f"benign and called malignant? Your value: {value:.4f}.")


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
                  hint="the three arguments are floats between 0 and 1 (0 and 1 "
                       "included).")
        value = number(out, "the positive predictive value")
        expected = _ppv(sensitivity, specificity, prevalence)
        if abs(value - expected) > _PPV_TOLERANCE * max(1.0, abs(expected)):
            fail(_ppv_hint(fn, value, sensitivity, specificity, prevalence), case)
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
    require(not bool(((out == 0) | (out == 1)).all()), "your probabilities are all 0 "
            "or 1: is the tensor you fill of an integer dtype (torch.zeros_like(y) "
            "copies the dtype of the labels)?", case)
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
        value = number(out, "the net benefit")
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


# Each round's base model has its logits s turned into slope * s + shift: a model that
# is over- or under-confident, and shifted, by a different amount in each round.
DISTORTIONS = ((0.5, -1.0), (2.0, 0.5), (1.0, 1.0), (0.7, -0.5), (1.5, 0.0))


class Miscalibrated(torch.nn.Module):
    """A model whose logits are ``slope * model(X) + shift``: shape (n, 1)."""

    def __init__(self, model: torch.nn.Module, slope: float, shift: float):
        super().__init__()
        self.model, self.slope, self.shift = model, slope, shift

    def forward(self, X):
        return self.slope * self.model(X) + self.shift


def _breast_cancer_unavailable():
    """While the learner's code runs, the breast-cancer data cannot be loaded: the
    course's loader, scikit-learn's, and the helper scikit-learn's loader calls (so that
    a reference imported before the check fails too); the originals come back
    afterwards."""
    import sklearn.datasets
    from sklearn.datasets import _base

    from .. import data

    message = ("the check holds the data back while your function runs: fit on the "
               "calibration masses it receives")

    def refuse(*args, **kwargs):
        raise RuntimeError(message)

    original_csv = _base.load_csv_data

    def load_csv_data(*args, **kwargs):
        name = kwargs.get("data_file_name", args[0] if args else "")
        if "breast_cancer" in str(name):
            raise RuntimeError(message)
        return original_csv(*args, **kwargs)

    patches = [(data, "load_breast_cancer", refuse),
               (sklearn.datasets, "load_breast_cancer", refuse),
               (_base, "load_breast_cancer", refuse),
               (_base, "load_csv_data", load_csv_data)]
    return patched(patches)


def _logits(model, X) -> torch.Tensor:
    if isinstance(model, torch.nn.Module):
        model.eval()
    with torch.no_grad():
        return model(X)


def _affine_fit(s: torch.Tensor, out: torch.Tensor) -> tuple[float, float, float]:
    """Least squares out ~ alpha s + beta: (alpha, beta, largest residual)."""
    A = torch.stack([s, torch.ones_like(s)], dim=1)  # (m, 2)
    coef = torch.linalg.lstsq(A, out[:, None]).solution[:, 0]
    residual = (A @ coef - out).abs().max()
    return float(coef[0]), float(coef[1]), float(residual)


def recalibration(fn) -> None:
    """Check ``calibrate(model, X_cal, y_cal)``: the calibrated model it returns must keep
    the order of the model's scores and lower the Brier score on held-out masses to at
    most 0.6 of the model's own; each round's model is miscalibrated differently."""
    callable_(fn)
    raw, calibrated, outcomes, maps = [], [], [], []
    for k, ((model, X_cal, y_cal, X_held, y_held), (slope, shift)) in enumerate(
            zip(_base_models(), DISTORTIONS)):
        given = Miscalibrated(model, slope, shift)
        case = f"round {k + 1} of 5"
        mine = copy.deepcopy(given)  # the learner may change the model it is given
        with _breast_cancer_unavailable():
            new = run(fn, mine, X_cal.clone(), y_cal.clone(), what="a model and its "
                      "calibration masses", hint="calibrate(model, X_cal, y_cal) "
                      "returns a model that maps raw rows to calibrated logits.")
            require(callable(new), "calibrate should return the calibrated model, not "
                    f"a {type(new).__name__}.")
            out = run(_logits, new, X_held.clone(), what="held-out masses",
                      hint="the calibrated model takes raw rows (m, 30) and returns m "
                           "logits.")
        require(isinstance(out, torch.Tensor) and out.numel() == len(y_held),
                f"the calibrated model should return one logit per mass: {len(y_held)} "
                "values for the held-out masses.")
        out = out.detach().reshape(-1).to(F64)
        require(bool(torch.isfinite(out).all()), "the calibrated logits contain NaN or "
                "infinite values.")
        scores = _logits(given, X_held).reshape(-1).to(F64)  # the model's own scores
        order = scores.argsort()
        target = y_held.to(F64)
        as_probabilities = float(((out - target) ** 2).mean())
        if bool(((out >= 0) & (out <= 1)).all()) and as_probabilities <= 1e-9 + min(
                float(((torch.sigmoid(out) - target) ** 2).mean()),
                float(((torch.sigmoid(scores) - target) ** 2).mean())):
            # Read as probabilities, these numbers score better than read as logits
            # and at least as well as the model's own probabilities.
            fail("the calibrated model returns numbers between 0 and 1: return logits "
                 "(the score before the sigmoid), not probabilities.", case)
        alpha, _, residual = _affine_fit(scores, out)
        if alpha < 0 and residual < 1e-3 * (1 + abs(alpha)):
            fail("your map s -> a s + b has a < 0: it turns the model's ranking upside "
                 "down. Fit a and b on y_cal as given (1 = malignant), and make sure the "
                 "fit has converged.", case)
        require(bool((out[order].diff() >= -1e-6).all()), "a recalibration maps the "
                "model's own score s to a s + b; it must not change which mass scores "
                "higher. Fit the two numbers on the model's logits, and leave the model "
                "itself as it is.", case)
        raw.append(torch.sigmoid(scores))
        calibrated.append(out)
        outcomes.append(y_held.to(F64))
        maps.append(_affine_fit(scores, out))
    logits, y = torch.cat(calibrated), torch.cat(outcomes)
    before = float(((torch.cat(raw) - y) ** 2).mean())
    after = float(((torch.sigmoid(logits) - y) ** 2).mean())
    result = (f"on 569 held-out masses the Brier score goes from {before:.4f} to "
              f"{after:.4f}, {after / before:.2f} of the original; the bar is 0.6.")
    if after > 0.6 * before:
        affine = all(residual < 1e-3 * (1 + abs(alpha)) for alpha, _, residual in maps)
        no_shift = all(abs(beta) < 1e-3 for _, beta, _ in maps)
        no_slope = all(abs(alpha - 1) < 1e-3 for alpha, _, _ in maps)
        if affine and no_shift and no_slope:
            fail(result + " The calibrated logits equal the model's own: fit a and b "
                 "of sigmoid(a s + b) on the calibration masses.")
        if affine and no_shift:
            fail(result + " A slope alone cannot undo a shift: fit b too.")
        if affine and no_slope:
            fail(result + " A shift alone cannot undo a slope: fit a too.")
        if affine and all(alpha < 1 for alpha, _, _ in maps):
            fail(result + " Your map shrinks the model's logits towards 0 (a < 1 in "
                 "every round). If you train a layer for a and b, train it to "
                 "convergence (the whole calibration set as one batch and a few hundred "
                 "epochs, or LBFGS), then print a and b to see that they moved.")
        fail(result + " Fit a and b of sigmoid(a s + b) on the calibration masses' "
             "logits s, minimising the binary cross-entropy.")
    ok(f"recalibration: held-out Brier score {before:.4f} -> {after:.4f}, "
       f"{after / before:.2f} of it (bar: 0.6).")
