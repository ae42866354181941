"""Checks for Chapter 5, "Backpropagation".

Weights follow ``nn.Linear``'s convention, the book's: a layer computes
``X @ W.T + b`` with ``X`` of shape (n, d_in) and ``W`` of shape (d_out, d_in).
Labels ``y`` are class indices of shape (n,); losses are means over the batch.
Reference gradients come from ``torch.autograd`` in float64. Where an exercise
asks for gradients written by hand, the learner's code runs under
``torch.no_grad()`` (``run(..., no_grad=True)``), so that autograd is refused.
Each known mistake gets its own hint; no hint states the answer.
"""

from __future__ import annotations

import math
import numbers

import torch
import torch.nn.functional as F

from ._common import callable_, fail, ok, require, run

__all__ = ["linear_backward", "softmax_backward", "relu_mlp_backward",
           "central_difference", "engine_extension", "descend"]

F64 = torch.float64
BY_HAND = ("write the gradients from their formulas: autograd is switched off in "
           "this check (it runs your code under torch.no_grad()).")


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _sequence(out, length: int, what: str) -> tuple:
    require(isinstance(out, (tuple, list)) and len(out) == length,
            f"return {what}, a tuple of {length}.")
    return tuple(out)


def _as_f64(value, shape: tuple, what: str, case: str) -> torch.Tensor:
    require(isinstance(value, torch.Tensor),
            f"{what} should be a torch.Tensor, but it is a {type(value).__name__}.", case)
    if tuple(value.shape) != shape and tuple(value.shape) == shape[::-1] and \
            len(shape) == 2:
        fail(f"{what} should have shape {shape}, the shape of the tensor it belongs to: "
             f"entry [k, j] holds the derivative with respect to entry [k, j]. Yours is "
             f"{tuple(value.shape)}, laid out the other way round.", case)
    require(tuple(value.shape) == shape,
            f"{what} should have shape {shape}, but it has {tuple(value.shape)}.", case)
    return value.detach().to(F64)


def _same(a: torch.Tensor, b: torch.Tensor, atol: float = 1e-9) -> bool:
    return a.shape == b.shape and torch.allclose(a.to(F64), b.to(F64), atol=atol, rtol=1e-7)


def _diagnose(value: torch.Tensor, expected: torch.Tensor, wrong: dict, hint: str,
              case: str, atol: float = 1e-9) -> None:
    """Pass if ``value`` matches ``expected``; else fail with the hint of the first known
    wrong answer it matches (``wrong``: hint -> tensor), or with ``hint``."""
    if _same(value, expected, atol):
        return
    for wrong_hint, wrong_value in wrong.items():
        if _same(value, wrong_value, atol):
            fail(wrong_hint, case)
    fail(hint, case)


# ---------------------------------------------------------------------------------------
# Exercise 1: a linear layer, backwards


def linear_backward(fn) -> None:
    """Check ``linear_backward(X, W, grad_out)`` -> ``(grad_X, grad_W, grad_b)``.

    The layer is ``out = X @ W.T + b`` with ``X`` (n, d_in), ``W`` (d_out, d_in) and
    ``b`` (d_out,); ``grad_out`` is dL/d(out), of shape (n, d_out). Each gradient has the
    shape of its tensor. Runs under ``torch.no_grad()``.
    """
    callable_(fn)
    g = _gen(7)
    for n, d_in, d_out in [(5, 3, 4), (1, 2, 3), (6, 4, 1), (4, 3, 3)]:
        X = torch.randn(n, d_in, generator=g, dtype=F64).requires_grad_(True)
        W = torch.randn(d_out, d_in, generator=g, dtype=F64).requires_grad_(True)
        b = torch.randn(d_out, generator=g, dtype=F64).requires_grad_(True)
        grad_out = torch.randn(n, d_out, generator=g, dtype=F64)
        (X @ W.T + b).backward(grad_out)
        case = f"n = {n}, d_in = {d_in}, d_out = {d_out}"
        out = run(fn, X.detach().clone(), W.detach().clone(), grad_out.clone(), what=case,
                  hint="grad_X has X's shape (n, d_in), grad_W has W's shape (d_out, d_in) "
                       "and grad_b has b's shape (d_out,); " + BY_HAND, no_grad=True)
        grad_X, grad_W, grad_b = _sequence(out, 3, "(grad_X, grad_W, grad_b)")
        square, batch = d_in == d_out, n > 1
        value = _as_f64(grad_X, (n, d_in), "grad_X", case)
        wrong = {}
        if square:
            wrong["grad_X multiplies grad_out by W.T: that would be right if W were "
                  "stored as (d_in, d_out). Here W is (d_out, d_in); follow the index "
                  "form of the chain rule."] = grad_out @ W.detach().T
        _diagnose(value, X.grad, wrong,
                  "grad_X[i, j] collects the contribution of X[i, j] to every output "
                  "out[i, k]; which product of grad_out (n, d_out) and W (d_out, d_in) "
                  "adds them up?", case)
        value = _as_f64(grad_W, (d_out, d_in), "grad_W", case)
        wrong = {}
        if square:
            wrong["grad_W is laid out the other way round: entry [k, j] must hold the "
                  "derivative with respect to W[k, j], the weight from input j to "
                  "output k."] = W.grad.T
        if batch:
            wrong["your grad_W is divided by n: any mean over the batch is already "
                  "inside grad_out, so the rows are simply added up."] = W.grad / n
        _diagnose(value, W.grad, wrong, "W[k, j] enters out[i, k] in every row i, "
                  "multiplied by X[i, j]; add up those contributions over the batch.",
                  case)
        value = _as_f64(grad_b, (d_out,), "grad_b", case)
        wrong = {}
        if batch:
            wrong["your grad_b is the mean over the rows; b is added to every row, so "
                  "its gradient is the sum of the contributions of all rows."] = b.grad / n
        _diagnose(value, b.grad, wrong,
                  "b[k] is added to out[i, k] in every row i with coefficient 1.", case)
    ok("linear_backward: the three gradients match autograd, square layers included.")


# ---------------------------------------------------------------------------------------
# Exercise 2: the softmax on its own


def softmax_backward(fn) -> None:
    """Check ``softmax_backward(P, grad_P)`` -> ``grad_S``.

    ``P = softmax(S, dim=1)`` for logits ``S`` (n, K); ``grad_P`` is dL/dP (n, K); the
    answer is dL/dS (n, K). Runs under ``torch.no_grad()``.
    """
    callable_(fn)
    g = _gen(11)
    cases = [(torch.randn(4, 3, generator=g, dtype=F64), "4 rows, 3 classes"),
             (torch.randn(1, 5, generator=g, dtype=F64), "a single row of 5 classes"),
             (torch.randn(3, 2, generator=g, dtype=F64), "3 rows, 2 classes"),
             (4 * torch.randn(6, 4, generator=g, dtype=F64), "6 rows, confident logits")]
    for S, case in cases:
        leaf = S.clone().requires_grad_(True)
        P = torch.softmax(leaf, dim=1)
        grad_P = torch.randn(S.shape, generator=g, dtype=F64)
        P.backward(grad_P)
        Pd = P.detach()
        value = run(fn, Pd.clone(), grad_P.clone(), what=case, no_grad=True,
                    hint="return dL/dS with the shape of P; " + BY_HAND)
        value = _as_f64(value, tuple(S.shape), "grad_S", case)
        weighted = (grad_P * Pd).sum(dim=1, keepdim=True)  # (n, 1)
        _diagnose(value, leaf.grad, {
            "each probability p_k depends on every logit of its row, not only on s_k: "
            "the derivatives dp_k/ds_j with j != k count too.": Pd * (1 - Pd) * grad_P,
            "look again at dp_k/ds_j for j != k: which factors does it have?":
                Pd * grad_P - weighted,
            "the sum in your answer runs over the rows of the batch; it should run over "
            "the classes of one row, because only they share a softmax.":
                Pd * (grad_P - (grad_P * Pd).sum(dim=0, keepdim=True)),
            "the sign is flipped: check the sign of dp_k/ds_j for j != k.": -leaf.grad,
            }, "differentiate p_k = exp(s_k) / sum_j exp(s_j) with respect to s_j, for "
               "j = k and for j != k, then apply the chain rule: dL/ds_j adds "
               "dL/dp_k * dp_k/ds_j over k.", case)
    ok("softmax_backward: matches autograd on 4 batches, a single row included.")


# ---------------------------------------------------------------------------------------
# Exercise 3: two bugs in a backward pass


def _relu_mlp_cases():
    g = _gen(13)
    for n, d, h, k in [(8, 2, 5, 3), (1, 3, 4, 2), (10, 4, 6, 4), (6, 4, 4, 3)]:
        X = torch.randn(n, d, generator=g, dtype=F64)
        y = torch.randint(0, k, (n,), generator=g)
        params = {"W1": torch.randn(h, d, generator=g, dtype=F64),
                  "b1": 0.5 * torch.randn(h, generator=g, dtype=F64),
                  "W2": torch.randn(k, h, generator=g, dtype=F64),
                  "b2": 0.5 * torch.randn(k, generator=g, dtype=F64)}
        yield X, y, params, f"n = {n}, d = {d}, h = {h}, K = {k}"


def relu_mlp_backward(fn) -> None:
    """Check ``relu_mlp_backward(X, y, W1, b1, W2, b2)`` -> ``(loss, grads)``.

    The network is ``logits = relu(X @ W1.T + b1) @ W2.T + b2`` with the mean
    cross-entropy; W1 (h, d), b1 (h,), W2 (K, h), b2 (K,); ``grads`` is a dict with keys
    ``"W1", "b1", "W2", "b2"``. Runs under ``torch.no_grad()``.
    """
    callable_(fn)
    for X, y, params, case in _relu_mlp_cases():
        leaf = {k: v.clone().requires_grad_(True) for k, v in params.items()}
        Z1 = X @ leaf["W1"].T + leaf["b1"]
        logits = torch.relu(Z1) @ leaf["W2"].T + leaf["b2"]
        loss = F.cross_entropy(logits, y)
        loss.backward()
        out = run(fn, X.clone(), y.clone(), *(v.clone() for v in params.values()),
                  what=case, no_grad=True,
                  hint="compare each line with the chapter's backward pass; " + BY_HAND)
        value, grads = _sequence(out, 2, "(loss, grads)")
        require(isinstance(value, (torch.Tensor, numbers.Real)),
                f"the loss should be a 0-D tensor, not a {type(value).__name__}.", case)
        value = torch.as_tensor(value, dtype=F64).reshape(-1)
        wrong_loss = -torch.log_softmax(logits.detach(), dim=0)[torch.arange(len(y)), y]
        if value.numel() == 1 and len(y) > 1 and \
                math.isclose(value.item(), wrong_loss.mean().item(), rel_tol=1e-9):
            fail("the loss is wrong before any gradient is computed: over which dimension "
                 "must the probabilities of one example add up to 1?", case)
        require(value.numel() == 1 and math.isclose(value.item(), loss.item(),
                                                    rel_tol=1e-9, abs_tol=1e-12),
                "the loss is wrong before any gradient is computed: check the forward "
                "pass (relu hidden layer, logits, mean cross-entropy).", case)
        require(isinstance(grads, dict) and set(grads) == set(params),
                'return the gradients as a dict with the keys "W1", "b1", "W2", "b2".',
                case)
        H = torch.relu(Z1.detach())
        hints = {"W2": "grads['W2'] combines dL/dlogits with the hidden activations.",
                 "b2": "grads['b2'] adds dL/dlogits over the rows of the batch.",
                 "W1": "grads['W1']: go back through W2, then through relu's derivative, "
                       "then combine with X.",
                 "b1": "grads['b1'] adds dL/dZ1 over the rows of the batch."}
        for name in ("W2", "b2", "W1", "b1"):
            expected = leaf[name].grad
            wrong = {}
            if name == "W1":
                if expected.shape[0] == expected.shape[1]:
                    wrong["grads['W1'] is laid out the other way round: entry [j, i] must "
                          "hold the derivative with respect to W1[j, i]."] = expected.T
            if len(y) > 1:
                wrong["your gradients are n times too large: the loss is a mean over the "
                      "batch, so dL/dlogits carries 1/n."] = expected * len(y)
            if name in ("b1", "b2") and len(y) > 1:
                wrong[f"your grads['{name}'] is the mean over the rows; the bias is added "
                      "to every row, so its gradient adds up the rows."] = expected / len(y)
            if name in ("W1", "b1"):
                wrong.update(_relu_mask_mistakes(X, y, params, H, name))
            value = _as_f64(grads[name], tuple(params[name].shape), f"grads['{name}']", case)
            _diagnose(value, expected, wrong, hints[name], case)
    ok("relu_mlp_backward: the loss and all four gradients match on 4 networks.")


def _relu_mask_mistakes(X, y, params, H, name) -> dict:
    """The first-layer gradients with relu's derivative left out, and with tanh's."""
    logits = H @ params["W2"].T + params["b2"]
    delta = torch.softmax(logits, dim=1)
    delta[torch.arange(len(y)), y] -= 1
    dH = delta / len(y) @ params["W2"]  # (n, h)
    out = {}
    for hint, local in [
            ("relu's derivative is missing: the gradient must stop at the units whose "
             "weighted sum is not positive.", torch.ones_like(H)),
            ("that is the derivative of tanh, not of relu.", 1 - H**2)]:
        dZ1 = dH * local
        out[hint] = dZ1.T @ X if name == "W1" else dZ1.sum(dim=0)
    return out


# ---------------------------------------------------------------------------------------
# Exercise 4: central differences


def _cubic(x):
    return (x**3).sum() + 2.0 * x.prod()


def central_difference(fn) -> None:
    """Check ``central_difference(f, x, eps)``: the gradient of ``f`` at ``x``, shaped
    like ``x``, by central differences.

    ``f`` maps a float64 tensor to a 0-D tensor. On return ``x`` must hold its original
    values again (a nudge undone by arithmetic is accepted within rounding). Runs under
    ``torch.no_grad()``.
    """
    callable_(fn)
    g = _gen(17)
    cases = [(_cubic, torch.randn(4, generator=g, dtype=F64), 1e-4,
              "f(x) = sum(x**3) + 2 prod(x), x of shape (4,)"),
             (lambda x: torch.sin(x).sum() * x[0, 0], torch.randn(2, 3, generator=g,
                                                                   dtype=F64), 1e-4,
              "f(x) = sum(sin x) * x[0, 0], x of shape (2, 3)"),
             (lambda x: (x**2).sum(), torch.tensor([3.0], dtype=F64), 1e-3,
              "f(x) = x**2 at x = 3")]
    for f, x, eps, case in cases:
        leaf = x.clone().requires_grad_(True)
        f(leaf).backward()
        x_in = x.clone()
        out = run(fn, f, x_in, eps, what=case, no_grad=True,
                  hint="return a tensor shaped like x, one estimate per entry; use only "
                       "calls of f, not autograd (this check runs under torch.no_grad()).")
        require(torch.allclose(x_in, x, rtol=0, atol=1e-12),
                "x has changed: leave it as you found it. Nudge a copy, or restore each "
                "entry after you have evaluated f.", case)
        value = _as_f64(out, tuple(x.shape), "the gradient", case)
        forward = torch.zeros_like(x).view(-1)
        for i in range(x.numel()):
            up = x.clone()
            up.view(-1)[i] += eps
            forward[i] = (f(up) - f(x)) / eps
        _diagnose(value, leaf.grad, {
            "this is a one-sided difference: its error shrinks only in proportion to "
            "eps. Evaluate f on both sides of x.": forward.view(x.shape),
            "the estimates are twice too large: divide by the distance between the two "
            "points where you evaluate f.": 2 * leaf.grad},
            "nudge one entry at a time by +eps and by -eps, and divide the change in f "
            "by the distance between the two points.", case, atol=1e-6)
    ok("central_difference: second-order accurate on 3 functions, x unchanged.")


# ---------------------------------------------------------------------------------------
# Exercise 5: relu, powers and log for the scalar engine


def _value_class():
    """A fresh copy of the chapter's scalar engine (add, mul, backward)."""

    class Value:
        def __init__(self, data, children=(), op=""):
            self.data, self.grad = float(data), 0.0
            self._children, self._op = children, op
            self._backward = lambda: None

        def __add__(self, other):
            other = other if isinstance(other, Value) else Value(other)
            out = Value(self.data + other.data, (self, other), "+")

            def _backward():
                self.grad += out.grad
                other.grad += out.grad
            out._backward = _backward
            return out

        def __mul__(self, other):
            other = other if isinstance(other, Value) else Value(other)
            out = Value(self.data * other.data, (self, other), "*")

            def _backward():
                self.grad += other.data * out.grad
                other.grad += self.data * out.grad
            out._backward = _backward
            return out

        __radd__ = __add__
        __rmul__ = __mul__

        def backward(self):
            order, seen = [], set()

            def visit(node):
                if id(node) not in seen:
                    seen.add(id(node))
                    for child in node._children:
                        visit(child)
                    order.append(node)
            visit(self)
            self.grad = 1.0
            for node in reversed(order):
                node._backward()

    return Value


def _engine_case(Value, build, x: float, case: str, hint: str):
    """Build ``build(Value(x))``, run backward; return (output value, x's gradient)."""
    leaf = run(Value, x, what=case, hint=hint)
    out = run(build, leaf, what=case, hint=hint)
    require(isinstance(out, Value),
            "each new operation must return a new Value that records the Value it was "
            "computed from (its children), not a plain number.", case)
    run(out.backward, what=case, hint=hint)
    return out.data, leaf.grad


def engine_extension(fn) -> None:
    """Check ``extend(Value)``, which gives the chapter's ``Value`` class the methods
    ``relu``, ``__pow__`` (a number as exponent) and ``log``.

    The check applies ``fn`` to a fresh copy of the engine and compares forward values
    and gradients with the exact ones, for each operation alone, after an upstream
    factor, and in an expression that uses one Value several times.
    """
    callable_(fn)
    Value = _value_class()
    hint = "write relu, __pow__ and log in the style of the chapter's tanh and exp."
    run(fn, Value, what="the chapter's Value class", hint=hint)
    for name in ("relu", "__pow__", "log"):
        require(callable(getattr(Value, name, None)),
                f"extend(Value) must give Value a method {name}: assign your function "
                f"to Value.{name}.")
    upstream = "multiply the local derivative by out.grad, the gradient arriving from above."
    never = ("x.grad stays 0: the new Value must list self among its children and set "
             "its _backward, so that backward() reaches x.")
    # relu
    for x in (1.5, -0.7):
        case = f"relu at x = {x}"
        data, grad = _engine_case(Value, lambda v: v.relu(), x, case, hint)
        require(math.isclose(data, max(x, 0.0), abs_tol=1e-12),
                "relu(x) is x for a positive x and 0 otherwise.", case)
        require(not (x > 0 and grad == 0.0), never, case)
        require(math.isclose(grad, float(x > 0), abs_tol=1e-12),
                "relu's local derivative is 0 where its input is negative: no gradient "
                "passes there." if x < 0 else "relu's local derivative is 1 where its "
                "input is positive.", case)
        case = f"3 * relu(2 * x) at x = {x}"
        _, grad = _engine_case(Value, lambda v: (v * 2.0).relu() * 3.0, x, case, hint)
        require(not (x > 0 and grad == 0.0), never, case)
        require(math.isclose(grad, 6.0 * (x > 0), abs_tol=1e-12), upstream, case)
    # powers
    for x, k in [(1.7, 2), (1.7, 3), (0.8, -1), (2.5, 0.5), (-1.3, 3)]:
        case = f"x**{k} at x = {x}"
        data, grad = _engine_case(Value, lambda v, k=k: v**k, x, case, hint)
        require(math.isclose(data, x**k, rel_tol=1e-12), "x**k should hold the number "
                "x raised to the power k.", case)
        require(grad != 0.0, never, case)
        exact = k * x ** (k - 1)
        if not math.isclose(grad, exact, rel_tol=1e-9):
            if math.isclose(grad, k * x**k, rel_tol=1e-9):
                fail("check the exponent in your local derivative of x**k.", case)
            if math.isclose(grad, x ** (k - 1), rel_tol=1e-9):
                fail("check the factor in front of your local derivative of x**k.", case)
            fail("the local derivative of x**k is wrong: apply the power rule.", case)
        case = f"3 * (2 * x)**{k} at x = {x}"
        _, grad = _engine_case(Value, lambda v, k=k: ((v * 2.0) ** k) * 3.0, x, case,
                               hint)
        require(grad != 0.0, never, case)
        require(math.isclose(grad, 6.0 * k * (2 * x) ** (k - 1), rel_tol=1e-9),
                upstream, case)
    # log
    for x in (0.3, 2.5):
        case = f"log at x = {x}"
        data, grad = _engine_case(Value, lambda v: v.log(), x, case, hint)
        require(math.isclose(data, math.log(x), rel_tol=1e-12),
                "log should be the natural logarithm (math.log).", case)
        require(grad != 0.0, never, case)
        require(math.isclose(grad, 1 / x, rel_tol=1e-9),
                "the local derivative of log x is wrong.", case)
        case = f"3 * log(2 * x) at x = {x}"
        _, grad = _engine_case(Value, lambda v: (v * 2.0).log() * 3.0, x, case, hint)
        require(grad != 0.0, never, case)
        require(math.isclose(grad, 3.0 / x, rel_tol=1e-9), upstream, case)
    # one value used by all three operations
    x = 1.9
    case = f"relu(x) * log(x) + x**2 at x = {x}"
    data, grad = _engine_case(Value, lambda v: v.relu() * v.log() + v**2, x, case, hint)
    exact = math.log(x) + 1.0 + 2 * x  # d/dx [x log x + x^2] for x > 0
    require(math.isclose(data, x * math.log(x) + x**2, rel_tol=1e-12),
            "the forward value of an expression that combines the three is wrong.", case)
    require(math.isclose(grad, exact, rel_tol=1e-9),
            "x is used three times here, so it must receive three contributions: add to "
            "a child's .grad in _backward (+=), never overwrite it.", case)
    ok("engine_extension: relu, __pow__ and log are exact, alone and combined.")


# ---------------------------------------------------------------------------------------
# Exercise 6: gradients that pile up


def _descend_problems():
    g = _gen(19)
    A = torch.randn(8, 3, generator=g, dtype=F64)
    t = torch.randn(8, generator=g, dtype=F64)

    def least_squares(w, b):  # w (3,), b scalar
        return ((A @ w + b - t) ** 2).mean()

    def bowl(w):  # w (2,)
        return (w[0] - 3.0) ** 2 + 4.0 * (w[1] + 1.0) ** 2

    return [(least_squares, [torch.zeros(3, dtype=F64), torch.zeros((), dtype=F64)],
             0.1, 25, "least squares in w (3,) and b, lr 0.1, 25 steps"),
            (bowl, [torch.tensor([0.0, 0.0], dtype=F64)], 0.05, 10,
             "a bowl in w (2,), lr 0.05, 10 steps")]


def _trajectory(loss_fn, start, lr, steps, accumulate=False):
    """Losses and final parameters of gradient descent (or of the accumulating bug)."""
    params = [p.clone().requires_grad_(True) for p in start]
    losses = []
    for _ in range(steps):
        loss = loss_fn(*params)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
                if not accumulate:
                    p.grad = None
        losses.append(loss.item())
    return losses, [p.detach() for p in params]


def descend(fn) -> None:
    """Check ``descend(params, loss_fn, lr, steps)``.

    ``params`` is a list of leaf tensors that require gradients and ``loss_fn(*params)``
    a 0-D tensor. ``descend`` takes ``steps`` gradient-descent steps with autograd,
    changing the tensors of ``params`` in place, and returns the list of the ``steps``
    losses, as numbers, each computed before its update.
    """
    callable_(fn)
    for loss_fn, start, lr, steps, case in _descend_problems():
        params = [p.clone().requires_grad_(True) for p in start]
        originals = list(params)
        out = run(fn, params, loss_fn, lr, steps, what=case,
                  hint="take the steps with loss.backward() and update each tensor in "
                       "place under torch.no_grad().")
        require(isinstance(out, (list, tuple)) and len(out) == steps,
                f"return the list of the {steps} losses, one per step.", case)
        require(not any(isinstance(v, torch.Tensor) and v.requires_grad for v in out),
                "your list holds loss tensors that are still attached to their graphs: "
                "each keeps its whole graph in memory. Store plain numbers.", case)
        require(all(isinstance(v, (numbers.Real, torch.Tensor)) and
                    torch.as_tensor(v).numel() == 1 for v in out),
                "each entry of the list should be one number, the loss of that step.", case)
        require(all(p.is_leaf and p.requires_grad for p in originals),
                "the tensors in params must stay leaves that require gradients: update "
                "them in place under torch.no_grad().", case)
        losses, final = _trajectory(loss_fn, start, lr, steps)
        _, piled = _trajectory(loss_fn, start, lr, steps, accumulate=True)
        _, uphill = _trajectory(loss_fn, start, -lr, steps)
        if all(torch.equal(p.detach(), s) for p, s in zip(originals, start)):
            fail("the parameters have not moved: either the update does not reach the "
                 "tensors of params (change them in place, under torch.no_grad()), or "
                 "the gradient it uses is already zero by then.", case)
        if all(_same(p.detach(), q) for p, q in zip(originals, uphill)):
            fail("the parameters move uphill: check the sign of your update.", case)
        if all(_same(p.detach(), q) for p, q in zip(originals, piled)) and steps > 1:
            fail("the parameters follow the wrong path: .grad is not replaced by "
                 "backward(), it is added to, so your gradients pile up from step to "
                 "step.", case)
        require(all(_same(p.detach(), q) for p, q in zip(originals, final)),
                "the final parameters differ from gradient descent's: each step moves "
                "every parameter by -lr times the gradient of this step's loss.", case)
        got = torch.tensor([float(v) for v in out], dtype=F64)
        require(torch.allclose(got, torch.tensor(losses, dtype=F64), rtol=1e-9, atol=0),
                "the parameters are right but the losses are not: record each step's "
                "loss, computed before that step's update.", case)
    ok("descend: the path of gradient descent on 2 problems, losses as numbers.")
