"""Checks for Chapter 7, "MLPs in PyTorch, in practice".

The references are PyTorch's own modules and optimisers: ``nn.Linear``,
``torch.optim.SGD`` and ``torch.optim.AdamW``, run on the same tensors.
"""

from __future__ import annotations

import torch
from torch import nn

from ._common import callable_, close, ok, require, run, tensor_like

__all__ = ["mlp_from_sizes", "he_init", "momentum_step", "adamw_step", "inverted_dropout"]

F64 = torch.float64


def mlp_from_sizes(fn) -> None:
    """Check ``mlp_from_sizes(sizes)``: an ``nn.Sequential`` of Linear layers with ReLU between.

    ``sizes = [n_in, hidden..., n_out]``; no activation after the last layer.
    """
    callable_(fn)
    for sizes in ([2, 8, 3], [4, 16, 16, 2], [5, 1], [3, 7, 5, 4, 2]):
        model = run(fn, list(sizes), what=f"sizes = {sizes}")
        require(isinstance(model, nn.Sequential), "return an nn.Sequential.")
        kinds = [type(m) for m in model]
        expected = [nn.Linear, nn.ReLU] * (len(sizes) - 2) + [nn.Linear]
        require(kinds == expected, f"for sizes = {sizes} the layers should alternate Linear and "
                "ReLU, and the model should end with a Linear layer (it outputs logits).")
        linears = [m for m in model if isinstance(m, nn.Linear)]
        shapes = [(m.in_features, m.out_features) for m in linears]
        require(shapes == list(zip(sizes, sizes[1:])), f"for sizes = {sizes} layer k should map "
                "sizes[k] features to sizes[k + 1].")
        out = run(model, torch.randn(6, sizes[0]), what=f"a batch of 6 rows, sizes = {sizes}")
        require(tuple(out.shape) == (6, sizes[-1]), "the output should have shape "
                "(batch, sizes[-1]).")
    ok("mlp_from_sizes: the right layers, shapes and output for 4 architectures.")


def he_init(fn) -> None:
    """Check ``he_init_(model)``: He-normal weights and zero biases in every ``nn.Linear``."""
    callable_(fn)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(400, 300), nn.ReLU(), nn.Linear(300, 600), nn.ReLU(),
                          nn.Linear(600, 10))
    layers = [m for m in model if isinstance(m, nn.Linear)]
    ids = [id(m.weight) for m in layers]
    out = run(fn, model, what="a model with layers 400 -> 300 -> 600 -> 10")
    require(out is model or out is None, "initialise the model in place (and return it).")
    require([id(m.weight) for m in layers] == ids,
            "change the existing weights in place (nn.init functions do) rather than replacing "
            "the parameters.")
    for layer in layers:
        expected = (2.0 / layer.in_features) ** 0.5
        std = layer.weight.detach().std().item()
        mean = layer.weight.detach().mean().item()
        require(abs(std / expected - 1) < 0.08 and abs(mean) < 0.1 * expected,
                f"a Linear({layer.in_features}, {layer.out_features}) layer has weights with "
                f"standard deviation {std:.4f}: He initialisation keeps the variance of the "
                "signal through ReLU; which of the two sizes does it depend on?")
        require(bool((layer.bias == 0).all()), "set every bias to zero.")
    ok("he_init: weights with the He standard deviation in all 3 layers, biases zero.")


def momentum_step(fn) -> None:
    """Check ``momentum_step(param, grad, velocity, lr, momentum)`` -> ``(param, velocity)``.

    The rule is PyTorch's: ``velocity = momentum * velocity + grad``,
    ``param = param - lr * velocity``, with the velocity starting at zero.
    """
    callable_(fn)
    g = torch.Generator().manual_seed(3)
    for lr, mu in [(0.1, 0.9), (0.05, 0.5), (0.2, 0.0)]:
        start = torch.randn(4, generator=g, dtype=F64)
        grads = [torch.randn(4, generator=g, dtype=F64) for _ in range(5)]
        ref = start.clone().requires_grad_(True)
        opt = torch.optim.SGD([ref], lr=lr, momentum=mu)
        param, velocity = start.clone(), torch.zeros(4, dtype=F64)
        for step, grad in enumerate(grads, start=1):
            ref.grad = grad.clone()
            opt.step()
            out = run(fn, param, grad.clone(), velocity, lr, mu,
                      what=f"step {step} with lr = {lr}, momentum = {mu}")
            require(isinstance(out, tuple) and len(out) == 2, "return a pair (param, velocity).")
            param, velocity = out
            close(param, ref.detach(), f"the parameter after step {step}",
                  f"after {step} steps with lr = {lr} and momentum = {mu} the parameter differs "
                  "from torch.optim.SGD's: the velocity keeps momentum times its old value plus "
                  "the whole new gradient, and the parameter moves against the velocity.",
                  atol=1e-10)
    ok("momentum_step: the same 5 steps as torch.optim.SGD for 3 settings, including momentum 0.")


def adamw_step(fn) -> None:
    """Check ``adamw_step(param, grad, m, v, t, lr, betas, eps, weight_decay)``.

    It returns ``(param, m, v)``; ``t`` counts steps from 1; the rule is
    ``torch.optim.AdamW``'s.
    """
    callable_(fn)
    g = torch.Generator().manual_seed(5)
    for lr, wd in [(0.1, 0.5), (0.01, 0.0), (0.05, 0.01)]:
        betas, eps = (0.9, 0.999), 1e-8
        start = torch.randn(5, generator=g, dtype=F64)
        grads = [torch.randn(5, generator=g, dtype=F64) * 10 ** (k % 3 - 1) for k in range(6)]
        ref = start.clone().requires_grad_(True)
        opt = torch.optim.AdamW([ref], lr=lr, betas=betas, eps=eps, weight_decay=wd)
        param, m, v = start.clone(), torch.zeros(5, dtype=F64), torch.zeros(5, dtype=F64)
        for t, grad in enumerate(grads, start=1):
            ref.grad = grad.clone()
            opt.step()
            out = run(fn, param, grad.clone(), m, v, t, lr, betas, eps, wd,
                      what=f"step t = {t}, lr = {lr}, weight_decay = {wd}")
            require(isinstance(out, tuple) and len(out) == 3, "return a triple (param, m, v).")
            param, m, v = out
            tensor_like(param, ref, "the parameter")
            require(torch.allclose(param.to(F64), ref.detach(), atol=1e-9, rtol=0),
                    f"at step t = {t} (lr = {lr}, weight_decay = {wd}) the parameter differs "
                    "from torch.optim.AdamW's: check the bias corrections of both averages, "
                    "where eps goes, and that the decay shrinks the parameter directly, before "
                    "the Adam step, rather than entering the gradient.")
    ok("adamw_step: the same 6 steps as torch.optim.AdamW for 3 settings.")


def inverted_dropout(fn) -> None:
    """Check ``inverted_dropout(x, p, training, generator)``.

    In training: draw ``u = torch.rand(x.shape, generator=generator)``, keep the entries with
    ``u >= p`` and scale them by ``1 / (1 - p)``; otherwise return ``x`` unchanged.
    """
    callable_(fn)
    g = torch.Generator().manual_seed(7)
    x = torch.randn(6, 8, generator=g)
    for p in (0.5, 0.2, 0.0, 0.9):
        u = torch.rand(x.shape, generator=torch.Generator().manual_seed(11))
        expected = torch.where(u >= p, x / (1 - p), torch.zeros_like(x))
        out = run(fn, x.clone(), p, True, torch.Generator().manual_seed(11),
                  what=f"training mode, p = {p}")
        close(out, expected, f"the output in training mode with p = {p}",
              "draw u with torch.rand and the generator given, keep the entries where "
              "u >= p, and scale the kept ones so that the expected output equals x.")
        out = run(fn, x.clone(), p, False, torch.Generator().manual_seed(11),
                  what=f"evaluation mode, p = {p}")
        close(out, x, "the output in evaluation mode", "in evaluation mode dropout does "
              "nothing.")
    ok("inverted_dropout: correct in both modes for p = 0, 0.2, 0.5 and 0.9.")
