"""Checks for Chapter 1, "The perceptron".

Conventions of the chapter: inputs ``X`` (n, 2), weights ``w`` (2,), bias
``b`` a 0-D tensor, targets ``t`` (n,) in {-1, +1}, and the step function
``step(z) = 1 if z >= 0 else 0``.
"""

from __future__ import annotations

import torch

from ._common import callable_, close, ok, require, run, tensor_like

__all__ = ["step", "neuron", "perceptron_update", "train_perceptron", "margin"]

_Z = torch.tensor([-3.0, -1e-6, 0.0, 1e-6, 2.5])


def _step(z):
    return (z >= 0).to(z.dtype)


def _update(w, b, x, t, lr):
    if t * (x @ w + b) <= 0:
        return w + lr * t * x, b + lr * t
    return w, b


def _train(X, t, epochs):
    w, b, mistakes = torch.zeros(X.shape[1], dtype=X.dtype), torch.zeros((), dtype=X.dtype), []
    for _ in range(epochs):
        count = 0
        for x_i, t_i in zip(X, t):
            count += int(t_i * (x_i @ w + b) <= 0)
            w, b = _update(w, b, x_i, t_i, 1.0)
        mistakes.append(count)
        if count == 0:
            break
    return w, b, mistakes


def _cases():
    """Small separable sets with targets in {-1, +1}, including a point at the origin."""
    gen = torch.Generator().manual_seed(1)
    X = torch.randn(12, 2, generator=gen, dtype=torch.float64)
    X = X[(X @ torch.tensor([1.0, -2.0], dtype=torch.float64) + 0.3).abs() > 0.2]
    t = torch.where(X @ torch.tensor([1.0, -2.0], dtype=torch.float64) + 0.3 > 0, 1.0, -1.0)
    gate = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    return [(X, t), (gate, torch.tensor([-1.0, -1.0, -1.0, 1.0], dtype=torch.float64))]


def step(fn) -> None:
    """Check ``step(z)``: 1.0 where ``z >= 0``, else 0.0, same shape and dtype as ``z``."""
    callable_(fn)
    out = run(fn, _Z.clone(), what="z = [-3, -1e-6, 0, 1e-6, 2.5]")
    close(out, _step(_Z), "step(z)", "compare z with 0 element-wise; step(0) must be 1.")
    require(out.dtype == _Z.dtype, f"return the same dtype as z ({_Z.dtype}), not {out.dtype}.")
    grid = torch.linspace(-2, 2, 9).reshape(3, 3)
    close(run(fn, grid, what="a (3, 3) grid"), _step(grid), "step(z) on a (3, 3) input",
          "work element-wise on a tensor of any shape.")
    ok("step: correct, including step(0) = 1.")


def neuron(fn) -> None:
    """Check ``neuron(X, w, b)``: ``step(X @ w + b)``, shape (n,)."""
    callable_(fn)
    X, _ = _cases()[0]
    for w, b in [(torch.tensor([1.0, -2.0]), torch.tensor(0.3)),
                 (torch.tensor([0.0, 0.0]), torch.tensor(-1.0)),
                 (torch.tensor([-0.5, 0.25]), torch.tensor(0.0))]:
        Xf, w, b = X.float(), w.float(), b.float()
        out = run(fn, Xf, w, b, what=f"w = {w.tolist()}, b = {b.item()}")
        close(out, _step(Xf @ w + b), "neuron(X, w, b)",
              "form the weighted sum X @ w, add the bias b, then apply the step.")
    ok("neuron: correct on 3 weight settings, including w = 0.")


def perceptron_update(fn) -> None:
    """Check ``perceptron_update(w, b, x, t, lr)`` for one point; returns ``(w, b)``."""
    callable_(fn)
    w0, b0 = torch.tensor([0.5, -1.0]), torch.tensor(0.25)
    cases = [
        (torch.tensor([1.0, 2.0]), torch.tensor(1.0), 1.0, "a misclassified positive point"),
        (torch.tensor([1.0, 2.0]), torch.tensor(-1.0), 0.5, "a correctly classified point"),
        (torch.tensor([3.0, 0.0]), torch.tensor(-1.0), 0.5, "a misclassified negative point"),
        (torch.tensor([1.5, 1.0]), torch.tensor(1.0), 1.0, "a point exactly on the boundary"),
    ]
    for x, t, lr, what in cases:
        out = run(fn, w0.clone(), b0.clone(), x, t, lr, what=what)
        require(isinstance(out, tuple) and len(out) == 2, "return a pair (w, b).")
        w_ref, b_ref = _update(w0, b0, x, t, lr)
        close(out[0], w_ref, "the new w", f"check your rule on {what} (lr = {lr}).")
        close(torch.as_tensor(out[1]).reshape(()), b_ref.reshape(()), "the new b",
              f"the bias changes like a weight whose input is always 1 ({what}).")
    ok("perceptron_update: correct on 4 cases, including a point on the boundary.")


def train_perceptron(fn) -> None:
    """Check ``train_perceptron(X, t, epochs)``; returns ``(w, b, mistakes_per_epoch)``."""
    callable_(fn)
    for X, t in _cases():
        out = run(fn, X.clone(), t.clone(), 50, what=f"a separable set of {len(X)} points")
        require(isinstance(out, tuple) and len(out) == 3, "return (w, b, mistakes_per_epoch).")
        w, b, mistakes = out
        w_ref, b_ref, m_ref = _train(X, t, 50)
        require(list(map(int, mistakes)) == m_ref,
                "start from w = 0, b = 0, visit the points in order, count the updates of "
                "each epoch, and stop after the first epoch without a mistake.")
        close(w, w_ref, "w", "the final weights differ: check the update inside the loop.")
        close(torch.as_tensor(b).reshape(()), b_ref, "b", "the final bias differs.")
    ok("train_perceptron: same updates and weights as the reference on 2 data sets.")


def margin(fn) -> None:
    """Check ``margin(w, b, X, t)``: ``min_i t_i (x_i . w + b) / ||w||``, a 0-D tensor."""
    callable_(fn)
    for X, t in _cases():
        for w, b in [(torch.tensor([1.0, -2.0]), torch.tensor(0.3)),
                     (torch.tensor([3.0, -6.0]), torch.tensor(0.9)),
                     (torch.tensor([1.0, 1.0]), torch.tensor(-1.5))]:
            w, b = w.to(X.dtype), b.to(X.dtype)
            out = run(fn, w, b, X, t, what=f"w = {w.tolist()}")
            expected = (t * (X @ w + b)).min() / w.norm()
            value = tensor_like(torch.as_tensor(out).reshape(()), expected, "the margin")
            require(torch.allclose(value, expected, atol=1e-6),
                    "take the smallest signed distance t_i (x_i . w + b) / ||w|| over all "
                    "points; it is negative when a point is on the wrong side.")
    ok("margin: correct for 6 cases, scale-invariant, negative when a point is misclassified.")
