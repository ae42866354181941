"""Chapter 7 checks: each accepts a correct answer and rejects plausible wrong ones."""

import torch
from torch import nn


def mlp_ok(sizes, *, activation=nn.ReLU, last_activation=False, reverse=False):
    layers = []
    for k, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(n_out, n_in) if reverse else nn.Linear(n_in, n_out))
        if k < len(sizes) - 2 or last_activation:
            layers.append(activation())
    return nn.Sequential(*layers)


def he_ok(model, *, mode="fan_in", zero_bias=True, scheme="he"):
    for m in model.modules():
        if isinstance(m, nn.Linear):
            if scheme == "xavier":
                nn.init.xavier_normal_(m.weight)
            elif scheme == "variance as std":
                nn.init.normal_(m.weight, std=2.0 / m.in_features)
            else:
                nn.init.kaiming_normal_(m.weight, mode=mode, nonlinearity="relu")
            if zero_bias:
                nn.init.zeros_(m.bias)
    return model


def momentum_ok(param, grad, velocity, lr, momentum, *, ema=False, use_grad=False, sign=1.0):
    velocity = momentum * velocity + ((1 - momentum) * grad if ema else grad)
    return param - sign * lr * (grad if use_grad else velocity), velocity


def adamw_ok(param, grad, m, v, t, lr, betas, eps, weight_decay, *, correct=True,
             coupled=False, eps_inside=False, decay_after=False):
    b1, b2 = betas
    if coupled:
        grad = grad + weight_decay * param
    elif not decay_after:
        param = param * (1 - lr * weight_decay)
    m = b1 * m + (1 - b1) * grad
    v = b2 * v + (1 - b2) * grad**2
    m_hat, v_hat = (m / (1 - b1**t), v / (1 - b2**t)) if correct else (m, v)
    denominator = (v_hat + eps).sqrt() if eps_inside else v_hat.sqrt() + eps
    param = param - lr * m_hat / denominator
    if decay_after and not coupled:
        param = param * (1 - lr * weight_decay)
    return param, m, v


def dropout_ok(x, p, training, generator, *, scale=True, keep_low=False, always=False):
    if not (training or always):
        return x
    u = torch.rand(x.shape, generator=generator)
    keep = u < p if keep_low else u >= p
    return torch.where(keep, x / (1 - p) if scale else x, torch.zeros_like(x))


CORRECT = {
    "mlp_from_sizes": mlp_ok,
    "he_init": he_ok,
    "momentum_step": momentum_ok,
    "adamw_step": adamw_ok,
    "inverted_dropout": dropout_ok,
}

MUTANTS = {
    "mlp_from_sizes": {
        "ReLU after the output layer": lambda s: mlp_ok(s, last_activation=True),
        "tanh instead of ReLU": lambda s: mlp_ok(s, activation=nn.Tanh),
        "layers reversed": lambda s: mlp_ok(s, reverse=True),
        "no activations": lambda s: nn.Sequential(*[nn.Linear(a, b) for a, b in zip(s, s[1:])]),
    },
    "he_init": {
        "Xavier instead of He": lambda model: he_ok(model, scheme="xavier"),
        "fan_out instead of fan_in": lambda model: he_ok(model, mode="fan_out"),
        "variance used as standard deviation": lambda model: he_ok(model, scheme="variance as std"),
        "biases left alone": lambda model: he_ok(model, zero_bias=False),
    },
    "momentum_step": {
        "average instead of sum": lambda *a: momentum_ok(*a, ema=True),
        "steps with the gradient": lambda *a: momentum_ok(*a, use_grad=True),
        "wrong sign": lambda *a: momentum_ok(*a, sign=-1.0),
        "ignores momentum": lambda p, g, v, lr, mu: momentum_ok(p, g, v, lr, 0.0),
    },
    "adamw_step": {
        "no bias correction": lambda *a: adamw_ok(*a, correct=False),
        "decay through the gradient (Adam with L2)": lambda *a: adamw_ok(*a, coupled=True),
        "eps inside the square root": lambda *a: adamw_ok(*a, eps_inside=True),
        "decay after the step": lambda *a: adamw_ok(*a, decay_after=True),
        "no weight decay": lambda p, g, m, v, t, lr, b, e, wd: adamw_ok(p, g, m, v, t, lr, b, e,
                                                                         0.0),
    },
    "inverted_dropout": {
        "no rescaling": lambda *a: dropout_ok(*a, scale=False),
        "keeps the wrong entries": lambda *a: dropout_ok(*a, keep_low=True),
        "drops in evaluation mode": lambda *a: dropout_ok(*a, always=True),
        "scales by 1 - p": lambda x, p, training, gen: dropout_ok(x, p, training, gen) * (1 - p)**2,
    },
}

# Each correct answer as its only variant, until the chapter lists its variants.
CORRECT = {name: {"reference": fn} for name, fn in CORRECT.items()}
