"""Chapter 5 checks: every correct variant is accepted, every known mistake rejected.

Weights follow nn.Linear's convention: a layer computes X @ W.T + b with W of shape
(d_out, d_in). See tests/test_checks.py for the tests that use these tables.
"""

import math

import torch
import torch.nn.functional as F

# --- Exercise 1: linear_backward ------------------------------------------------------


def linear_ok(X, W, grad_out):
    return grad_out @ W, grad_out.T @ X, grad_out.sum(dim=0)


def linear_einsum(X, W, grad_out):
    return (torch.einsum("ik,kj->ij", grad_out, W),
            torch.einsum("ik,ij->kj", grad_out, X),
            torch.ones(len(X), dtype=X.dtype) @ grad_out)


def linear_loops(X, W, grad_out):
    n, d_in = X.shape
    grad_W = torch.zeros_like(W)
    for i in range(n):
        grad_W += torch.outer(grad_out[i], X[i])  # (d_out,) x (d_in,)
    return [grad_out @ W, grad_W, grad_out.sum(dim=0)]  # a list is fine too


def linear_autograd(X, W, grad_out):
    X, W = X.clone().requires_grad_(True), W.clone().requires_grad_(True)
    b = torch.zeros(W.shape[0], dtype=X.dtype, requires_grad=True)
    (X @ W.T + b).backward(grad_out)
    return X.grad, W.grad, b.grad


def linear_enable_grad(X, W, grad_out):  # autograd switched back on inside
    with torch.enable_grad():
        return linear_autograd(X, W, grad_out)


def linear_func_grad(X, W, grad_out):
    def weighted(X, W, b):  # sum of grad_out * out: its gradient is the backward pass
        return ((X @ W.T + b) * grad_out).sum()

    b = torch.zeros(W.shape[0], dtype=X.dtype)
    return torch.func.grad(weighted, argnums=(0, 1, 2))(X, W, b)


# --- Exercise 2: softmax_backward -----------------------------------------------------


def softmax_ok(P, grad_P):
    return P * (grad_P - (grad_P * P).sum(dim=1, keepdim=True))


def softmax_jacobian(P, grad_P):
    jacobian = torch.diag_embed(P) - P[:, :, None] * P[:, None, :]  # (n, K, K)
    return (jacobian @ grad_P[:, :, None]).squeeze(2)


def softmax_rows(P, grad_P):
    rows = []
    for p, g in zip(P, grad_P):
        rows.append((torch.diag(p) - torch.outer(p, p)) @ g)
    return torch.stack(rows)


def softmax_autograd(P, grad_P):
    S = P.log().clone().requires_grad_(True)
    torch.softmax(S, dim=1).backward(grad_P)
    return S.grad


def softmax_enable_grad(P, grad_P):
    with torch.enable_grad():
        return softmax_autograd(P, grad_P)


def softmax_func_grad(P, grad_P):
    return torch.func.grad(lambda S: (torch.softmax(S, dim=1) * grad_P).sum())(P.log())


# --- Exercise 3: relu_mlp_backward ----------------------------------------------------


def mlp_ok(X, y, W1, b1, W2, b2, *, softmax_dim=1, transposed_w1=False, local="relu",
           bias_mean=False, per_example=False):
    n = X.shape[0]
    rows = torch.arange(n)
    Z1 = X @ W1.T + b1
    H = torch.relu(Z1)
    P = torch.softmax(H @ W2.T + b2, dim=softmax_dim)
    loss = -P[rows, y].log().mean()
    delta = P.clone()
    delta[rows, y] -= 1
    if not per_example:
        delta /= n
    grad_W2 = delta.T @ H
    grad_b2 = delta.sum(dim=0)
    derivative = {"relu": (Z1 > 0).to(X.dtype), "tanh": 1 - H**2,
                  "none": torch.ones_like(H)}[local]
    delta = (delta @ W2) * derivative
    grad_W1 = X.T @ delta if transposed_w1 else delta.T @ X
    grad_b1 = delta.mean(dim=0) if bias_mean else delta.sum(dim=0)
    return loss, {"W1": grad_W1, "b1": grad_b1, "W2": grad_W2, "b2": grad_b2}


def mlp_stable(X, y, W1, b1, W2, b2):
    H = torch.relu(X @ W1.T + b1)
    logits = H @ W2.T + b2
    log_P = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    Y = F.one_hot(y, logits.shape[1]).to(X.dtype)
    delta = (log_P.exp() - Y) / len(X)
    dZ1 = (delta @ W2) * (H > 0)
    return -(Y * log_P).sum() / len(X), {"W1": dZ1.T @ X, "b1": dZ1.sum(0),
                                         "W2": delta.T @ H, "b2": delta.sum(0)}


def mlp_float_loss(*args):
    loss, grads = mlp_ok(*args)
    return loss.item(), grads  # a Python float for the loss is fine


def mlp_autograd(X, y, W1, b1, W2, b2):
    leaves = [p.clone().requires_grad_(True) for p in (W1, b1, W2, b2)]
    loss = F.cross_entropy(torch.relu(X @ leaves[0].T + leaves[1]) @ leaves[2].T
                           + leaves[3], y)
    loss.backward()
    return loss, dict(zip(("W1", "b1", "W2", "b2"), (p.grad for p in leaves)))


def mlp_enable_grad(*args):
    with torch.enable_grad():
        return mlp_autograd(*args)


def mlp_func_grad(X, y, W1, b1, W2, b2):
    def loss(W1, b1, W2, b2):
        return F.cross_entropy(torch.relu(X @ W1.T + b1) @ W2.T + b2, y)

    grads, value = torch.func.grad_and_value(loss, argnums=(0, 1, 2, 3))(W1, b1, W2, b2)
    return value, dict(zip(("W1", "b1", "W2", "b2"), grads))


# --- Exercise 4: central_difference ---------------------------------------------------


def central_ok(f, x, eps, *, one_sided=False, denominator=2.0):
    grad = torch.zeros_like(x)
    for i in range(x.numel()):
        up, down = x.clone(), x.clone()
        up.view(-1)[i] += eps
        if not one_sided:
            down.view(-1)[i] -= eps
        grad.view(-1)[i] = (f(up) - f(down)) / ((1.0 if one_sided else denominator) * eps)
    return grad


def central_in_place_undone(f, x, eps):
    """Nudge x itself and undo the nudge arithmetically (rounding may remain)."""
    grad = torch.zeros_like(x)
    flat = x.view(-1)
    for i in range(x.numel()):
        flat[i] += eps
        f_up = f(x)
        flat[i] -= 2 * eps
        f_down = f(x)
        flat[i] += eps
        grad.view(-1)[i] = (f_up - f_down) / (2 * eps)
    return grad


def central_in_place_restored(f, x, eps):
    grad = torch.empty_like(x)
    for i in range(x.numel()):
        saved = x.view(-1)[i].item()
        x.view(-1)[i] = saved + eps
        f_up = f(x).item()
        x.view(-1)[i] = saved - eps
        f_down = f(x).item()
        x.view(-1)[i] = saved
        grad.view(-1)[i] = (f_up - f_down) / (2 * eps)
    return grad


def central_never_undone(f, x, eps):
    grad = torch.zeros_like(x)
    for i in range(x.numel()):
        x.view(-1)[i] += eps
        f_up = f(x)
        x.view(-1)[i] -= 2 * eps  # never put back
        grad.view(-1)[i] = (f_up - f(x)) / (2 * eps)
    return grad


def central_autograd(f, x, eps):
    leaf = x.clone().requires_grad_(True)
    return torch.autograd.grad(f(leaf), leaf)[0]


def central_enable_grad(f, x, eps):
    with torch.enable_grad():
        return central_autograd(f, x, eps)


def central_func_grad(f, x, eps):
    return torch.func.grad(f)(x)


# --- Exercise 5: engine_extension -------------------------------------------------------


def extend_ok(Value, *, relu_grad="mask", relu_upstream=True, pow_grad="exact",
              log_grad="exact", overwrite=False, relu_float=False, relu_orphan=False):
    """The three methods; each keyword plants one known mistake."""

    def add_to(node, amount):
        if overwrite:
            node.grad = amount
        else:
            node.grad += amount

    def relu(self):
        if relu_float:
            return max(self.data, 0.0)
        out = Value(max(self.data, 0.0), () if relu_orphan else (self,), "relu")

        def _backward():
            local = {"mask": float(self.data > 0), "one": 1.0}[relu_grad]
            add_to(self, local * (out.grad if relu_upstream else 1.0))
        out._backward = _backward
        return out

    def power(self, k):
        out = Value(self.data**k, (self,), f"**{k}")

        def _backward():
            local = {"exact": k * self.data ** (k - 1), "same exponent": k * self.data**k,
                     "no factor": self.data ** (k - 1)}[pow_grad]
            add_to(self, local * out.grad)
        out._backward = _backward
        return out

    def log(self):
        out = Value(math.log(self.data), (self,), "log")

        def _backward():
            local = {"exact": 1 / self.data, "squared": 1 / self.data**2}[log_grad]
            add_to(self, local * (out.grad if log_grad != "no upstream" else 1.0))
        out._backward = _backward
        return out

    Value.relu, Value.__pow__, Value.log = relu, power, log


def extend_out_data(Value):
    """Other correct forms: relu's mask from its output, pow and log as in calculus."""

    def relu(self):
        out = Value(self.data if self.data > 0 else 0.0, (self,), "relu")

        def _backward():
            self.grad += (out.data > 0) * out.grad
        out._backward = _backward
        return out

    def power(self, k):
        out = Value(math.pow(self.data, k), (self,), "pow")

        def _backward():
            self.grad += out.grad * k * math.pow(self.data, k - 1)
        out._backward = _backward
        return out

    def log(self):
        out = Value(math.log(self.data), (self,), "log")

        def _backward():
            self.grad += out.grad / self.data
        out._backward = _backward
        return out

    Value.relu = relu
    Value.__pow__ = power
    Value.log = log


def extend_log_no_upstream(Value):
    extend_ok(Value)
    exact_log = Value.log

    def log(self):
        out = exact_log(self)

        def _backward():
            self.grad += 1 / self.data  # forgets out.grad
        out._backward = _backward
        return out

    Value.log = log


# --- Exercise 6: descend -----------------------------------------------------------------


def descend_ok(params, loss_fn, lr, steps):
    losses = []
    for _ in range(steps):
        loss = loss_fn(*params)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None
        losses.append(loss.item())
    return losses


def descend_zero_first(params, loss_fn, lr, steps):
    losses = []
    for _ in range(steps):
        for p in params:
            if p.grad is not None:
                p.grad.zero_()
        loss = loss_fn(*params)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p.sub_(lr * p.grad)
        losses.append(loss.detach().item())
    return losses


def descend_functional(params, loss_fn, lr, steps):
    losses = []
    for _ in range(steps):
        loss = loss_fn(*params)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p -= lr * g
        losses.append(loss.detach())  # a detached 0-D tensor is a number too
    return tuple(losses)


def descend_buggy(params, loss_fn, lr, steps):
    """The exercise's given code: both bugs."""
    losses = []
    for _ in range(steps):
        loss = loss_fn(*params)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        losses.append(loss)
    return losses


def descend_accumulates(params, loss_fn, lr, steps):
    losses = []
    for _ in range(steps):
        loss = loss_fn(*params)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        losses.append(loss.item())
    return losses


def descend_keeps_tensors(params, loss_fn, lr, steps):
    losses = []
    for _ in range(steps):
        loss = loss_fn(*params)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None
        losses.append(loss)
    return losses


def descend_rebinds(params, loss_fn, lr, steps):
    losses = []
    for _ in range(steps):
        loss = loss_fn(*params)
        grads = torch.autograd.grad(loss, params)
        params = [(p - lr * g).detach().requires_grad_(True)  # new tensors, not params
                  for p, g in zip(params, grads)]
        losses.append(loss.item())
    return losses


def descend_zeroed_too_early(params, loss_fn, lr, steps):
    losses = []
    for _ in range(steps):
        loss = loss_fn(*params)
        loss.backward()
        for p in params:
            p.grad.zero_()  # before the update: every step moves by 0
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        losses.append(loss.item())
    return losses


def descend_losses_after_update(params, loss_fn, lr, steps):
    losses = []
    for _ in range(steps):
        loss = loss_fn(*params)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None
            losses.append(loss_fn(*params).item())
    return losses


def descend_ascends(params, loss_fn, lr, steps):
    return descend_ok(params, loss_fn, -lr, steps)


CORRECT = {
    "linear_backward": {"reference": linear_ok, "einsum": linear_einsum,
                        "loops, returned as a list": linear_loops},
    "softmax_backward": {"reference": softmax_ok, "full Jacobian": softmax_jacobian,
                         "row by row": softmax_rows},
    "relu_mlp_backward": {"the fixed code": mlp_ok, "log-sum-exp and one-hot": mlp_stable,
                          "loss as a float": mlp_float_loss},
    "central_difference": {"copies of x": central_ok,
                           "x nudged in place, undone arithmetically":
                               central_in_place_undone,
                           "x nudged in place, saved value restored":
                               central_in_place_restored},
    "engine_extension": {"reference": extend_ok, "other exact forms": extend_out_data},
    "descend": {"grad reset to None": descend_ok, "grad zeroed before backward":
                descend_zero_first, "torch.autograd.grad": descend_functional},
}

MUTANTS = {
    "linear_backward": {
        "uses autograd": linear_autograd,
        "autograd under torch.enable_grad()": linear_enable_grad,
        "torch.func.grad": linear_func_grad,
        "bias gradient is a mean": lambda X, W, g: (g @ W, g.T @ X, g.mean(0)),
        "weight gradient divided by n": lambda X, W, g: (g @ W, g.T @ X / len(X), g.sum(0)),
        "weight gradient transposed (X.T @ grad_out)": lambda X, W, g: (g @ W, X.T @ g,
                                                                      g.sum(0)),
        "input gradient with W.T": lambda X, W, g: (g @ W.T, g.T @ X, g.sum(0)),
        "input gradient zeros": lambda X, W, g: (torch.zeros_like(X), g.T @ X, g.sum(0)),
        "a pair instead of a triple": lambda X, W, g: (g @ W, g.T @ X),
    },
    "softmax_backward": {
        "uses autograd": softmax_autograd,
        "autograd under torch.enable_grad()": softmax_enable_grad,
        "torch.func.grad": softmax_func_grad,
        "diagonal of the Jacobian only": lambda P, g: P * (1 - P) * g,
        "sum term without its factor p": lambda P, g: P * g - (g * P).sum(1, keepdim=True),
        "sum over the batch": lambda P, g: P * (g - (g * P).sum(0, keepdim=True)),
        "wrong sign": lambda P, g: -softmax_ok(P, g),
        "returns grad_P": lambda P, g: g.clone(),
    },
    "relu_mlp_backward": {
        "the given code, both bugs": lambda *a: mlp_ok(*a, softmax_dim=0, transposed_w1=True),
        "softmax over the batch": lambda *a: mlp_ok(*a, softmax_dim=0),
        "W1 gradient transposed": lambda *a: mlp_ok(*a, transposed_w1=True),
        "tanh derivative instead of relu's": lambda *a: mlp_ok(*a, local="tanh"),
        "forgets relu's derivative": lambda *a: mlp_ok(*a, local="none"),
        "bias gradient is a mean": lambda *a: mlp_ok(*a, bias_mean=True),
        "forgets the / n of the mean loss": lambda *a: mlp_ok(*a, per_example=True),
        "forgets b2": lambda *a: (mlp_ok(*a)[0], {k: v for k, v in mlp_ok(*a)[1].items()
                                                  if k != "b2"}),
        "uses autograd": mlp_autograd,
        "autograd under torch.enable_grad()": mlp_enable_grad,
        "torch.func.grad": mlp_func_grad,
    },
    "central_difference": {
        "one-sided difference": lambda f, x, eps: central_ok(f, x, eps, one_sided=True),
        "divides by eps, not 2 eps": lambda f, x, eps: central_ok(f, x, eps,
                                                                  denominator=1.0),
        "nudges x in place and never undoes it": central_never_undone,
        "returns zeros": lambda f, x, eps: torch.zeros_like(x),
        "uses autograd": central_autograd,
        "autograd under torch.enable_grad()": central_enable_grad,
        "torch.func.grad": central_func_grad,
    },
    "engine_extension": {
        "relu passes the gradient for negative inputs":
            lambda V: extend_ok(V, relu_grad="one"),
        "relu ignores the upstream gradient": lambda V: extend_ok(V, relu_upstream=False),
        "relu returns a float": lambda V: extend_ok(V, relu_float=True),
        "relu forgets its child": lambda V: extend_ok(V, relu_orphan=True),
        "pow derivative keeps the exponent": lambda V: extend_ok(V,
                                                                 pow_grad="same exponent"),
        "pow derivative without the factor k": lambda V: extend_ok(V, pow_grad="no factor"),
        "log derivative 1/x**2": lambda V: extend_ok(V, log_grad="squared"),
        "log ignores the upstream gradient": extend_log_no_upstream,
        "overwrites .grad instead of adding": lambda V: extend_ok(V, overwrite=True),
        "installs nothing": lambda V: None,
    },
    "descend": {
        "the given code, both bugs": descend_buggy,
        "gradients accumulate": descend_accumulates,
        "keeps the loss tensors": descend_keeps_tensors,
        "rebinds instead of updating in place": descend_rebinds,
        "zeroes the gradient before the update": descend_zeroed_too_early,
        "records the loss after the update": descend_losses_after_update,
        "ascends": descend_ascends,
    },
}
