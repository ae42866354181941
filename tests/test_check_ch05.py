"""Chapter 5 checks: each accepts a correct answer and rejects plausible wrong ones."""

import torch


def neuron_ok(x, w, b, t):
    h = torch.tanh(x @ w + b)
    g_z = (h - t) * (1 - h**2)
    return 0.5 * (h - t) ** 2, g_z * x, g_z


def linear_ok(X, W, grad_out):
    return grad_out @ W.T, X.T @ grad_out, grad_out.sum(0)


def ce_ok(logits, y, *, mean=True, stable=True, minus_onehot=True):
    n = logits.shape[0]
    shifted = logits - logits.max(1, keepdim=True).values if stable else logits
    log_p = shifted - shifted.exp().sum(1, keepdim=True).log()
    rows = torch.arange(n)
    loss = -log_p[rows, y].mean() if mean else -log_p[rows, y].sum()
    grad = log_p.exp()
    if minus_onehot:
        grad[rows, y] -= 1
    return loss, grad / n if mean else grad


def mlp_ok(X, y, W1, b1, W2, b2, *, derivative="relu", bias_mean=False):
    Z1 = X @ W1 + b1
    H = torch.relu(Z1)
    loss, d_logits = ce_ok(H @ W2 + b2, y)
    dH = d_logits @ W2.T
    local = {"relu": (Z1 > 0).to(X.dtype), "tanh": 1 - H**2, "none": torch.ones_like(H)}
    dZ1 = dH * local[derivative]
    db1 = dZ1.mean(0) if bias_mean else dZ1.sum(0)
    return loss, {"W1": X.T @ dZ1, "b1": db1, "W2": H.T @ d_logits, "b2": d_logits.sum(0)}


def central_ok(f, x, eps, *, forward=False, denominator=2.0):
    grad = torch.zeros_like(x)
    for i in range(x.numel()):
        up, down = x.clone(), x.clone()
        up.view(-1)[i] += eps
        if not forward:
            down.view(-1)[i] -= eps
        grad.view(-1)[i] = (f(up) - f(down)) / ((denominator if not forward else 1.0) * eps)
    return grad


def central_in_place(f, x, eps):
    grad = torch.zeros_like(x)
    for i in range(x.numel()):
        x.view(-1)[i] += eps
        f_up = f(x)
        x.view(-1)[i] -= 2 * eps  # never undone
        grad.view(-1)[i] = (f_up - f(x)) / (2 * eps)
    return grad


CORRECT = {
    "neuron_gradients": neuron_ok,
    "linear_backward": linear_ok,
    "softmax_cross_entropy_backward": ce_ok,
    "relu_mlp_backward": mlp_ok,
    "central_difference": central_ok,
}

MUTANTS = {
    "neuron_gradients": {
        "forgets tanh's derivative": lambda x, w, b, t: (
            neuron_ok(x, w, b, t)[0], (torch.tanh(x @ w + b) - t) * x, torch.tanh(x @ w + b) - t),
        "wrong sign": lambda x, w, b, t: tuple(
            v if k == 0 else -v for k, v in enumerate(neuron_ok(x, w, b, t))),
        "gradient with respect to x": lambda x, w, b, t: neuron_ok(w, x, b, t),
        "forgets the 1/2": lambda x, w, b, t: tuple(
            v if k == 0 else 2 * v for k, v in enumerate(neuron_ok(x, w, b, t))),
    },
    "linear_backward": {
        "bias gradient is a mean": lambda X, W, g: (g @ W.T, X.T @ g, g.mean(0)),
        "weight gradient divided by n": lambda X, W, g: (g @ W.T, X.T @ g / len(X), g.sum(0)),
        "input gradient untransposed": lambda X, W, g: (g @ W, X.T @ g, g.sum(0)),
        "input gradient zeros": lambda X, W, g: (torch.zeros_like(X), X.T @ g, g.sum(0)),
        "weights swapped with inputs": lambda X, W, g: (X, W, g.sum(0)),
    },
    "softmax_cross_entropy_backward": {
        "no mean over rows": lambda logits, y: ce_ok(logits, y, mean=False),
        "forgets the one-hot": lambda logits, y: ce_ok(logits, y, minus_onehot=False),
        "overflows on large logits": lambda logits, y: ce_ok(logits, y, stable=False),
        "wrong sign": lambda logits, y: (ce_ok(logits, y)[0], -ce_ok(logits, y)[1]),
    },
    "relu_mlp_backward": {
        "tanh derivative instead of relu's": lambda *a: mlp_ok(*a, derivative="tanh"),
        "forgets relu's mask": lambda *a: mlp_ok(*a, derivative="none"),
        "bias gradient is a mean": lambda *a: mlp_ok(*a, bias_mean=True),
        "forgets b2": lambda *a: (mlp_ok(*a)[0], {k: v for k, v in mlp_ok(*a)[1].items()
                                                  if k != "b2"}),
    },
    "central_difference": {
        "forward difference": lambda f, x, eps: central_ok(f, x, eps, forward=True),
        "divides by eps, not 2 eps": lambda f, x, eps: central_ok(f, x, eps, denominator=1.0),
        "changes x in place": central_in_place,
        "returns zeros": lambda f, x, eps: torch.zeros_like(x),
    },
}

# Each correct answer as its only variant, until the chapter lists its variants.
CORRECT = {name: {"reference": fn} for name, fn in CORRECT.items()}
