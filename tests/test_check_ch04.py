"""Chapter 4 checks: every correct variant accepted, every known mistake rejected.

tests/test_checks.py runs both tables: ``CORRECT`` maps each check to the answers it must
accept, ``MUTANTS`` to the wrong answers it must refuse, each with its own hint. Weights
follow nn.Linear's convention: W of shape (d_out, d_in).
"""

import math

import numpy as np
import torch

# --- Exercise 1: counting parameters -----------------------------------------------------


def count_ok(sizes):
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))


def count_numpy(sizes):
    s = np.array(sizes)
    return np.sum((s[:-1] + 1) * s[1:])  # a NumPy integer


def count_tensor(sizes):
    s = torch.tensor(sizes)
    return ((s[:-1] + 1) * s[1:]).sum()  # a one-element integer tensor


# --- Exercise 2: the forward pass --------------------------------------------------------


def forward_ok(X, params):
    H = X
    for k, (W, b) in enumerate(params):
        H = H @ W.T + b
        if k < len(params) - 1:
            H = torch.relu(H)
    return H


def forward_linear_fn(X, params):
    *hidden, (W_out, b_out) = params
    for W, b in hidden:
        X = torch.nn.functional.linear(X, W, b).clamp(min=0)
    return torch.nn.functional.linear(X, W_out, b_out)


def forward_given_bugs(X, params):  # the code of the exercise, both bugs in place
    H = X
    for k, (W, b) in enumerate(params):
        Z = H @ W + b
        H = torch.relu(Z) if k == len(params) else Z
    return H


def forward_transposed(X, params):
    H = X
    for k, (W, b) in enumerate(params):
        H = H @ W + b
        if k < len(params) - 1:
            H = torch.relu(H)
    return H


def forward_no_activation(X, params):
    for W, b in params:
        X = X @ W.T + b
    return X


def forward_relu_on_output(X, params):
    return torch.relu(forward_ok(X, params))


def forward_tanh(X, params):
    H = X
    for k, (W, b) in enumerate(params):
        H = H @ W.T + b
        if k < len(params) - 1:
            H = torch.tanh(H)
    return H


def forward_skips_last(X, params):
    return forward_ok(X, params[:-1]) if len(params) > 1 else X @ params[0][0].T


# --- Exercise 3: XOR with ReLU units -----------------------------------------------------


def xor_sum_and_pair():  # h1 = relu(x1 + x2), h2 = relu(x1 + x2 - 1), y = h1 - 2 h2
    return (torch.tensor([[1.0, 1.0], [1.0, 1.0]]), torch.tensor([0.0, -1.0]),
            torch.tensor([[1.0, -2.0]]), torch.tensor([0.0]))


def xor_absolute_difference():  # |x1 - x2| = relu(x1 - x2) + relu(x2 - x1)
    return (torch.tensor([[1.0, -1.0], [-1.0, 1.0]]), torch.zeros(2),
            torch.tensor([[1.0, 1.0]]), torch.zeros(1))


def xor_float64_lists():
    W1, b1, W2, b2 = xor_sum_and_pair()
    return tuple(t.double() for t in (W1, b1, W2, b2))


def xor_step_weights():  # the chapter's OR / NAND / AND weights, fed to ReLU
    return (torch.tensor([[1.0, 1.0], [-1.0, -1.0]]), torch.tensor([-0.5, 1.5]),
            torch.tensor([[1.0, 1.0]]), torch.tensor([-1.5]))


def xor_w2_column():
    W1, b1, W2, b2 = xor_sum_and_pair()
    return W1, b1, W2.T, b2


def xor_wrong_output_bias():
    W1, b1, W2, _ = xor_sum_and_pair()
    return W1, b1, W2, torch.tensor([0.5])


# --- Exercise 4: mean square ---------------------------------------------------------------


def mean_square_ok(depth, width, std, input_mean_square=1.0):
    return input_mean_square * (width * std**2 / 2) ** depth


def mean_square_loop(depth, width, std, input_mean_square=1.0):
    m = torch.tensor(float(input_mean_square), dtype=torch.float64)
    for _ in range(depth):
        m = 0.5 * width * std**2 * m
    return m  # a 0-dimensional tensor


def mean_square_float32(depth, width, std, input_mean_square=1.0):
    return input_mean_square * torch.tensor(width * std**2 / 2) ** depth  # float32


def mean_square_log(depth, width, std, input_mean_square=1.0):
    return math.exp(math.log(input_mean_square)
                    + depth * (math.log(width) + 2 * math.log(std) - math.log(2)))


# --- Exercise 5: distinct units ------------------------------------------------------------


def distinct_greedy(W, b, tol=1e-6):
    rows = torch.cat([W, b.reshape(-1, 1)], dim=1)
    kept = []
    for row in rows:
        if all((row - other).abs().max() > tol for other in kept):
            kept.append(row)
    return len(kept)


def distinct_pairwise(W, b, tol=1e-6):
    rows = torch.cat([W, b[:, None]], dim=1).double()
    close = torch.cdist(rows, rows, p=float("inf")) <= tol  # (units, units)
    first = [not close[k, :k].any() for k in range(len(rows))]
    return np.int64(sum(first))  # a NumPy integer


def distinct_exact(W, b, tol=1e-6):
    return len(torch.unique(torch.cat([W, b[:, None]], dim=1), dim=0))


def distinct_neighbours_only(W, b, tol=1e-6):  # compares each unit with the previous
    rows = torch.cat([W, b[:, None]], dim=1)
    return 1 + int(((rows[1:] - rows[:-1]).abs().amax(dim=1) > tol).sum())


def distinct_rounded(W, b, tol=1e-6):  # rounds to a grid of step tol
    rows = torch.cat([W, b[:, None]], dim=1)
    return len(torch.unique(torch.round(rows / tol), dim=0))


def distinct_ignores_bias(W, b, tol=1e-6):
    return distinct_greedy(W, torch.zeros_like(b), tol)


def distinct_columns(W, b, tol=1e-6):
    return distinct_greedy(W.T, torch.zeros(W.shape[1]), tol)


# --- Exercise 6: the zigzag ----------------------------------------------------------------


def zigzag_four_units():
    W1 = torch.ones(4, 1)
    b1 = torch.tensor([1.0, 0.5, 0.0, -0.5])  # corners at -1, -0.5, 0 and 0.5
    W2 = torch.tensor([[2.0, -4.0, 4.0, -4.0]])
    return W1, b1, W2, torch.zeros(1)


def zigzag_mirrored():  # units that switch on to the left: relu(-x + t)
    W1 = -torch.ones(4, 1)
    b1 = torch.tensor([1.0, 0.5, 0.0, -0.5])
    W2 = torch.tensor([[2.0, -4.0, 4.0, -4.0]])
    return W1, b1, W2, torch.zeros(1)


def zigzag_many_units():  # an interpolating grid of 40 knots, fitted by least squares
    knots = torch.linspace(-1, 1, 41, dtype=torch.float64)[:-1]  # 40 units
    x = torch.linspace(-1, 1, 401, dtype=torch.float64).reshape(-1, 1)
    H = torch.relu(x - knots)  # (401, 40)
    target = 1 - 2 * ((x.abs() - 0.5).abs())
    coef = torch.linalg.lstsq(torch.cat([H, torch.ones_like(x)], 1), target).solution
    return torch.ones(40, 1, dtype=torch.float64), -knots, coef[:-1].T, coef[-1]


def zigzag_no_linear_part():
    W1, b1, W2, b2 = zigzag_four_units()
    return W1[1:], b1[1:], W2[:, 1:], b2


def zigzag_half_slopes():
    W1, b1, W2, b2 = zigzag_four_units()
    return W1, b1, W2 / 2, b2


def zigzag_w2_column():
    W1, b1, W2, b2 = zigzag_four_units()
    return W1, b1, W2.T, b2


def zigzag_corner_off():
    W1, b1, W2, b2 = zigzag_four_units()
    return W1, torch.tensor([1.0, 0.4, 0.0, -0.5]), W2, b2


CORRECT = {
    "mlp_parameter_count": {
        "int": count_ok,
        "NumPy integer": count_numpy,
        "integer tensor": count_tensor,
    },
    "mlp_forward": {
        "loop with the activation condition": forward_ok,
        "torch.nn.functional.linear and clamp": forward_linear_fn,
    },
    "xor_relu_weights": {
        "x1 + x2 and x1 + x2 - 1": xor_sum_and_pair,
        "|x1 - x2|": xor_absolute_difference,
        "float64": xor_float64_lists,
    },
    "relu_mean_square": {
        "formula": mean_square_ok,
        "loop, returns a 0-d tensor": mean_square_loop,
        "float32 tensor": mean_square_float32,
        "through logarithms": mean_square_log,
    },
    "distinct_hidden_units": {
        "greedy": distinct_greedy,
        "pairwise distances, NumPy integer": distinct_pairwise,
    },
    "zigzag_weights": {
        "four units": zigzag_four_units,
        "mirrored units": zigzag_mirrored,
        "40 units by least squares": zigzag_many_units,
    },
}

MUTANTS = {
    "mlp_parameter_count": {
        "forgets the biases": lambda sizes: sum(a * b for a, b in zip(sizes[:-1], sizes[1:])),
        "bias per input": lambda sizes: sum(a * (b + 1) for a, b in zip(sizes[:-1], sizes[1:])),
        "misses the last layer": lambda sizes: count_ok(sizes[:-1]),
        "counts units": lambda sizes: sum(sizes),
        "returns a float": lambda sizes: float(count_ok(sizes)),
    },
    "mlp_forward": {
        "the given code, both bugs": forward_given_bugs,
        "W not transposed": forward_transposed,
        "no activation": forward_no_activation,
        "ReLU on the output": forward_relu_on_output,
        "tanh instead of ReLU": forward_tanh,
        "skips the last layer": forward_skips_last,
    },
    "xor_relu_weights": {
        "the step network's weights": xor_step_weights,
        "W2 of shape (2, 1)": xor_w2_column,
        "wrong output bias": xor_wrong_output_bias,
        "returns a pair": lambda: xor_sum_and_pair()[:2],
    },
    "relu_mean_square": {
        "forgets that ReLU halves": lambda d, w, s, m=1.0: m * (w * s**2) ** d,
        "std instead of variance": lambda d, w, s, m=1.0: m * (w * s / 2) ** d,
        "ignores the width": lambda d, w, s, m=1.0: m * (s**2 / 2) ** d,
        "one layer too many": lambda d, w, s, m=1.0: m * (w * s**2 / 2) ** (d + 1),
        "ignores the input": lambda d, w, s, m=1.0: (w * s**2 / 2) ** d,
        "returns a string": lambda d, w, s, m=1.0: "0.5",
    },
    "distinct_hidden_units": {
        "exact equality": distinct_exact,
        "compares neighbours only": distinct_neighbours_only,
        "rounds to a grid of step tol": distinct_rounded,
        "ignores the biases": distinct_ignores_bias,
        "counts columns": distinct_columns,
        "counts every unit": lambda W, b, tol=1e-6: W.shape[0],
        "returns a float": lambda W, b, tol=1e-6: float(distinct_greedy(W, b, tol)),
    },
    "zigzag_weights": {
        "no unit for the linear part": zigzag_no_linear_part,
        "half the slopes": zigzag_half_slopes,
        "W2 of shape (k, 1)": zigzag_w2_column,
        "a corner moved": zigzag_corner_off,
        "returns a pair": lambda: zigzag_four_units()[:2],
    },
}
