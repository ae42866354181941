"""Checks for Chapter 5, "Backpropagation".

Every reference gradient here comes from ``torch.autograd`` in float64, so a
check compares the learner's hand-written backward pass with PyTorch's.
Conventions of the chapter: inputs ``X`` (n, d), weights ``W`` (d_in, d_out)
used as ``X @ W + b``, integer labels ``y`` (n,), mean cross-entropy.
"""

from __future__ import annotations

import torch

from ._common import callable_, close, ok, require, run, tensor_like

__all__ = ["neuron_gradients", "linear_backward", "softmax_cross_entropy_backward",
           "relu_mlp_backward", "central_difference"]

F64 = torch.float64


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _pair(out, what: str):
    require(isinstance(out, tuple) and len(out) == 2, f"return a pair {what}.")
    return out


def _scalar(value, expected: torch.Tensor, what: str, hint: str) -> None:
    require(isinstance(value, (torch.Tensor, float)),
            f"{what} should be a tensor (or a float), not a {type(value).__name__}.")
    close(torch.as_tensor(value, dtype=F64).reshape(()), expected.reshape(()), what, hint,
          atol=1e-8)


def neuron_gradients(fn) -> None:
    """Check ``neuron_gradients(x, w, b, t)`` -> ``(L, dL/dw, dL/db)``.

    ``L = (tanh(w . x + b) - t)**2 / 2`` for ``x``, ``w`` of shape (d,) and 0-D
    ``b``, ``t``.
    """
    callable_(fn)
    g = _gen(5)
    cases = [(torch.randn(3, generator=g, dtype=F64), torch.randn(3, generator=g, dtype=F64),
              torch.tensor(0.2, dtype=F64), torch.tensor(1.0, dtype=F64), "d = 3"),
             (torch.tensor([2.0], dtype=F64), torch.tensor([-0.4], dtype=F64),
              torch.tensor(0.1, dtype=F64), torch.tensor(-1.0, dtype=F64), "d = 1"),
             (torch.tensor([1.5, -0.5], dtype=F64), torch.tensor([0.8, 1.1], dtype=F64),
              torch.tensor(-0.3, dtype=F64), torch.tensor(0.25, dtype=F64), "d = 2")]
    for x, w, b, t, what in cases:
        wl, bl = w.clone().requires_grad_(True), b.clone().requires_grad_(True)
        L = 0.5 * (torch.tanh(x @ wl + bl) - t) ** 2
        L.backward()
        out = run(fn, x.clone(), w.clone(), b.clone(), t.clone(), what=f"a neuron with {what}")
        require(isinstance(out, tuple) and len(out) == 3, "return a triple (L, dL_dw, dL_db).")
        _scalar(out[0], L.detach(), "L", "the forward pass is tanh(w . x + b), then "
                "(h - t)**2 / 2; check the factor 1/2.")
        close(out[1], wl.grad, "dL/dw", "multiply the upstream gradient dL/dh by tanh's local "
              "derivative, then by what multiplies w in the weighted sum.", atol=1e-8)
        _scalar(out[2], bl.grad, "dL/db", "the bias enters the sum with coefficient 1.")
    ok("neuron_gradients: loss and gradients match autograd on 3 neurons.")


def linear_backward(fn) -> None:
    """Check ``linear_backward(X, W, grad_out)`` -> ``(grad_X, grad_W, grad_b)``.

    The layer is ``out = X @ W + b`` with ``X`` (n, d_in), ``W`` (d_in, d_out); ``grad_out``
    is dL/d(out), of shape (n, d_out).
    """
    callable_(fn)
    g = _gen(7)
    for n, d_in, d_out in [(5, 3, 4), (1, 2, 3), (6, 4, 1)]:
        X = torch.randn(n, d_in, generator=g, dtype=F64).requires_grad_(True)
        W = torch.randn(d_in, d_out, generator=g, dtype=F64).requires_grad_(True)
        b = torch.randn(d_out, generator=g, dtype=F64).requires_grad_(True)
        grad_out = torch.randn(n, d_out, generator=g, dtype=F64)
        (X @ W + b).backward(grad_out)
        what = f"n = {n}, d_in = {d_in}, d_out = {d_out}"
        out = run(fn, X.detach().clone(), W.detach().clone(), grad_out.clone(), what=what)
        require(isinstance(out, tuple) and len(out) == 3,
                "return a triple (grad_X, grad_W, grad_b).")
        close(out[0], X.grad, "grad_X", f"grad_X has X's shape; which product of grad_out "
              f"and W gives it? ({what})", atol=1e-10)
        close(out[1], W.grad, "grad_W", f"grad_W has W's shape and sums over the n rows of "
              f"the batch ({what}).", atol=1e-10)
        close(out[2], b.grad, "grad_b", f"b is added to every row, so its gradient collects "
              f"every row's contribution ({what}).", atol=1e-10)
    ok("linear_backward: the three gradients match autograd, including n = 1 and d_out = 1.")


def _ce_cases():
    g = _gen(11)
    return [(torch.randn(6, 3, generator=g, dtype=F64), torch.tensor([0, 2, 1, 1, 0, 2]),
             "6 rows, 3 classes"),
            (torch.tensor([[1000.0, 0.0, -1000.0], [0.0, 800.0, 801.0]], dtype=F64),
             torch.tensor([0, 1]), "very large logits"),
            (torch.randn(1, 4, generator=g, dtype=F64), torch.tensor([3]), "a single row")]


def softmax_cross_entropy_backward(fn) -> None:
    """Check ``softmax_cross_entropy_backward(logits, y)`` -> ``(loss, grad_logits)``.

    ``loss`` is the mean cross-entropy of ``logits`` (n, C) against labels ``y`` (n,).
    """
    callable_(fn)
    for logits, y, what in _ce_cases():
        leaf = logits.clone().requires_grad_(True)
        loss = torch.nn.functional.cross_entropy(leaf, y)
        loss.backward()
        out = _pair(run(fn, logits.clone(), y.clone(), what=what), "(loss, grad_logits)")
        _scalar(out[0], loss.detach(), "the loss",
                f"average -log p[i, y_i] over the rows; subtract each row's largest logit "
                f"before exponentiating so that it cannot overflow ({what}).")
        close(out[1], leaf.grad, "grad_logits", f"the gradient compares the predicted "
              f"probabilities with the one-hot labels; mind the mean over rows ({what}).",
              atol=1e-10)
    ok("softmax_cross_entropy_backward: correct, and stable for logits of 1000.")


def relu_mlp_backward(fn) -> None:
    """Check ``relu_mlp_backward(X, y, W1, b1, W2, b2)`` -> ``(loss, grads)``.

    The network is ``logits = relu(X @ W1 + b1) @ W2 + b2`` with mean cross-entropy;
    ``grads`` is a dict with keys ``"W1", "b1", "W2", "b2"``.
    """
    callable_(fn)
    g = _gen(13)
    for n, d, h, c in [(8, 2, 5, 3), (1, 3, 4, 2), (10, 4, 6, 4)]:
        X = torch.randn(n, d, generator=g, dtype=F64)
        y = torch.randint(0, c, (n,), generator=g)
        params = {"W1": torch.randn(d, h, generator=g, dtype=F64),
                  "b1": 0.5 * torch.randn(h, generator=g, dtype=F64),
                  "W2": torch.randn(h, c, generator=g, dtype=F64),
                  "b2": 0.5 * torch.randn(c, generator=g, dtype=F64)}
        leaf = {k: v.clone().requires_grad_(True) for k, v in params.items()}
        hidden = torch.relu(X @ leaf["W1"] + leaf["b1"])
        loss = torch.nn.functional.cross_entropy(hidden @ leaf["W2"] + leaf["b2"], y)
        loss.backward()
        what = f"n = {n}, d = {d}, h = {h}, c = {c}"
        out = _pair(run(fn, X.clone(), y.clone(), *(v.clone() for v in params.values()),
                        what=what), "(loss, grads)")
        _scalar(out[0], loss.detach(), "the loss", f"the forward pass uses relu, then mean "
                f"cross-entropy ({what}).")
        grads = out[1]
        require(isinstance(grads, dict) and set(grads) == set(params),
                'return the gradients as a dict with keys "W1", "b1", "W2", "b2".')
        hints = {"W2": "dW2 combines the hidden activations with dL/dlogits.",
                 "b2": "sum dL/dlogits over the rows of the batch.",
                 "W1": "go back through W2, then through relu's derivative (1 where the "
                       "pre-activation is positive, else 0), then combine with X.",
                 "b1": "sum dL/dZ1 over the rows; Z1 is the pre-activation."}
        for name in ("W2", "b2", "W1", "b1"):
            close(grads[name], leaf[name].grad, f'grads["{name}"]', f"{hints[name]} ({what})",
                  atol=1e-10)
    ok("relu_mlp_backward: loss and all four gradients match autograd on 3 networks.")


def _cubic(x):
    return (x**3).sum() + 2.0 * x.prod()


def central_difference(fn) -> None:
    """Check ``central_difference(f, x, eps)``: the gradient of ``f`` at ``x``, shaped like ``x``.

    ``f`` maps a float64 tensor to a 0-D tensor; ``x`` must be left unchanged.
    """
    callable_(fn)
    g = _gen(17)
    cases = [(_cubic, torch.randn(4, generator=g, dtype=F64), 1e-4, "f(x) = sum(x^3) + 2 prod(x)"),
             (lambda x: torch.sin(x).sum() * x[0, 0], torch.randn(2, 3, generator=g, dtype=F64),
              1e-4, "a function of a (2, 3) tensor"),
             (lambda x: (x**2).sum(), torch.tensor([3.0], dtype=F64), 1e-3, "f(x) = x^2 at 3")]
    for f, x, eps, what in cases:
        leaf = x.clone().requires_grad_(True)
        f(leaf).backward()
        x_in = x.clone()
        out = run(fn, f, x_in, eps, what=what)
        require(torch.equal(x_in, x), "leave x unchanged: nudge a copy, or undo each nudge.")
        value = tensor_like(out, x, "the gradient")
        require(torch.allclose(value, leaf.grad, atol=1e-6, rtol=0),
                f"nudge each entry by +eps and by -eps, one at a time, and divide the change "
                f"in f by the distance between the two points ({what}).")
    ok("central_difference: second-order accurate on 3 functions, x left unchanged.")
