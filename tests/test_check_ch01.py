"""Chapter 1: a correct answer and plausible wrong ones (mutants) for each check.

tests/test_checks.py feeds them to the checks."""

import torch


def step_ok(z):
    return (z >= 0).to(z.dtype)


def update_ok(w, b, x, t, lr):
    return (w + lr * t * x, b + lr * t) if t * (x @ w + b) <= 0 else (w, b)


def train_ok(X, t, epochs):
    w, b, mistakes = torch.zeros(X.shape[1], dtype=X.dtype), torch.zeros((), dtype=X.dtype), []
    for _ in range(epochs):
        count = 0
        for x_i, t_i in zip(X, t):
            if t_i * (x_i @ w + b) <= 0:
                w, b, count = w + t_i * x_i, b + t_i, count + 1
        mistakes.append(count)
        if count == 0:
            break
    return w, b, mistakes


def train_no_early_stop(X, t, epochs):
    w, b, mistakes = train_ok(X, t, epochs)
    return w, b, mistakes + [0] * 2


def train_ignores_bias(X, t, epochs):
    w, b, mistakes = torch.zeros(X.shape[1], dtype=X.dtype), torch.zeros((), dtype=X.dtype), []
    for _ in range(epochs):
        count = 0
        for x_i, t_i in zip(X, t):
            if t_i * (x_i @ w) <= 0:
                w, count = w + t_i * x_i, count + 1
        mistakes.append(count)
        if count == 0:
            break
    return w, b, mistakes


CORRECT = {
    "step": step_ok,
    "neuron": lambda X, w, b: step_ok(X @ w + b),
    "perceptron_update": update_ok,
    "train_perceptron": train_ok,
    "margin": lambda w, b, X, t: (t * (X @ w + b)).min() / w.norm(),
}

MUTANTS = {
    "step": {
        "strict inequality": lambda z: (z > 0).to(z.dtype),
        "returns booleans": lambda z: z >= 0,
        "sign instead of step": lambda z: torch.sign(z),
        "scalar only": lambda z: 1.0 if z.sum() >= 0 else 0.0,
    },
    "neuron": {
        "forgets the bias": lambda X, w, b: step_ok(X @ w),
        "subtracts the bias": lambda X, w, b: step_ok(X @ w - b),
        "raw sum, no step": lambda X, w, b: X @ w + b,
    },
    "perceptron_update": {
        "wrong sign": lambda w, b, x, t, lr: update_ok(w, b, -x, t, lr),
        "always updates": lambda w, b, x, t, lr: (w + lr * t * x, b + lr * t),
        "boundary not a mistake": lambda w, b, x, t, lr: (
            (w + lr * t * x, b + lr * t) if t * (x @ w + b) < 0 else (w, b)),
        "ignores the learning rate": lambda w, b, x, t, lr: update_ok(w, b, x, t, 1.0),
        "bias never changes": lambda w, b, x, t, lr: (update_ok(w, b, x, t, lr)[0], b),
    },
    "train_perceptron": {
        "does not stop early": train_no_early_stop,
        "ignores the bias": train_ignores_bias,
        "one epoch too few": lambda X, t, epochs: train_ok(X, t, 1),
    },
    "margin": {
        "not normalised": lambda w, b, X, t: (t * (X @ w + b)).min(),
        "largest instead of smallest": lambda w, b, X, t: (t * (X @ w + b)).max() / w.norm(),
        "absolute distance": lambda w, b, X, t: (X @ w + b).abs().min() / w.norm(),
        "returns zeros": lambda w, b, X, t: torch.zeros(()),
    },
}

# Each correct answer as its only variant, until the chapter lists its variants.
CORRECT = {name: {"reference": fn} for name, fn in CORRECT.items()}
