"""Chapter 4 checks: each accepts a correct answer and rejects plausible wrong ones."""

import torch
from torch import nn


def forward_ok(X, params):
    H = X
    for W, b in params[:-1]:
        H = torch.relu(H @ W + b)
    W, b = params[-1]
    return H @ W + b


def forward_relu_on_output(X, params):
    return torch.relu(forward_ok(X, params))


def forward_no_bias(X, params):
    return forward_ok(X, [(W, torch.zeros_like(b)) for W, b in params])


def forward_tanh(X, params):
    H = X
    for W, b in params[:-1]:
        H = torch.tanh(H @ W + b)
    W, b = params[-1]
    return H @ W + b


def forward_skips_last(X, params):
    return forward_ok(X, params[:-1]) if len(params) > 1 else X @ params[0][0]


def count_ok(sizes):
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))


def xor_ok():
    W1 = torch.tensor([[1.0, -1.0], [1.0, -1.0]])
    b1 = torch.tensor([-0.5, 1.5])
    return W1, b1, torch.tensor([[1.0], [1.0]]), torch.tensor([-1.5])


def xor_or_output():
    W1, b1, W2, _ = xor_ok()
    return W1, b1, W2, torch.tensor([-0.5])


def xor_lines_through_corners():
    W1 = torch.tensor([[1.0, -1.0], [1.0, -1.0]])
    return W1, torch.tensor([-1.0, 1.0]), torch.tensor([[1.0], [1.0]]), torch.tensor([-1.5])


def xor_flat_shapes():
    W1, b1, W2, b2 = xor_ok()
    return W1, b1, W2.reshape(2), b2


def sequential_ok(params):
    layers = []
    for W, b in params:
        linear = nn.Linear(*W.shape)
        with torch.no_grad():
            linear.weight.copy_(W.T)
            linear.bias.copy_(b)
        layers += [linear, nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def sequential_no_transpose(params):
    layers = []
    for W, b in params:
        linear = nn.Linear(W.shape[1], W.shape[0])
        with torch.no_grad():
            linear.weight.copy_(W)
            linear.bias.copy_(b)
        layers += [linear, nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def sequential_relu_at_end(params):
    return nn.Sequential(*sequential_ok(params), nn.ReLU())


def sequential_no_relu(params):
    return nn.Sequential(*[m for m in sequential_ok(params) if isinstance(m, nn.Linear)])


def sequential_bias_not_copied(params):
    model = sequential_ok(params)
    with torch.no_grad():
        for m in model:
            if isinstance(m, nn.Linear):
                m.bias.zero_()
    return model


CORRECT = {
    "mlp_forward": forward_ok,
    "mlp_parameter_count": count_ok,
    "layer_shapes": lambda n, sizes: [(n, d) for d in sizes],
    "xor_weights": xor_ok,
    "to_sequential": sequential_ok,
}

MUTANTS = {
    "mlp_forward": {
        "ReLU on the output": forward_relu_on_output,
        "forgets the biases": forward_no_bias,
        "tanh instead of ReLU": forward_tanh,
        "skips the last layer": forward_skips_last,
    },
    "mlp_parameter_count": {
        "forgets the biases": lambda sizes: sum(a * b for a, b in zip(sizes[:-1], sizes[1:])),
        "bias per input": lambda sizes: sum(a * (b + 1) for a, b in zip(sizes[:-1], sizes[1:])),
        "misses the last layer": lambda sizes: count_ok(sizes[:-1]),
        "counts units": lambda sizes: sum(sizes),
    },
    "layer_shapes": {
        "transposed": lambda n, sizes: [(d, n) for d in sizes],
        "forgets the input": lambda n, sizes: [(n, d) for d in sizes[1:]],
        "weight shapes": lambda n, sizes: [(a, b) for a, b in zip(sizes[:-1], sizes[1:])],
    },
    "xor_weights": {
        "output unit computes OR": xor_or_output,
        "hidden lines through the corners": xor_lines_through_corners,
        "W2 of shape (2,)": xor_flat_shapes,
        "returns a pair": lambda: xor_ok()[:2],
    },
    "to_sequential": {
        "weights not transposed": sequential_no_transpose,
        "ReLU after the output": sequential_relu_at_end,
        "no ReLU": sequential_no_relu,
        "biases not copied": sequential_bias_not_copied,
        "returns a list": lambda params: list(sequential_ok(params)),
    },
}

# Each correct answer as its only variant, until the chapter lists its variants.
CORRECT = {name: {"reference": fn} for name, fn in CORRECT.items()}
