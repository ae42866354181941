"""Chapter 2 checks: each accepts a correct answer and rejects plausible wrong ones."""

import torch
import torch.nn.functional as F


def bce_ok(logits, y):
    softplus = logits.clamp(min=0) + torch.log1p(torch.exp(-logits.abs()))
    return (softplus - y * logits).mean()


def bce_naive(logits, y):
    p = torch.sigmoid(logits)
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()


def bce_clamped(logits, y):
    p = torch.sigmoid(logits).clamp(1e-7, 1 - 1e-7)
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()


def ce_ok(logits, y):
    m = logits.amax(dim=1, keepdim=True)
    lse = m.squeeze(1) + torch.log(torch.exp(logits - m).sum(dim=1))
    return (lse - logits[torch.arange(len(y)), y]).mean()


def ce_naive(logits, y):
    p = torch.exp(logits) / torch.exp(logits).sum(dim=1, keepdim=True)
    return -torch.log(p[torch.arange(len(y)), y]).mean()


def gd_ok(grad, w0, lr, steps):
    w, out = w0.clone(), [w0.clone()]
    for _ in range(steps):
        w = w - lr * grad(w)
        out.append(w)
    return torch.stack(out)


def gd_in_place(grad, w0, lr, steps):
    w, out = w0.clone(), [w0.clone()]
    for _ in range(steps):
        w -= lr * grad(w)
        out.append(w)
    return torch.stack(out)


def gd_mutates_w0(grad, w0, lr, steps):
    out = [w0.clone()]
    for _ in range(steps):
        w0 -= lr * grad(w0)
        out.append(w0.clone())
    return torch.stack(out)


def momentum_ok(grad, w0, lr, beta, steps):
    w, v, out = w0.clone(), torch.zeros_like(w0), [w0.clone()]
    for _ in range(steps):
        v = beta * v + grad(w)
        w = w - lr * v
        out.append(w)
    return torch.stack(out)


def momentum_dampened(grad, w0, lr, beta, steps):
    w, v, out = w0.clone(), torch.zeros_like(w0), [w0.clone()]
    for _ in range(steps):
        v = beta * v + (1 - beta) * grad(w)
        w = w - lr * v
        out.append(w)
    return torch.stack(out)


def momentum_nesterov(grad, w0, lr, beta, steps):
    w, v, out = w0.clone(), torch.zeros_like(w0), [w0.clone()]
    for _ in range(steps):
        g = grad(w)
        v = beta * v + g
        w = w - lr * (g + beta * v)
        out.append(w)
    return torch.stack(out)


def momentum_stale_velocity(grad, w0, lr, beta, steps):
    w, v, out = w0.clone(), torch.zeros_like(w0), [w0.clone()]
    for _ in range(steps):
        w_next = w - lr * v
        v = beta * v + grad(w)
        w = w_next
        out.append(w)
    return torch.stack(out)


CORRECT = {
    "bce_with_logits": bce_ok,
    "cross_entropy_from_logits": ce_ok,
    "gradient_descent": gd_ok,
    "momentum_descent": momentum_ok,
    "quadratic_rate": lambda lr, eig: (1 - lr * eig).abs().max().item(),
}

MUTANTS = {
    "bce_with_logits": {
        "naive log of the sigmoid": bce_naive,
        "clamped probabilities": bce_clamped,
        "sum instead of mean": lambda logits, y: bce_ok(logits, y) * len(y),
        "targets swapped": lambda logits, y: bce_ok(logits, 1 - y),
        "softplus only": lambda logits, y: F.softplus(logits).mean(),
    },
    "cross_entropy_from_logits": {
        "naive softmax": ce_naive,
        "sum instead of mean": lambda logits, y: ce_ok(logits, y) * len(y),
        "forgets the log-sum-exp": lambda logits, y: -logits[torch.arange(len(y)), y].mean(),
        "wrong indexing": lambda logits, y: (torch.logsumexp(logits, 1) - logits[:, y]).mean(),
        "normalises over the batch": lambda logits, y: -torch.log_softmax(logits, dim=0)[
            torch.arange(len(y)), y].mean(),
    },
    "gradient_descent": {
        "gradient ascent": lambda grad, w0, lr, steps: gd_ok(lambda w: -grad(w), w0, lr, steps),
        "in-place update aliases the rows": gd_in_place,
        "changes w0": gd_mutates_w0,
        "leaves out w0": lambda grad, w0, lr, steps: gd_ok(grad, w0, lr, steps)[1:],
        "one step too few": lambda grad, w0, lr, steps: gd_ok(grad, w0, lr, max(steps - 1, 0)),
        "final point only": lambda grad, w0, lr, steps: gd_ok(grad, w0, lr, steps)[-1],
    },
    "momentum_descent": {
        "ignores beta": lambda grad, w0, lr, beta, steps: gd_ok(grad, w0, lr, steps),
        "dampened velocity": momentum_dampened,
        "Nesterov instead": momentum_nesterov,
        "steps with the old velocity": momentum_stale_velocity,
    },
    "quadratic_rate": {
        "smallest factor": lambda lr, eig: (1 - lr * eig).abs().min().item(),
        "no absolute value": lambda lr, eig: (1 - lr * eig).max().item(),
        "largest eigenvalue only": lambda lr, eig: abs(1 - lr * eig.max().item()),
        "smallest eigenvalue only": lambda lr, eig: abs(1 - lr * eig.min().item()),
    },
}

# Each correct answer as its only variant, until the chapter lists its variants.
CORRECT = {name: {"reference": fn} for name, fn in CORRECT.items()}
