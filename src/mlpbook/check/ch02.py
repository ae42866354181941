"""Checks for Chapter 2, "Loss functions and gradient descent".

Conventions of the chapter: losses take logits and targets and return the
mean over the batch as a 0-D tensor; binary targets are floats in {0, 1},
class targets are integer indices. Optimisers take a gradient function
``grad(w) -> tensor like w`` and a start ``w0`` of shape (d,), and return the
trajectory, a tensor of shape (steps + 1, d) whose first row is ``w0``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ._common import callable_, ok, require, run, tensor_like

__all__ = ["bce_with_logits", "cross_entropy_from_logits", "gradient_descent",
           "momentum_descent", "quadratic_rate"]


def _scalar(value, expected: torch.Tensor, what: str) -> torch.Tensor:
    require(isinstance(value, torch.Tensor),
            f"{what} should be a torch.Tensor, but it is a {type(value).__name__}.")
    return tensor_like(value.reshape(()) if value.numel() == 1 else value, expected, what)


def _loss_matches(value, expected, what, hint, dtype) -> None:
    value = _scalar(value, expected, what)
    require(bool(torch.isfinite(value)),
            f"{what} is inf or nan: do not take the logarithm of a sigmoid or softmax "
            "that has rounded to 0; work with the logits directly.")
    atol = 1e-9 if dtype == torch.float64 else 1e-4
    require(torch.allclose(value, expected.double(), atol=atol, rtol=1e-6), hint)


def bce_with_logits(fn) -> None:
    """Check ``bce_with_logits(logits, y)``: mean binary cross-entropy, stable for any logit."""
    callable_(fn)
    gen = torch.Generator().manual_seed(4)
    cases = [
        (torch.randn(50, generator=gen, dtype=torch.float64) * 3,
         torch.randint(0, 2, (50,), generator=gen).double(), "50 random logits"),
        (torch.tensor([0.0, 2.0, -3.0]), torch.tensor([1.0, 0.0, 1.0]), "3 small logits"),
        (torch.tensor([200.0, -200.0, 200.0, -200.0], dtype=torch.float64),
         torch.tensor([0.0, 1.0, 1.0, 0.0], dtype=torch.float64), "logits of +-200"),
        (torch.tensor([90.0, -90.0, 30.0]), torch.tensor([0.0, 1.0, 1.0]),
         "float32 logits of +-90"),
    ]
    for logits, y, what in cases:
        out = run(fn, logits.clone(), y.clone(), what=what)
        expected = F.binary_cross_entropy_with_logits(logits, y)
        _loss_matches(out, expected, f"the loss on {what}",
                      f"on {what} your loss differs from binary cross-entropy: average "
                      "-[y log p + (1 - y) log(1 - p)] over the batch, written with the "
                      "logits (softplus form).", logits.dtype)
    ok("bce_with_logits: matches PyTorch on 4 cases, logits of +-200 included.")


def cross_entropy_from_logits(fn) -> None:
    """Check ``cross_entropy_from_logits(logits, y)``: mean categorical cross-entropy."""
    callable_(fn)
    gen = torch.Generator().manual_seed(5)
    cases = [
        (torch.randn(40, 5, generator=gen, dtype=torch.float64) * 3,
         torch.randint(0, 5, (40,), generator=gen), "40 random rows of 5 logits"),
        (torch.tensor([[2.0, 1.0, 0.1]]), torch.tensor([0]), "one row"),
        (torch.tensor([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 0.0]], dtype=torch.float64),
         torch.tensor([2, 1]), "logits of +-1000"),
        (torch.tensor([[0.5, -0.5], [3.0, 3.0], [-2.0, 4.0]]), torch.tensor([1, 0, 0]),
         "two classes"),
    ]
    for logits, y, what in cases:
        out = run(fn, logits.clone(), y.clone(), what=what)
        expected = F.cross_entropy(logits, y)
        _loss_matches(out, expected, f"the loss on {what}",
                      f"on {what} your loss differs from cross-entropy: for each row take "
                      "the log-sum-exp of the logits minus the logit of the true class, "
                      "then average over the rows.", logits.dtype)
    ok("cross_entropy_from_logits: matches PyTorch on 4 cases, logits of 1000 included.")


_LAMBDAS = torch.tensor([1.0, 25.0], dtype=torch.float64)


def _grad_quad(w):
    return _LAMBDAS * w


def _grad_wells(w):
    return torch.stack([4 * w[0] * (w[0] ** 2 - 1) + 0.3, 2 * w[1]])


def _gd(grad, w0, lr, steps):
    w, out = w0.clone(), [w0.clone()]
    for _ in range(steps):
        w = w - lr * grad(w)
        out.append(w)
    return torch.stack(out)


def _momentum(grad, w0, lr, beta, steps):
    """Reference: torch.optim.SGD with momentum, step by step."""
    w = w0.clone().requires_grad_()
    optimizer = torch.optim.SGD([w], lr=lr, momentum=beta)
    out = [w0.clone()]
    for _ in range(steps):
        optimizer.zero_grad()
        w.grad = grad(w.detach()).clone()
        optimizer.step()
        out.append(w.detach().clone())
    return torch.stack(out)


def _trajectory(fn, args, expected, what, hint) -> None:
    w0 = args[1]
    start = w0.clone()
    out = run(fn, *args, what=what)
    require(torch.equal(w0, start), "do not change w0 in place; work on a copy.")
    value = tensor_like(out, expected, f"the trajectory for {what}")
    require(bool(torch.isfinite(value).all()) or not bool(torch.isfinite(expected).all()),
            f"the trajectory for {what} contains inf or nan.")
    require(torch.allclose(value, expected, atol=1e-9, rtol=1e-9), hint)


def gradient_descent(fn) -> None:
    """Check ``gradient_descent(grad, w0, lr, steps)``: the trajectory (steps + 1, d)."""
    callable_(fn)
    cases = [(_grad_quad, torch.tensor([-4.0, 1.5], dtype=torch.float64), 0.07, 30,
              "the quadratic with curvatures 1 and 25"),
             (_grad_wells, torch.tensor([0.5, 1.0], dtype=torch.float64), 0.05, 20,
              "a non-convex function"),
             (_grad_quad, torch.tensor([1.0, -1.0], dtype=torch.float64), 0.1, 0,
              "steps = 0")]
    for grad, w0, lr, steps, what in cases:
        _trajectory(fn, (grad, w0, lr, steps), _gd(grad, w0, lr, steps), what,
                    f"on {what} (lr = {lr}, {steps} steps) your trajectory differs: row 0 "
                    "is w0, and each next row moves against the gradient, scaled by lr. "
                    "Store a new tensor for each row.")
    ok("gradient_descent: correct trajectories on 3 cases, including 0 steps.")


def momentum_descent(fn) -> None:
    """Check ``momentum_descent(grad, w0, lr, beta, steps)`` against torch.optim.SGD."""
    callable_(fn)
    cases = [(_grad_quad, torch.tensor([-4.0, 1.5], dtype=torch.float64), 0.07, 0.5, 30,
              "the quadratic, beta = 0.5"),
             (_grad_quad, torch.tensor([-4.0, 1.5], dtype=torch.float64), 0.02, 0.9, 40,
              "the quadratic, beta = 0.9"),
             (_grad_wells, torch.tensor([0.5, 1.0], dtype=torch.float64), 0.05, 0.0, 10,
              "a non-convex function, beta = 0"),
             (_grad_wells, torch.tensor([-0.2, 0.3], dtype=torch.float64), 0.03, 0.7, 25,
              "a non-convex function, beta = 0.7")]
    for grad, w0, lr, beta, steps, what in cases:
        _trajectory(fn, (grad, w0, lr, beta, steps), _momentum(grad, w0, lr, beta, steps),
                    what, f"on {what} your trajectory differs from torch.optim.SGD with "
                    "momentum: start with a zero velocity, update the velocity with the "
                    "gradient at the current point, then step along the velocity.")
    ok("momentum_descent: same steps as torch.optim.SGD(momentum=beta) on 4 cases.")


def quadratic_rate(fn) -> None:
    """Check ``quadratic_rate(lr, eigenvalues)``: ``max_i |1 - lr * eigenvalues[i]|``."""
    callable_(fn)
    cases = [(0.07, [1.0, 25.0]), (0.01, [1.0, 25.0]), (0.09, [1.0, 25.0]),
             (0.5, [2.0]), (0.3, [0.5, 2.0, 6.0]), (2 / 26, [1.0, 25.0])]
    for lr, eigenvalues in cases:
        eig = torch.tensor(eigenvalues, dtype=torch.float64)
        out = run(fn, lr, eig.clone(), what=f"lr = {lr:.4g}, eigenvalues {eigenvalues}")
        number = isinstance(out, (int, float)) or (
            isinstance(out, torch.Tensor) and out.numel() == 1)
        require(number, f"return one number, not {type(out).__name__}.")
        expected = (1 - lr * eig).abs().max().item()
        require(math.isclose(float(out), expected, rel_tol=1e-9, abs_tol=1e-12),
                f"for lr = {lr:.4g} and eigenvalues {eigenvalues}: each direction multiplies "
                "its error by its own factor per step, and the slowest one sets the rate; "
                "a negative factor shrinks the error as much as a positive one of the same "
                "size.")
    ok("quadratic_rate: correct for 6 cases, stable and divergent ones included.")
