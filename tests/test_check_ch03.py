"""Chapter 3 checks: every correct variant accepted, every known mistake rejected.

tests/test_checks.py runs both tables: ``CORRECT`` maps each check to the answers it must
accept, ``MUTANTS`` to the wrong answers it must refuse, each with its own hint.
"""

import functools
import math

import torch
import torch.nn.functional as F

# --- Exercise 1: GELU ------------------------------------------------------------------


def gelu_erf(z):
    return z * 0.5 * (1 + torch.erf(z / math.sqrt(2)))


def gelu_erfc(z):
    return 0.5 * z * torch.erfc(-z / math.sqrt(2))


def gelu_float64_inside(z):
    return gelu_erf(z.double()).to(z.dtype)


def gelu_float32_sqrt2(z):  # sqrt(2) as a float32 tensor: off by about 5e-9
    return z * 0.5 * (1 + torch.erf(z / torch.sqrt(torch.tensor(2.0))))


def gelu_tanh_approximation(z):  # Hendrycks and Gimpel's tanh form, written out
    inner = math.sqrt(2 / math.pi) * (z + 0.044715 * z**3)
    return 0.5 * z * (1 + torch.tanh(inner))


# --- Exercise 2: tanh' -------------------------------------------------------------------


def tanh_prime_sigma_pair(z):
    return 4 * torch.sigmoid(2 * z) * torch.sigmoid(-2 * z)


def tanh_prime_sigma_one_minus(z):
    s = torch.sigmoid(2 * z)
    return 4 * s * (1 - s)


def tanh_prime_from_tanh(z):  # right values, but not derived from the sigmoid
    return 1 - torch.tanh(z) ** 2


def tanh_prime_cosh(z):
    return 1 / torch.cosh(z) ** 2


def tanh_prime_method(z):
    return 1 - z.tanh() ** 2


def tanh_prime_module(z):
    return 1 - torch.nn.Tanh()(z) ** 2


def tanh_prime_sigma_pair_float64(z):
    return tanh_prime_sigma_pair(z.double()).to(z.dtype)


def tanh_prime_from_sigma_tanh(z):
    t = 2 * torch.sigmoid(2 * z) - 1
    return 1 - t * t


def tanh_prime_one_factor_two(z):
    s = torch.sigmoid(2 * z)
    return 2 * s * (1 - s)


def tanh_prime_sigma_at_z(z):
    s = torch.sigmoid(z)
    return 4 * s * (1 - s)


def tanh_prime_overflows(z):
    e = torch.exp(2 * z)
    return 4 * e / (1 + e) ** 2


def tanh_prime_autograd(z):
    z = z.clone().requires_grad_()
    torch.tanh(z).sum().backward()
    return z.grad


def tanh_prime_no_square(z):
    return 1 - torch.tanh(z)


def tanh_prime_enable_grad(z):  # autograd switched back on inside the function
    with torch.enable_grad():
        z = z.clone().requires_grad_()
        torch.tanh(z).sum().backward()
    return z.grad


def tanh_prime_func_grad(z):
    return torch.func.grad(lambda v: torch.tanh(v).sum())(z)


# --- Exercise 3: the hat -------------------------------------------------------------------


def hat_pieces_tensors():
    return torch.tensor([-1.0, 0.0, 1.0]), torch.tensor([1.0, -2.0, 1.0])


def hat_pieces_lists():  # lists of ints, in a list
    return [[1, -1, 0], [1, 1, -2]]  # another order of the same three pieces


def hat_pieces_float64():
    t = torch.linspace(-1, 1, 3, dtype=torch.float64)
    return t, 1 - 3 * (t == 0).double()  # weights 1, -2, 1


def hat_pieces_numpy():
    import numpy as np

    return np.array([0.0, 1.0, -1.0]), np.array([-2.0, 1.0, 1.0])


def hat_relus(z):  # a hat function, not its pieces
    return F.relu(z + 1) - 2 * F.relu(z) + F.relu(z - 1)


# --- Exercise 4: compose_linear ------------------------------------------------------------


def compose_loop(layers):
    W, b = layers[0]
    for W_next, b_next in layers[1:]:
        W = W_next @ W  # (out, mid) @ (mid, in) -> (out, in)
        b = b @ W_next.T + b_next
    return W, b


def compose_reduce(layers):
    def fold(acc, layer):
        return layer[0] @ acc[0], layer[0] @ acc[1] + layer[1]

    return functools.reduce(fold, layers[1:], layers[0])


def compose_by_probing(layers):
    d_in = layers[0][0].shape[1]
    dtype = layers[0][0].dtype

    def stack(X):
        for W, b in layers:
            X = X @ W.T + b
        return X

    b = stack(torch.zeros(1, d_in, dtype=dtype))[0]
    return (stack(torch.eye(d_in, dtype=dtype)) - b).T, b


def compose_given_bugs(layers):  # the code of the exercise, both bugs in place
    W, b = layers[0]
    for W_next, b_next in layers[1:]:
        W = W @ W_next
        b = b + b_next
    return W, b


def compose_order_bug(layers):
    W, b = layers[0]
    for W_next, b_next in layers[1:]:
        W = W @ W_next
        b = b @ W_next.T + b_next
    return W, b


def compose_bias_bug(layers):
    W, b = layers[0]
    for W_next, b_next in layers[1:]:
        W = W_next @ W
        b = b + b_next
    return W, b


def compose_transposed(layers):
    W, b = compose_loop(layers)
    return W.T, b


def compose_last_bias(layers):
    W, _ = compose_loop(layers)
    return W, layers[-1][1]


# --- Exercise 5: Mish' -----------------------------------------------------------------------


def mish_prime(z):
    t = torch.tanh(F.softplus(z))
    return t + z * torch.sigmoid(z) * (1 - t**2)


def mish_prime_expanded(z):
    sp = torch.where(z > 20, z, torch.log1p(torch.exp(z.clamp(max=20))))
    t = torch.tanh(sp)
    sech2 = 1 / torch.cosh(sp) ** 2
    return t + z * sech2 * torch.exp(z - sp)  # sigma(z) = e^z / (1 + e^z) = e^(z - sp)


def mish_prime_float64_inside(z):
    return mish_prime(z.double()).to(z.dtype)


def mish_prime_closed_form(z):  # the omega / delta form of the paper: overflows
    e = torch.exp(z)
    omega = 4 * (z + 1) + 4 * e**2 + e**3 + e * (4 * z + 6)
    delta = 2 * e + e**2 + 2
    return e * omega / delta**2


def mish_prime_autograd(z):
    z = z.clone().requires_grad_()
    (z * torch.tanh(F.softplus(z))).sum().backward()
    return z.grad


def mish_prime_enable_grad(z):  # autograd switched back on inside the function
    with torch.enable_grad():
        return mish_prime_autograd(z)


def mish(z):
    return z * torch.tanh(F.softplus(z))


def mish_prime_central(z, h=1e-5):  # a central difference, computed in float64
    x = z.double()
    return ((mish(x + h) - mish(x - h)) / (2 * h)).to(z.dtype)


def mish_prime_func_grad(z):
    return torch.func.grad(lambda v: (v * torch.tanh(F.softplus(v))).sum())(z)


CORRECT = {
    "gelu": {
        "erf": gelu_erf,
        "erfc": gelu_erfc,
        "computed in float64 and cast back": gelu_float64_inside,
        "sqrt(2) as a float32 tensor": gelu_float32_sqrt2,
    },
    "tanh_derivative": {
        "4 sigma(2z) sigma(-2z)": tanh_prime_sigma_pair,
        "4 sigma(2z) (1 - sigma(2z))": tanh_prime_sigma_one_minus,
        "1 - (2 sigma(2z) - 1)^2": tanh_prime_from_sigma_tanh,
        "computed in float64 and cast back": tanh_prime_sigma_pair_float64,
    },
    "hat_pieces": {
        "tensors, in order": hat_pieces_tensors,
        "lists of ints, another order": hat_pieces_lists,
        "float64": hat_pieces_float64,
        "NumPy arrays, another order": hat_pieces_numpy,
    },
    "compose_linear": {
        "loop": compose_loop,
        "functools.reduce": compose_reduce,
        "probing with the identity": compose_by_probing,
    },
    "mish_derivative": {
        "tanh and softplus": mish_prime,
        "sigma as exp(z - softplus)": mish_prime_expanded,
        "computed in float64 and cast back": mish_prime_float64_inside,
    },
}

MUTANTS = {
    "gelu": {
        "tanh approximation": gelu_tanh_approximation,
        "F.gelu itself": F.gelu,
        "F.gelu's tanh approximation": lambda z: F.gelu(z, approximate="tanh"),
        "torch.nn.GELU": lambda z: torch.nn.GELU()(z),
        "torch.nn.functional.gelu, computed in float64":
            lambda z: torch.nn.functional.gelu(z.double()).to(z.dtype),
        "SiLU instead": lambda z: z * torch.sigmoid(z),
        "sigmoid approximation": lambda z: z * torch.sigmoid(1.702 * z),
        "erf without the square root": lambda z: z * 0.5 * (1 + torch.erf(z)),
        "distribution function only": lambda z: 0.5 * (1 + torch.erf(z / math.sqrt(2))),
        "returns float64 for float32": lambda z: gelu_erf(z.double()),
    },
    "tanh_derivative": {
        "one factor 2 missing": tanh_prime_one_factor_two,
        "sigma' at z instead of 2z": tanh_prime_sigma_at_z,
        "overflows in float32": tanh_prime_overflows,
        "autograd instead of a formula": tanh_prime_autograd,
        "autograd under torch.enable_grad()": tanh_prime_enable_grad,
        "torch.func.grad": tanh_prime_func_grad,
        "1 - tanh(z), no square": tanh_prime_no_square,
        "returns float32 for float64": lambda z: tanh_prime_sigma_pair(z).float(),
        "tanh itself": torch.tanh,
        "1 - tanh(z)^2, not from the sigmoid": tanh_prime_from_tanh,
        "1 / cosh(z)^2": tanh_prime_cosh,
        "1 - z.tanh()^2 (the method)": tanh_prime_method,
        "1 - nn.Tanh()(z)^2": tanh_prime_module,
        "1 - F.tanh(z)^2": lambda z: 1 - F.tanh(z) ** 2,
    },
    "hat_pieces": {
        "middle weight -1, last -1": lambda: ([-1.0, 0.0, 1.0], [1.0, -1.0, -1.0]),
        "no ReLU on the right": lambda: ([-1.0, 0.0, 1.0], [1.0, -2.0, 0.0]),
        "centred at 1": lambda: ([0.0, 1.0, 2.0], [1.0, -2.0, 1.0]),
        "twice as wide": lambda: ([-2.0, 0.0, 2.0], [1.0, -2.0, 1.0]),
        "ramp": lambda: ([-1.0, 0.0, 1.0], [1.0, -1.0, 0.0]),
        "t and a swapped": lambda: ([1.0, -2.0, 1.0], [-1.0, 0.0, 1.0]),
        "weights in another order than their switch points":
            lambda: ([-1.0, 0.0, 1.0], [-2.0, 1.0, 1.0]),
        "two pieces only": lambda: ([-1.0, 0.0], [1.0, -2.0]),
        "a hat function instead of its pieces": hat_relus,
        "t only": lambda: torch.tensor([-1.0, 0.0, 1.0]),
    },
    "compose_linear": {
        "the given code, both bugs": compose_given_bugs,
        "product in the wrong order": compose_order_bug,
        "biases added without the weights": compose_bias_bug,
        "W transposed": compose_transposed,
        "only the last bias": compose_last_bias,
        "first layer only": lambda layers: layers[0],
        "returns W only": lambda layers: compose_loop(layers)[0],
    },
    "mish_derivative": {
        "first product-rule term missing":
            lambda z: z * torch.sigmoid(z) * (1 - torch.tanh(F.softplus(z)) ** 2),
        "softplus' missing":
            lambda z: torch.tanh(F.softplus(z)) + z * (1 - torch.tanh(F.softplus(z)) ** 2),
        "tanh' at z": lambda z: torch.tanh(F.softplus(z))
        + z * torch.sigmoid(z) * (1 - torch.tanh(z) ** 2),
        "closed form that overflows in float32": mish_prime_closed_form,
        "autograd instead of a formula": mish_prime_autograd,
        "autograd under torch.enable_grad()": mish_prime_enable_grad,
        "torch.func.grad": mish_prime_func_grad,
        "mish itself": lambda z: z * torch.tanh(F.softplus(z)),
        "central difference in float64": mish_prime_central,
        "central difference, h = 1e-6": lambda z: mish_prime_central(z, h=1e-6),
        "central difference, h = 1e-4": lambda z: mish_prime_central(z, h=1e-4),
    },
}
