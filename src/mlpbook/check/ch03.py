"""Checks for Chapter 3, "Activation functions".

Conventions of the chapter: activation functions act element-wise on a tensor
``z`` of any shape and return a tensor of the same shape and dtype; linear
layers are ``torch.nn.Linear`` and compute ``X @ W.T + b``; logits have their
classes along the last dimension.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ._common import callable_, close, ok, require, run, tensor_like

__all__ = ["sigmoid_derivative", "leaky_relu", "gelu", "compose_linear", "stable_log_softmax",
           "dead_unit_fraction"]


def _grid() -> torch.Tensor:
    """float64 points on [-8, 8], points near 0 and 0 itself."""
    near = torch.tensor([1e-9, 1e-6, 1e-3], dtype=torch.float64)
    return torch.cat([torch.linspace(-8, 8, 161, dtype=torch.float64), near, -near,
                      torch.zeros(1, dtype=torch.float64)])


def _same_dtype(out, z, what: str) -> None:
    require(out.dtype == z.dtype,
            f"{what} should keep the dtype of z ({z.dtype}), not {out.dtype}.")


def sigmoid_derivative(fn) -> None:
    """Check ``sigmoid_derivative(z)``: the derivative of the sigmoid, element-wise."""
    callable_(fn)
    z = _grid()
    leaf = z.clone().requires_grad_()
    torch.sigmoid(leaf).sum().backward()
    out = run(fn, z.clone(), what="a float64 grid on [-8, 8]")
    close(out, leaf.grad, "sigmoid_derivative(z)",
          "compare with autograd: write the derivative in terms of sigma(z) itself.", atol=1e-12)
    _same_dtype(out, z, "sigmoid_derivative(z)")
    wide = torch.tensor([[-50.0, -20.0], [20.0, 50.0]])
    out = run(fn, wide, what="a (2, 2) float32 tensor with |z| up to 50")
    close(out, torch.sigmoid(wide) * (1 - torch.sigmoid(wide)), "sigmoid_derivative(z)",
          "far from 0 the derivative is tiny but finite: avoid expressions that overflow "
          "to inf or give nan.", atol=1e-9)
    ok("sigmoid_derivative: matches autograd on 168 points and stays finite for |z| = 50.")


def leaky_relu(fn) -> None:
    """Check ``leaky_relu(z, slope)``: ``z`` where ``z > 0``, else ``slope * z``."""
    callable_(fn)
    z = _grid()
    for slope in (0.01, 0.2, 0.0):
        out = run(fn, z.clone(), slope, what=f"a float64 grid with slope = {slope}")
        close(out, F.leaky_relu(z, slope), f"leaky_relu(z, {slope})",
              "positive inputs pass unchanged; only negative inputs are multiplied by the "
              "slope (and slope = 0 gives ReLU).", atol=1e-12)
        _same_dtype(out, z, "leaky_relu(z, slope)")
    block = torch.linspace(-3, 3, 12).reshape(3, 4)
    close(run(fn, block, 0.1, what="a (3, 4) tensor"), F.leaky_relu(block, 0.1),
          "leaky_relu(z, 0.1) on a (3, 4) input", "work element-wise on a tensor of any shape.")
    ok("leaky_relu: matches torch.nn.functional.leaky_relu for 3 slopes, including 0.")


def gelu(fn) -> None:
    """Check ``gelu(z)``: the exact GELU, ``z * Phi(z)`` with the normal CDF ``Phi``."""
    callable_(fn)
    z = _grid()
    out = run(fn, z.clone(), what="a float64 grid on [-8, 8]")
    close(out, F.gelu(z), "gelu(z)",
          "use the exact normal CDF, written with torch.erf; check the scaling of its "
          "argument. Approximations with tanh or the sigmoid are not exact enough.", atol=1e-9)
    _same_dtype(out, z, "gelu(z)")
    block = z[:12].reshape(3, 4).float()
    close(run(fn, block, what="a (3, 4) float32 tensor"), F.gelu(block), "gelu(z) on (3, 4)",
          "work element-wise on a tensor of any shape.", atol=1e-5)
    ok("gelu: matches torch.nn.functional.gelu to 1e-9 on 168 points.")


def _stack(sizes: list[int], seed: int) -> list[torch.nn.Linear]:
    torch.manual_seed(seed)
    return [torch.nn.Linear(a, b, dtype=torch.float64) for a, b in zip(sizes[:-1], sizes[1:])]


def compose_linear(fn) -> None:
    """Check ``compose_linear(layers)``: one ``(W, b)`` equal to a list of ``nn.Linear``."""
    callable_(fn)
    for sizes in ([3, 5, 2], [4, 6, 6, 3], [2, 7], [5, 4, 3, 2, 1]):
        layers = _stack(sizes, seed=len(sizes))
        X = torch.randn(9, sizes[0], dtype=torch.float64)
        with torch.no_grad():
            expected = X
            for layer in layers:
                expected = layer(expected)
            out = run(fn, layers, what=f"layers of sizes {sizes}")
        require(isinstance(out, tuple) and len(out) == 2, "return a pair (W, b).")
        W, b = out
        W = tensor_like(W, torch.empty(sizes[-1], sizes[0]), "W")
        b = tensor_like(b, torch.empty(sizes[-1]), "b")
        require(torch.allclose(X @ W.T + b, expected, atol=1e-9),
                f"with sizes {sizes}, X @ W.T + b differs from the stack. The last layer "
                "acts last, so its weight matrix is on the left of the product; every "
                "bias except the last passes through the layers after it.")
    ok("compose_linear: one layer equals stacks of 1 to 4 linear layers.")


def stable_log_softmax(fn) -> None:
    """Check ``stable_log_softmax(logits)`` along the last dimension, without overflow."""
    callable_(fn)
    gen = torch.Generator().manual_seed(2)
    cases = [
        (torch.tensor([1.0, 2.0, 3.0]), "a 1-D tensor of 3 logits"),
        (torch.randn(6, 4, generator=gen, dtype=torch.float64), "a (6, 4) float64 batch"),
        (torch.tensor([[1000.0, 1001.0, 1002.0], [-1000.0, 0.0, 1000.0]]),
         "logits in the thousands"),
        (torch.tensor([[0.0, -200.0], [-500.0, -800.0]]), "very negative logits"),
        (300 * torch.randn(2, 3, 5, generator=gen), "a (2, 3, 5) tensor of large logits"),
    ]
    for logits, what in cases:
        out = run(fn, logits.clone(), what=what)
        expected = torch.log_softmax(logits, dim=-1)
        value = tensor_like(out, expected, f"the log-softmax of {what}")
        require(bool(torch.isfinite(value).all()),
                f"on {what} your result contains inf or nan: shift the logits before "
                "taking the exponential.")
        scale = 1e-9 if logits.dtype == torch.float64 else 1e-6 * max(1.0, logits.abs().max())
        require(torch.allclose(value, expected.double(), atol=float(scale), rtol=0),
                f"on {what} your values differ from torch.log_softmax: every output is "
                "the logit minus the log of the sum of exponentials, taken along the last "
                "dimension.")
    ok("stable_log_softmax: matches torch.log_softmax on 5 cases, logits of 1000 included.")


def dead_unit_fraction(fn) -> None:
    """Check ``dead_unit_fraction(h)``: share of columns of ``h`` that are 0 in every row."""
    callable_(fn)
    h = torch.tensor([[0.0, 1.0, 0.0, 0.0, 2.0],
                      [0.0, 0.0, 0.0, 3.0, 0.5],
                      [0.0, 0.0, 0.0, 0.0, 1.0]])
    gen = torch.Generator().manual_seed(3)
    random = torch.relu(torch.randn(50, 40, generator=gen) - 1.5)
    cases = [(h, 0.4, "a (3, 5) example"), (torch.zeros(4, 3), 1.0, "all zeros"),
             (torch.ones(4, 3), 0.0, "all ones"), (h[:1], 0.6, "a batch of one row"),
             (random, float((random.amax(dim=0) == 0).float().mean()), "a (50, 40) batch")]
    for values, expected, what in cases:
        out = run(fn, values.clone(), what=what)
        number = isinstance(out, (int, float)) or (
            isinstance(out, torch.Tensor) and out.numel() == 1)
        require(number, f"return one number (a float or a 0-D tensor), not {type(out).__name__}.")
        value = float(out)
        require(math.isclose(value, expected, abs_tol=1e-6),
                f"on {what}: a unit (a column) is dead when it is 0 for every input (row); "
                "return the number of such units divided by the number of units.")
    ok("dead_unit_fraction: correct on 5 cases, including all-dead and none-dead.")
