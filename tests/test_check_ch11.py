"""Chapter 11 checks: the correct answers each must accept, the mistakes each must reject.

The Experiment check trains its five label-smoothed base models once per process (a
few seconds), then calls the learner's calibration function on each.
"""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from mlpbook import train, utils

# --- Exercise 1: positive_predictive_value ---------------------------------------------


def ppv_bayes(sensitivity, specificity, prevalence):
    true_pos = sensitivity * prevalence
    false_pos = (1 - specificity) * (1 - prevalence)
    return true_pos / (true_pos + false_pos)


def ppv_counts(sensitivity, specificity, prevalence, n=1_000_000):
    """The same, through expected counts in a population of n."""
    malignant = n * prevalence
    found = sensitivity * malignant
    alarms = (1 - specificity) * (n - malignant)
    return found / (found + alarms)


def ppv_odds(sensitivity, specificity, prevalence):
    """Post-test odds = pre-test odds x positive likelihood ratio."""
    odds = prevalence / (1 - prevalence) * sensitivity / (1 - specificity) \
        if specificity < 1 else float("inf")
    return 1.0 if odds == float("inf") else odds / (1 + odds)


def ppv_tensor(sensitivity, specificity, prevalence):
    s, c, p = (torch.tensor(v, dtype=torch.float64)
               for v in (sensitivity, specificity, prevalence))
    return s * p / (s * p + (1 - c) * (1 - p))


def ppv_float32(sensitivity, specificity, prevalence):
    """Computed in torch's default float32, returned as a Python float."""
    s, c, p = torch.tensor([sensitivity, specificity, prevalence]).unbind()
    return (s * p / (s * p + (1 - c) * (1 - p))).item()


def ppv_float32_tensor(sensitivity, specificity, prevalence):
    """A 0-d float32 tensor."""
    return torch.tensor(ppv_bayes(sensitivity, specificity, prevalence))


# --- Exercise 2: out_of_fold ------------------------------------------------------------


def oof_ok(X, y, folds, fit_predict):
    probs = torch.zeros(len(y))
    for fit_rows, held_rows in folds:
        mean, std = X[fit_rows].mean(dim=0), X[fit_rows].std(dim=0)
        predict = fit_predict((X[fit_rows] - mean) / std, y[fit_rows])
        probs[held_rows] = predict((X[held_rows] - mean) / std)
    return probs


def oof_population_std(X, y, folds, fit_predict):
    probs = torch.empty(len(y), dtype=X.dtype)
    for fit_rows, held_rows in folds:
        mean, std = X[fit_rows].mean(dim=0), X[fit_rows].std(dim=0, correction=0)
        predict = fit_predict((X[fit_rows] - mean) / std, y[fit_rows])
        probs[held_rows] = predict((X[held_rows] - mean) / std).to(X.dtype)
    return probs


def oof_scaler(X, y, folds, fit_predict):
    probs = np.zeros(len(y))
    for fit_rows, held_rows in folds:
        scaler = StandardScaler().fit(X[fit_rows].numpy())
        Z_fit = torch.as_tensor(scaler.transform(X[fit_rows].numpy()))
        Z_held = torch.as_tensor(scaler.transform(X[held_rows].numpy()))
        predict = fit_predict(Z_fit, y[fit_rows])
        probs[held_rows.numpy()] = predict(Z_held).numpy()
    return torch.as_tensor(probs)


def oof_buggy(X, y, folds, fit_predict):  # the code the exercise gives
    Z = (X - X.mean(dim=0)) / X.std(dim=0)
    probs = torch.zeros(len(y))
    for _, held_rows in folds:
        predict = fit_predict(Z, y)
        probs[held_rows] = predict(Z[held_rows])
    return probs


def oof_scaler_fixed_only(X, y, folds, fit_predict):
    probs = torch.zeros(len(y))
    for fit_rows, held_rows in folds:
        mean, std = X[fit_rows].mean(dim=0), X[fit_rows].std(dim=0)
        predict = fit_predict((X - mean) / std, y)
        probs[held_rows] = predict((X[held_rows] - mean) / std)
    return probs


def oof_fit_fixed_only(X, y, folds, fit_predict):
    Z = (X - X.mean(dim=0)) / X.std(dim=0)
    probs = torch.zeros(len(y))
    for fit_rows, held_rows in folds:
        predict = fit_predict(Z[fit_rows], y[fit_rows])
        probs[held_rows] = predict(Z[held_rows])
    return probs


def oof_held_rows_own_statistics(X, y, folds, fit_predict):
    probs = torch.zeros(len(y))
    for fit_rows, held_rows in folds:
        Z_fit = (X[fit_rows] - X[fit_rows].mean(dim=0)) / X[fit_rows].std(dim=0)
        Z_held = (X[held_rows] - X[held_rows].mean(dim=0)) / X[held_rows].std(dim=0)
        probs[held_rows] = fit_predict(Z_fit, y[fit_rows])(Z_held)
    return probs


def oof_integer_tensor(X, y, folds, fit_predict):
    """Right loop, but the tensor it fills has the labels' integer dtype."""
    probs = torch.zeros_like(y)
    for fit_rows, held_rows in folds:
        mean, std = X[fit_rows].mean(dim=0), X[fit_rows].std(dim=0)
        predict = fit_predict((X[fit_rows] - mean) / std, y[fit_rows])
        probs[held_rows] = predict((X[held_rows] - mean) / std).long()
    return probs


def oof_in_order(X, y, folds, fit_predict):
    """Stores the fold's predictions one after another instead of at their rows."""
    out = []
    for fit_rows, held_rows in folds:
        mean, std = X[fit_rows].mean(dim=0), X[fit_rows].std(dim=0)
        predict = fit_predict((X[fit_rows] - mean) / std, y[fit_rows])
        out.append(predict((X[held_rows] - mean) / std))
    return torch.cat(out)


# --- Exercise 3: net_benefit ------------------------------------------------------------


def net_benefit_ok(probs, y, threshold):
    called = probs >= threshold
    tp = (called & (y == 1)).double().mean()
    fp = (called & (y == 0)).double().mean()
    return (tp - fp * threshold / (1 - threshold)).item()


def net_benefit_weighted(probs, y, threshold, weight, strict=False):
    called = probs > threshold if strict else probs >= threshold
    tp = (called & (y == 1)).double().mean()
    fp = (called & (y == 0)).double().mean()
    return (tp - fp * weight).item()


def net_benefit_numpy(probs, y, threshold):
    p, t = probs.numpy(), y.numpy()
    called = p >= threshold
    n = len(t)
    return np.sum(called & (t == 1)) / n - np.sum(called & (t == 0)) / n * (
        threshold / (1 - threshold))


# --- Exercise 5: recalibration ---------------------------------------------------------


def logits_of(model, X):
    model.eval()
    with torch.no_grad():
        return model(X)  # (n, 1)


def platt_fit(model, X_cal, y_cal):
    """Platt scaling as a Linear(1, 1) trained with train.fit, starting at identity."""
    scores = logits_of(model, X_cal)
    platt = torch.nn.Linear(1, 1)
    torch.nn.init.ones_(platt.weight)
    torch.nn.init.zeros_(platt.bias)
    optimizer = torch.optim.Adam(platt.parameters(), lr=0.05)
    train.fit(platt, torch.nn.BCEWithLogitsLoss(), optimizer,
              (scores, y_cal.float()[:, None]), epochs=200, batch_size=len(y_cal),
              seed=0, progress=False)
    return torch.nn.Sequential(model, platt)


def platt_lbfgs(model, X_cal, y_cal):
    scores = logits_of(model, X_cal)
    platt = torch.nn.Linear(1, 1)
    optimizer = torch.optim.LBFGS(platt.parameters(), max_iter=100,
                                  line_search_fn="strong_wolfe")
    target = y_cal.float()[:, None]

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(platt(scores), target)
        loss.backward()
        return loss

    optimizer.step(closure)
    return torch.nn.Sequential(model, platt)


def sklearn_coefficients(model, X_cal, y_cal, C=1e6, targets=None):
    scores = logits_of(model, X_cal).numpy()
    fitted = LogisticRegression(C=C).fit(scores, (y_cal if targets is None
                                                  else targets).numpy())
    a, b = float(fitted.coef_[0, 0]), float(fitted.intercept_[0])
    return a, b


class Affine(torch.nn.Module):
    def __init__(self, a, b):
        super().__init__()
        self.a, self.b = a, b

    def forward(self, s):
        return self.a * s + self.b


def platt_sklearn(model, X_cal, y_cal):
    return torch.nn.Sequential(model, Affine(*sklearn_coefficients(model, X_cal, y_cal)))


def platt_sklearn_regularised(model, X_cal, y_cal):
    a, b = sklearn_coefficients(model, X_cal, y_cal, C=1.0)
    return lambda X: a * model(X) + b


def temperature(model, X_cal, y_cal):
    """Temperature scaling: one parameter, s / T, T searched on a grid."""
    scores = logits_of(model, X_cal).reshape(-1)
    grid = torch.linspace(0.02, 2.0, 400)
    losses = torch.stack([torch.nn.functional.binary_cross_entropy_with_logits(
        scores / t, y_cal.float()) for t in grid])
    T = grid[losses.argmin()].item()
    return torch.nn.Sequential(model, Affine(1 / T, 0.0))


def platt_undertrained(model, X_cal, y_cal, seed=0):
    """Returns logits, but its Linear(1, 1) barely moves from its random start (SGD,
    lr 0.01, 2 epochs): with seed 0 every output lies between 0 and 1; with seed 3 the
    slope stays negative."""
    torch.manual_seed(seed)
    scores = logits_of(model, X_cal)
    platt = torch.nn.Linear(1, 1)
    optimizer = torch.optim.SGD(platt.parameters(), lr=0.01)
    train.fit(platt, torch.nn.BCEWithLogitsLoss(), optimizer,
              (scores, y_cal.float()[:, None]), epochs=2, batch_size=32, seed=0,
              progress=False)
    return torch.nn.Sequential(model, platt)


def unchanged(model, X_cal, y_cal):
    return model


def swapped_classes(model, X_cal, y_cal):
    a, b = sklearn_coefficients(model, X_cal, y_cal, targets=1 - y_cal)
    return torch.nn.Sequential(model, Affine(a, b))


def bias_only(model, X_cal, y_cal):
    scores = logits_of(model, X_cal).reshape(-1)
    grid = torch.linspace(-3, 3, 601)
    losses = torch.stack([torch.nn.functional.binary_cross_entropy_with_logits(
        scores + b, y_cal.float()) for b in grid])
    return torch.nn.Sequential(model, Affine(1.0, grid[losses.argmin()].item()))


def divides_by_slope(model, X_cal, y_cal):
    a, b = sklearn_coefficients(model, X_cal, y_cal)
    return torch.nn.Sequential(model, Affine(1 / a, b))


def returns_probabilities(model, X_cal, y_cal):
    calibrated = platt_sklearn(model, X_cal, y_cal)
    return lambda X: torch.sigmoid(calibrated(X))


def fresh_logistic_regression(model, X_cal, y_cal):
    """Ignores the model: a new logistic regression on the calibration masses."""
    scaler = StandardScaler().fit(X_cal.numpy())
    fitted = LogisticRegression(max_iter=1000).fit(scaler.transform(X_cal.numpy()),
                                                   y_cal.numpy())
    return lambda X: torch.as_tensor(fitted.decision_function(
        scaler.transform(X.numpy())))[:, None]


def fine_tuned(model, X_cal, y_cal):
    """Trains the whole network further on the calibration masses, without smoothing."""
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    train.fit(model, torch.nn.BCEWithLogitsLoss(), optimizer,
              (X_cal, y_cal.float()[:, None]), epochs=40, batch_size=32, seed=0,
              progress=False)
    return model


def fixed_slope(model, X_cal, y_cal):
    """Nothing fitted: a slope of 4 chosen in advance to undo the smoothing."""
    return lambda X: 4 * model(X)


def loads_every_mass(model, X_cal, y_cal):
    """Fits a new model on all 569 masses, the held-out ones included."""
    from mlpbook import data

    X, y = data.load_breast_cancer()
    return fresh_logistic_regression(model, X, y)


def loads_through_scikit_learn(model, X_cal, y_cal):
    from sklearn.datasets import load_breast_cancer

    X, target = load_breast_cancer(return_X_y=True)
    X, y = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(1 - target)
    return fresh_logistic_regression(model, X, y)


CORRECT = {
    "positive_predictive_value": {"Bayes' rule": ppv_bayes, "expected counts": ppv_counts,
                                  "odds form": ppv_odds, "tensors": ppv_tensor,
                                  "torch float32": ppv_float32,
                                  "float32 0-d tensor": ppv_float32_tensor,
                                  "NumPy float32": lambda s, c, p: np.float32(
                                      ppv_bayes(s, c, p)),
                                  "rounded to 6 decimals": lambda s, c, p: round(
                                      ppv_bayes(s, c, p), 6)},
    "out_of_fold": {"sample std": oof_ok, "population std, empty": oof_population_std,
                    "StandardScaler and NumPy": oof_scaler},
    "net_benefit": {"torch": net_benefit_ok, "NumPy": net_benefit_numpy},
    "recalibration": {"Linear(1, 1) with train.fit": platt_fit,
                      "Linear(1, 1) with LBFGS": platt_lbfgs,
                      "scikit-learn coefficients": platt_sklearn,
                      "regularised, as a function": platt_sklearn_regularised},
}

MUTANTS = {
    "positive_predictive_value": {
        "prevalence ignored": lambda s, c, p: s / (s + 1 - c),
        "specificity for its complement": lambda s, c, p: s * p / (s * p + c * (1 - p)),
        "negative predictive value": lambda s, c, p: c * (1 - p) / (
            c * (1 - p) + (1 - s) * p),
        "prevalence swapped": lambda s, c, p: ppv_bayes(s, c, 1 - p),
        "numerator only": lambda s, c, p: s * p,
        "the sensitivity itself": lambda s, c, p: s,
    },
    "out_of_fold": {
        "the given code, unfixed": oof_buggy,
        "only the scaler fixed": oof_scaler_fixed_only,
        "only the fit fixed": oof_fit_fixed_only,
        "held-out rows on their own statistics": oof_held_rows_own_statistics,
        "predictions in fold order": oof_in_order,
        "an integer tensor filled": oof_integer_tensor,
    },
    "net_benefit": {
        "no weight on false positives": lambda p, y, t: net_benefit_weighted(p, y, t, 1.0),
        "odds inverted": lambda p, y, t: net_benefit_weighted(p, y, t, (1 - t) / t),
        "divided by the positives": lambda p, y, t: net_benefit_ok(p, y, t) * len(y)
        / int((y == 1).sum()),
        "strict inequality": lambda p, y, t: net_benefit_weighted(p, y, t, t / (1 - t),
                                                                  strict=True),
        "accuracy-like": lambda p, y, t: (((p >= t) == (y == 1)).double().mean()).item(),
    },
    "recalibration": {
        "unchanged": unchanged,
        "classes swapped": swapped_classes,
        "bias only": bias_only,
        "divides by the slope": divides_by_slope,
        "returns probabilities": returns_probabilities,
        "temperature scaling (a slope, no shift)": temperature,
        "a fresh logistic regression, ignoring the model": fresh_logistic_regression,
        "the whole network fine-tuned": fine_tuned,
        "a fixed slope, nothing fitted": fixed_slope,
        "loads all 569 masses": loads_every_mass,
        "loads them through scikit-learn": loads_through_scikit_learn,
        "the model's own probabilities": lambda m, X, y: lambda Z: torch.sigmoid(m(Z)),
        "an under-trained Platt layer, outputs in [0, 1]": platt_undertrained,
        "an under-trained Platt layer, slope negative": lambda m, X, y:
        platt_undertrained(m, X, y, seed=3),
    },
}


@pytest.mark.parametrize("label, hint", [
    ("prevalence ignored", "does not depend on the prevalence"),
    ("specificity for its complement", "probability 1 - specificity, not specificity"),
    ("negative predictive value", "the negative predictive value"),
    ("prevalence swapped", "share of malignant masses, not of benign"),
    ("numerator only", "share of ALL masses"),
    ("the sensitivity itself", "that is the sensitivity"),
    ("half the right value", "Picture 10,000 masses"),
])
def test_the_ppv_check_names_each_mistake_without_the_formula(label, hint):
    from mlpbook import check

    mutants = dict(MUTANTS["positive_predictive_value"],
                   **{"half the right value": lambda s, c, p: ppv_bayes(s, c, p) / 2})
    with pytest.raises(check.CheckFailed) as failed:
        check.positive_predictive_value(mutants[label])
    text = " ".join(str(failed.value).split())
    assert hint in text
    assert "prevalence x sensitivity" not in text and "over the sum" not in text


def test_the_out_of_fold_check_names_an_integer_tensor():
    from mlpbook import check

    with pytest.raises(check.CheckFailed, match="integer dtype"):
        check.out_of_fold(oof_integer_tensor)


def test_the_base_models_of_the_recalibration_check_are_under_confident():
    """The exercise's premise: label smoothing keeps the probabilities away from 0 and 1,
    so that a recalibration has something to repair."""
    from mlpbook.check import ch11

    for model, X_cal, _, X_held, _ in ch11._base_models():
        probs = torch.sigmoid(logits_of(model, torch.cat([X_cal, X_held])))
        confidence = torch.maximum(probs, 1 - probs)  # the larger class probability
        assert confidence.median().item() < 0.85 and confidence.max().item() < 0.99


def test_the_base_models_never_see_their_held_out_or_calibration_masses():
    from mlpbook import data
    from mlpbook.check import ch11

    X, _ = data.load_breast_cancer()
    held_out = [X_held for *_, X_held, _ in ch11._base_models()]
    assert sum(len(h) for h in held_out) == len(X)  # every mass held out exactly once
    for model, X_cal, _, X_held, _ in ch11._base_models():
        fit_rows = len(X) - len(X_cal) - len(X_held)
        mean = model[0].mean
        # The standardisation was fitted on the other rows: their mean, not all rows'.
        total = X.sum(dim=0) - X_cal.sum(dim=0) - X_held.sum(dim=0)
        assert torch.allclose(mean, total / fit_rows, atol=1e-3)


@pytest.mark.parametrize("mutant, hint", [
    (temperature, "A slope alone cannot undo a shift"),
    (bias_only, "A shift alone cannot undo a slope"),
    (fresh_logistic_regression, "must not change which mass scores higher"),
    (loads_every_mass, "holds the data back"),
    (returns_probabilities, "not probabilities"),
    (lambda m, X, y: lambda Z: torch.sigmoid(m(Z)), "not probabilities"),
    (platt_undertrained, "train it to convergence"),
    (lambda m, X, y: platt_undertrained(m, X, y, seed=3), "a < 0"),
    (swapped_classes, "a < 0"),
])
def test_the_recalibration_check_names_the_mistake(mutant, hint):
    from mlpbook import check

    with pytest.raises(check.CheckFailed) as failed:
        check.recalibration(mutant)
    # Verdicts wrap at 80 columns: compare with the line breaks made spaces.
    assert hint in " ".join(str(failed.value).split())


def test_the_recalibration_check_restores_the_loaders_it_holds_back():
    import sklearn.datasets
    from sklearn.datasets import _base

    from mlpbook import check, data

    before = (data.load_breast_cancer, sklearn.datasets.load_breast_cancer,
              _base.load_breast_cancer, _base.load_csv_data)
    with pytest.raises(check.CheckFailed):
        check.recalibration(loads_through_scikit_learn)
    assert before == (data.load_breast_cancer, sklearn.datasets.load_breast_cancer,
                      _base.load_breast_cancer, _base.load_csv_data)
    assert data.load_breast_cancer()[0].shape == (569, 30)


@pytest.mark.parametrize("seed", [0, 1])
def test_the_exercise_model_trains_deterministically(seed):
    from mlpbook import data
    from mlpbook.check import ch11

    X, y = data.load_breast_cancer()
    a = ch11.train_smoothed_mlp(X[:200], y[:200], seed)
    utils.set_seed(123)  # another global state
    b = ch11.train_smoothed_mlp(X[:200], y[:200], seed)
    assert torch.equal(logits_of(a, X), logits_of(b, X))


def test_the_check_trains_the_same_model_as_the_exercise_shows():
    """The exercise shows train_smoothed_mlp; the check has its own copy. Both must
    train the same model, or the check would judge a model the learner never saw."""
    from conftest import ROOT, read

    from mlpbook import data
    from mlpbook.check import ch11

    nb = read(ROOT / "solutions" / "11_healthcare_diagnostics.ipynb")
    source = next(c.source for c in nb.cells
                  if c.cell_type == "code" and "def train_smoothed_mlp" in c.source)
    namespace = {"torch": torch, "train": train, "utils": utils}
    exec(source, namespace)
    X, y = data.load_breast_cancer()
    shown = namespace["train_smoothed_mlp"](X[:300], y[:300], 3)
    checked = ch11.train_smoothed_mlp(X[:300], y[:300], 3)
    assert torch.equal(logits_of(shown, X), logits_of(checked, X))
