"""Chapter 3 checks: each accepts a correct answer and rejects plausible wrong ones."""

import math

import torch


def sigmoid_derivative_ok(z):
    s = torch.sigmoid(z)
    return s * (1 - s)


def gelu_ok(z):
    return z * 0.5 * (1 + torch.erf(z / math.sqrt(2)))


def compose_ok(layers):
    W, b = layers[0].weight, layers[0].bias
    for layer in layers[1:]:
        W, b = layer.weight @ W, layer.weight @ b + layer.bias
    return W, b


def compose_wrong_order(layers):
    W, b = layers[0].weight, layers[0].bias
    for layer in layers[1:]:
        W, b = W @ layer.weight, layer.weight @ b + layer.bias
    return W, b


def compose_last_bias_only(layers):
    W, _ = compose_ok(layers)
    return W, layers[-1].bias


def compose_biases_added(layers):
    W, _ = compose_ok(layers)
    return W, sum(layer.bias for layer in layers)


def log_softmax_ok(logits):
    m = logits.amax(dim=-1, keepdim=True)
    return logits - m - torch.log(torch.exp(logits - m).sum(dim=-1, keepdim=True))


def log_softmax_naive(logits):
    return torch.log(torch.exp(logits) / torch.exp(logits).sum(dim=-1, keepdim=True))


def log_softmax_mean_shift(logits):
    m = logits.mean(dim=-1, keepdim=True)
    return logits - m - torch.log(torch.exp(logits - m).sum(dim=-1, keepdim=True))


def log_softmax_forgets_max(logits):
    m = logits.amax(dim=-1, keepdim=True)
    return logits - torch.log(torch.exp(logits - m).sum(dim=-1, keepdim=True))


def log_softmax_first_dim(logits):
    return torch.log_softmax(logits, dim=0)


def dead_ok(h):
    return (h.amax(dim=0) == 0).float().mean().item()


CORRECT = {
    "sigmoid_derivative": sigmoid_derivative_ok,
    "leaky_relu": lambda z, slope: torch.where(z > 0, z, slope * z),
    "gelu": gelu_ok,
    "compose_linear": compose_ok,
    "stable_log_softmax": log_softmax_ok,
    "dead_unit_fraction": dead_ok,
}

MUTANTS = {
    "sigmoid_derivative": {
        "sigmoid itself": torch.sigmoid,
        "plus instead of minus": lambda z: torch.sigmoid(z) * (1 + torch.sigmoid(z)),
        "uses z instead of sigma(z)": lambda z: z * (1 - z),
        "tanh's derivative": lambda z: 1 - torch.tanh(z) ** 2,
        "overflows for large negative z": lambda z: torch.exp(-z) / (1 + torch.exp(-z)) ** 2,
        "returns float32": lambda z: sigmoid_derivative_ok(z).float(),
    },
    "leaky_relu": {
        "ignores the slope": lambda z, slope: torch.relu(z),
        "slope on the positive side": lambda z, slope: torch.where(z > 0, slope * z, z),
        "max with the slope": lambda z, slope: torch.maximum(z, torch.full_like(z, slope)),
        "adds the slope": lambda z, slope: torch.where(z > 0, z, z + slope),
        "absolute value": lambda z, slope: torch.where(z > 0, z, slope * z.abs()),
    },
    "gelu": {
        "tanh approximation": lambda z: torch.nn.functional.gelu(z, approximate="tanh"),
        "SiLU instead": lambda z: z * torch.sigmoid(z),
        "sigmoid approximation": lambda z: z * torch.sigmoid(1.702 * z),
        "erf without the square root": lambda z: z * 0.5 * (1 + torch.erf(z)),
        "CDF only": lambda z: 0.5 * (1 + torch.erf(z / math.sqrt(2))),
    },
    "compose_linear": {
        "product in the wrong order": compose_wrong_order,
        "only the last bias": compose_last_bias_only,
        "biases added without the weights": compose_biases_added,
        "first layer only": lambda layers: (layers[0].weight, layers[0].bias),
    },
    "stable_log_softmax": {
        "naive formula": log_softmax_naive,
        "shifts by the mean": log_softmax_mean_shift,
        "forgets to subtract the max back": log_softmax_forgets_max,
        "wrong dimension": log_softmax_first_dim,
        "softmax instead of log-softmax": lambda logits: torch.softmax(logits, dim=-1),
    },
    "dead_unit_fraction": {
        "fraction of zero entries": lambda h: (h == 0).float().mean().item(),
        "rows instead of columns": lambda h: (h.amax(dim=1) == 0).float().mean().item(),
        "any zero instead of all zero": lambda h: (h.amin(dim=0) == 0).float().mean().item(),
        "count instead of fraction": lambda h: (h.amax(dim=0) == 0).sum().item(),
        "alive fraction": lambda h: (h.amax(dim=0) > 0).float().mean().item(),
    },
}

# Each correct answer as its only variant, until the chapter lists its variants.
CORRECT = {name: {"reference": fn} for name, fn in CORRECT.items()}
