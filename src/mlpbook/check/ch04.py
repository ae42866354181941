"""Checks for Chapter 4, "From perceptrons to multilayer perceptrons".

Conventions of the chapter: a batch ``X`` has shape (n, d_0); an MLP's
parameters are a list of pairs ``(W, b)`` with ``W`` of shape (d_in, d_out)
and ``b`` of shape (d_out,); hidden layers use ReLU and the output layer has
no activation, so ``H = relu(H @ W + b)`` and ``logits = H @ W_L + b_L``.
``torch.nn.Linear`` stores the transposed weight, of shape (d_out, d_in).
"""

from __future__ import annotations

import torch
from torch import nn

from ._common import callable_, close, ok, require, run

__all__ = ["mlp_forward", "mlp_parameter_count", "layer_shapes", "xor_weights",
           "to_sequential"]

_SIZES = ([3, 5, 2], [2, 4, 4, 1], [4, 3], [2, 8, 6, 5, 3])


def _params(sizes, seed):
    gen = torch.Generator().manual_seed(seed)
    return [(torch.randn(a, b, generator=gen, dtype=torch.float64),
             torch.randn(b, generator=gen, dtype=torch.float64))
            for a, b in zip(sizes[:-1], sizes[1:])]


def _forward(X, params):
    H = X
    for W, b in params[:-1]:
        H = torch.relu(H @ W + b)
    W, b = params[-1]
    return H @ W + b


def mlp_forward(fn) -> None:
    """Check ``mlp_forward(X, params)``: ReLU hidden layers, a linear output layer."""
    callable_(fn)
    for k, sizes in enumerate(_SIZES):
        params = _params(sizes, seed=k)
        X = torch.randn(7, sizes[0], generator=torch.Generator().manual_seed(10 + k),
                        dtype=torch.float64)
        out = run(fn, X.clone(), params, what=f"an MLP with sizes {sizes}")
        close(out, _forward(X, params), f"mlp_forward for sizes {sizes}",
              f"for sizes {sizes}: multiply by each W on the right, add its b, apply ReLU "
              "after every layer except the last, which gives the logits as they are.",
              atol=1e-9)
    ok("mlp_forward: correct for 4 networks, from no hidden layer to three.")


def mlp_parameter_count(fn) -> None:
    """Check ``mlp_parameter_count(sizes)``: weights and biases of all layers."""
    callable_(fn)
    for sizes in _SIZES + ([784, 256, 128, 10], [1, 1], [10, 1, 10]):
        layers = [nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])]
        expected = sum(p.numel() for layer in layers for p in layer.parameters())
        out = run(fn, list(sizes), what=f"sizes {sizes}")
        require(isinstance(out, int) or (isinstance(out, torch.Tensor) and out.numel() == 1),
                f"return a whole number, not {type(out).__name__}.")
        require(int(out) == expected,
                f"for sizes {sizes} the count is off: each layer has a weight for every "
                "pair (input, unit) and one bias per unit.")
    ok("mlp_parameter_count: agrees with PyTorch's count for 7 networks.")


def layer_shapes(fn) -> None:
    """Check ``layer_shapes(n, sizes)``: the shape of X and of every layer's output."""
    callable_(fn)
    for n, sizes in [(5, [2, 16, 16, 1]), (1, [3, 4]), (32, [784, 256, 10])]:
        out = run(fn, n, list(sizes), what=f"n = {n}, sizes {sizes}")
        require(isinstance(out, list), f"return a list of shapes, not {type(out).__name__}.")
        shapes = [tuple(s) for s in out]
        require(len(shapes) == len(sizes),
                f"for {len(sizes)} sizes return {len(sizes)} shapes: the input and one per "
                "layer.")
        require(shapes == [(n, d) for d in sizes],
                f"for n = {n} and sizes {sizes}: a batch keeps its n rows through every "
                "layer; each layer sets the number of columns.")
    ok("layer_shapes: correct for 3 networks, including a batch of one.")


def _step(z):
    return (z >= 0).to(z.dtype)


def xor_weights(fn) -> None:
    """Check ``xor_weights()``: ``(W1, b1, W2, b2)`` of a 2-2-1 step network computing XOR."""
    callable_(fn)
    out = run(fn, what="no arguments")
    require(isinstance(out, tuple) and len(out) == 4, "return a tuple (W1, b1, W2, b2).")
    W1, b1, W2, b2 = (torch.as_tensor(t, dtype=torch.float64) for t in out)
    for name, value, shape in [("W1", W1, (2, 2)), ("b1", b1, (2,)), ("W2", W2, (2, 1)),
                               ("b2", b2, (1,))]:
        require(tuple(value.shape) == shape,
                f"{name} should have shape {shape}, but it has {tuple(value.shape)}.")
    corners = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    target = torch.tensor([0.0, 1.0, 1.0, 0.0], dtype=torch.float64)
    offsets = torch.tensor([[0.0, 0.0], [0.05, 0.05], [-0.05, 0.05], [0.05, -0.05],
                            [-0.05, -0.05]], dtype=torch.float64)
    for offset in offsets:
        X = corners + offset
        predicted = _step(_step(X @ W1 + b1) @ W2 + b2).reshape(-1)
        require(torch.equal(predicted, target),
                "the network should output 0, 1, 1, 0 for (0,0), (0,1), (1,0), (1,1), also "
                "0.05 away from each corner. Let one hidden unit compute OR and the other "
                "NAND, and the output unit combine them; keep the lines away from the "
                "corners.")
    ok("xor_weights: the network computes XOR at and near the four corners.")


def to_sequential(fn) -> None:
    """Check ``to_sequential(params)``: an ``nn.Sequential`` computing ``mlp_forward``."""
    callable_(fn)
    for k, sizes in enumerate(_SIZES):
        params = [(W.float(), b.float()) for W, b in _params(sizes, seed=20 + k)]
        model = run(fn, params, what=f"parameters of sizes {sizes}")
        require(isinstance(model, nn.Sequential),
                f"return a torch.nn.Sequential, not {type(model).__name__}.")
        count = sum(p.numel() for p in model.parameters())
        expected_count = sum(W.numel() + b.numel() for W, b in params)
        require(count == expected_count,
                f"for sizes {sizes} the model has {count} parameters instead of "
                f"{expected_count}: use one nn.Linear per pair (W, b).")
        X = torch.randn(6, sizes[0], generator=torch.Generator().manual_seed(k))
        with torch.no_grad():
            out = run(model, X, what=f"your model on a batch of sizes {sizes}")
        close(out, _forward(X.double(), [(W.double(), b.double()) for W, b in params]),
              f"the output of your model for sizes {sizes}",
              "copy each W into an nn.Linear (mind that nn.Linear stores the weight "
              "transposed) and each b into its bias, with ReLU between the layers only.",
              atol=1e-4)
    ok("to_sequential: same outputs as the matrix forward pass for 4 networks.")
