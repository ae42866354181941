"""Chapter 7 checks: the correct answers each accepts and the mistakes each rejects."""

import math
from collections import OrderedDict

import torch
import torch.nn.utils.clip_grad
from torch import nn
from torch.nn.init import kaiming_uniform_
from torch.nn.utils import clip_grad_norm_
from torch.optim import AdamW

# --- Exercise 1: an MLP from a list of sizes -------------------------------------------


def mlp_ok(sizes, *, activation=nn.ReLU, last_activation=False, reverse=False):
    layers = []
    for k, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(n_out, n_in) if reverse else nn.Linear(n_in, n_out))
        if k < len(sizes) - 2 or last_activation:
            layers.append(activation())
    return nn.Sequential(*layers)


def mlp_named(sizes):
    """An OrderedDict of named layers, and ReLUs that work in place."""
    layers = OrderedDict()
    for k, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        layers[f"linear{k}"] = nn.Linear(n_in, n_out)
        if k < len(sizes) - 2:
            layers[f"relu{k}"] = nn.ReLU(inplace=True)
    return nn.Sequential(layers)


# --- Exercise 2: He initialisation, uniform --------------------------------------------


def he_uniform_ok(model, *, bound=lambda n_in, n_out: math.sqrt(6 / n_in), normal=False,
                  zero_bias=True):
    for m in model.modules():
        if isinstance(m, nn.Linear):
            a = bound(m.in_features, m.out_features)
            if normal:
                nn.init.normal_(m.weight, std=a / math.sqrt(3))
            else:
                nn.init.uniform_(m.weight, -a, a)
            if zero_bias:
                nn.init.zeros_(m.bias)
    return model


def he_uniform_kaiming(model):
    """PyTorch's own He-uniform initialiser for ReLU: the right distribution, but the
    exercise forbids it (it does the derivation)."""
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.kaiming_uniform_(m.weight, nonlinearity="relu")
            nn.init.constant_(m.bias, 0.0)


def he_uniform_kaiming_imported(model):
    """The same through a reference imported before the check ran."""
    for m in model.modules():
        if isinstance(m, nn.Linear):
            kaiming_uniform_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)
    return model


def he_uniform_by_hand(model):
    """Filling the tensors in place under torch.no_grad(), returning nothing."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear):
                a = (6.0 / m.weight.shape[1]) ** 0.5  # weight (out, in)
                m.weight.uniform_(-a, a)
                m.bias.zero_()


def he_uniform_apply(model):
    """model.apply visits every module, nested ones included; the bound from the
    standard deviation, a = sqrt(3) * std."""
    def init(m):
        if isinstance(m, nn.Linear):
            a = math.sqrt(3) * math.sqrt(2 / m.in_features)
            nn.init.uniform_(m.weight, a=-a, b=a)
            nn.init.constant_(m.bias, 0.0)
    return model.apply(init)


def he_uniform_top_level_only(model):
    """model.children() (or iterating over the Sequential) misses nested layers."""
    for m in model.children():
        if isinstance(m, nn.Linear):
            a = math.sqrt(6 / m.in_features)
            nn.init.uniform_(m.weight, -a, a)
            nn.init.zeros_(m.bias)
    return model


def he_uniform_replaces(model):
    for m in model.modules():
        if isinstance(m, nn.Linear):
            a = math.sqrt(6 / m.in_features)
            m.weight = nn.Parameter(torch.empty_like(m.weight).uniform_(-a, a))
            nn.init.zeros_(m.bias)
    return model


# --- Exercise 3: one step of AdamW ----------------------------------------------------


def adamw_ok(param, grad, m, v, t, lr, betas, eps, weight_decay, *, correct=True,
             coupled=False, eps_inside=False, decay_after=False, lr_in_decay=True,
             corrected_state=False):
    b1, b2 = betas
    if coupled:
        grad = grad + weight_decay * param
    elif not decay_after:
        param = param * (1 - (lr if lr_in_decay else 1.0) * weight_decay)
    m = b1 * m + (1 - b1) * grad
    v = b2 * v + (1 - b2) * grad**2
    m_hat, v_hat = (m / (1 - b1**t), v / (1 - b2**t)) if correct else (m, v)
    denominator = (v_hat + eps).sqrt() if eps_inside else v_hat.sqrt() + eps
    param = param - lr * m_hat / denominator
    if decay_after and not coupled:
        param = param * (1 - lr * weight_decay)
    if corrected_state:
        return param, m_hat, v_hat
    return param, m, v


def adamw_in_place(param, grad, m, v, t, lr, betas, eps, weight_decay):
    """In-place tensor methods, in PyTorch's own order; step size folded as PyTorch does."""
    beta1, beta2 = betas
    param = param.clone().mul_(1 - lr * weight_decay)
    m = m.clone().mul_(beta1).add_(grad, alpha=1 - beta1)
    v = v.clone().mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    step_size = lr / (1 - beta1**t)
    denominator = (v.sqrt() / math.sqrt(1 - beta2**t)).add_(eps)
    return param.addcdiv_(m, denominator, value=-step_size), m, v


def adamw_float32(param, grad, m, v, t, lr, betas, eps, weight_decay):
    """Computed in float32, returned in float32: accurate enough."""
    out = adamw_ok(param.float(), grad.float(), m.float(), v.float(), t, lr, betas, eps,
                   weight_decay)
    return out


def adamw_by_torch(param, grad, m, v, t, lr, betas, eps, weight_decay, *, cls=None):
    """torch.optim.AdamW with its state set by hand: the exercise forbids torch.optim."""
    p = param.clone().requires_grad_(True)
    optimizer = (cls or torch.optim.AdamW)([p], lr=lr, betas=betas, eps=eps,
                                           weight_decay=weight_decay)
    optimizer.state[p] = {"step": torch.tensor(float(t - 1)), "exp_avg": m.clone(),
                          "exp_avg_sq": v.clone()}
    p.grad = grad.clone()
    optimizer.step()
    state = optimizer.state[p]
    return p.detach(), state["exp_avg"], state["exp_avg_sq"]


def adamw_functional(param, grad, m, v, t, lr, betas, eps, weight_decay):
    """torch.optim's functional AdamW, reached through its module."""
    import torch.optim._functional as functional

    p, m, v = param.clone(), m.clone(), v.clone()
    functional.adamw([p], [grad.clone()], [m], [v], [], [torch.tensor(float(t - 1))],
                     amsgrad=False, beta1=betas[0], beta2=betas[1], lr=lr,
                     weight_decay=weight_decay, eps=eps, maximize=False)
    return p, m, v


# --- Exercise 4: parameter groups for weight decay -------------------------------------


def groups_by_ndim(model, weight_decay):
    decay = [p for p in model.parameters() if p.ndim > 1]
    rest = [p for p in model.parameters() if p.ndim <= 1]
    return [{"params": decay, "weight_decay": weight_decay},
            {"params": rest, "weight_decay": 0.0}]


def groups_by_module(model, weight_decay):
    decay, rest = [], []
    for module in model.modules():
        for name, p in module.named_parameters(recurse=False):
            wanted = isinstance(module, nn.Linear) and name == "weight"
            (decay if wanted else rest).append(p)
    return [{"params": rest, "weight_decay": 0}, {"params": decay,
                                                  "weight_decay": weight_decay}]


def groups_buggy(model, weight_decay, *, by_name=True, explicit_zero=False):
    """The code given in the exercise (both bugs), and each fix alone."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if name.endswith("bias") or (by_name and "norm" in name) or (
                not by_name and p.ndim < 2):
            no_decay.append(p)
        else:
            decay.append(p)
    rest = {"params": no_decay} | ({"weight_decay": 0.0} if explicit_zero else {})
    return [{"params": decay, "weight_decay": weight_decay}, rest]


def groups_decay_everything(model, weight_decay):
    return [{"params": list(model.parameters()), "weight_decay": weight_decay}]


def groups_forget_vectors(model, weight_decay):
    return [{"params": [p for p in model.parameters() if p.ndim > 1],
             "weight_decay": weight_decay}]


def groups_decays_biases(model, weight_decay):
    norms = (nn.BatchNorm1d, nn.LayerNorm)
    decay = [p for m in model.modules() if not isinstance(m, norms)
             for p in m.parameters(recurse=False)]
    rest = [p for m in model.modules() if isinstance(m, norms)
            for p in m.parameters(recurse=False)]
    return [{"params": decay, "weight_decay": weight_decay},
            {"params": rest, "weight_decay": 0.0}]


# --- Exercise 5: gradient clipping by hand ---------------------------------------------


def clip_ok(parameters, max_norm, *, per_tensor=False, always=False, after=False,
            in_place=True, listed=True):
    params = list(parameters) if listed else parameters
    grads = [p.grad for p in params if p.grad is not None]
    total = torch.sqrt(sum((g**2).sum() for g in grads))
    if per_tensor:
        for g in grads:
            norm = g.norm()
            if norm > max_norm:
                g.mul_(max_norm / norm)
        return total
    factor = max_norm / (total + 1e-6)
    if always or factor < 1:
        params = params if listed else parameters  # a generator is now used up
        for p in params:
            if p.grad is not None:
                if in_place:
                    p.grad.mul_(factor)
                else:
                    p.grad = p.grad * factor * 1.0 + 0.0  # a new tensor: still fine
    return total * min(1.0, factor.item()) if after else total


def clip_no_epsilon(parameters, max_norm):
    """Without PyTorch's 1e-6 and returning a Python float: also correct."""
    params = [p for p in parameters if p.grad is not None]
    total = math.sqrt(sum(p.grad.pow(2).sum().item() for p in params))
    if total > max_norm:
        for p in params:
            p.grad *= max_norm / total
    return total


def clip_by_value(parameters, max_norm):
    params = list(parameters)
    total = torch.sqrt(sum((p.grad**2).sum() for p in params if p.grad is not None))
    for p in params:
        if p.grad is not None:
            p.grad.clamp_(-max_norm, max_norm)
    return total


def clip_returns_copies(parameters, max_norm):
    """Scales copies of the gradients and leaves p.grad unchanged."""
    params = [p for p in parameters if p.grad is not None]
    total = torch.sqrt(sum((p.grad**2).sum() for p in params))
    factor = min(1.0, max_norm / (total.item() + 1e-6))
    _ = [p.grad * factor for p in params]
    return total


def clip_with_torch(parameters, max_norm):
    return nn.utils.clip_grad_norm_(parameters, max_norm)


def clip_with_imported(parameters, max_norm):
    """clip_grad_norm_ imported before the check ran."""
    return clip_grad_norm_(parameters, max_norm)


def clip_with_module(parameters, max_norm):
    """The function reached through its own module."""
    return torch.nn.utils.clip_grad.clip_grad_norm_(parameters, max_norm)


CORRECT = {
    "mlp_from_sizes": {"reference": mlp_ok, "named layers": mlp_named,
                       "pairs of layers, the last ReLU dropped": lambda s: nn.Sequential(*[
                           m for a, b in zip(s, s[1:]) for m in (nn.Linear(a, b), nn.ReLU())
                       ][:-1])},
    "he_uniform": {"reference": he_uniform_ok, "by hand, returning None": he_uniform_by_hand,
                   "model.apply, the bound from the standard deviation": he_uniform_apply},
    "adamw_step": {"reference": adamw_ok, "in place, PyTorch's order": adamw_in_place,
                   "computed in float32": adamw_float32},
    "decay_groups": {"by ndim": groups_by_ndim, "by module type": groups_by_module,
                     "both bugs fixed": lambda m, wd: groups_buggy(
                         m, wd, by_name=False, explicit_zero=True)},
    "clip_grad_norm": {"reference": clip_ok, "no epsilon, a float": clip_no_epsilon,
                       "new tensors assigned to .grad": lambda p, c: clip_ok(
                           p, c, in_place=False)},
}

MUTANTS = {
    "mlp_from_sizes": {
        "ReLU after the output layer": lambda s: mlp_ok(s, last_activation=True),
        "tanh instead of ReLU": lambda s: mlp_ok(s, activation=nn.Tanh),
        "layers reversed": lambda s: mlp_ok(s, reverse=True),
        "no activations": lambda s: nn.Sequential(*[nn.Linear(a, b)
                                                    for a, b in zip(s, s[1:])]),
        "a list, not a Sequential": lambda s: list(mlp_ok(s)),
        "Linear layers without bias": lambda s: nn.Sequential(*[
            m for a, b in zip(s, s[1:]) for m in (nn.Linear(a, b, bias=False), nn.ReLU())
        ][:-1]),
    },
    "he_uniform": {
        "Xavier's uniform bound": lambda m: he_uniform_ok(
            m, bound=lambda i, o: math.sqrt(6 / (i + o))),
        "variance 1 / n_in (no factor 2 for ReLU)": lambda m: he_uniform_ok(
            m, bound=lambda i, o: math.sqrt(3 / i)),
        "fan_out instead of fan_in": lambda m: he_uniform_ok(
            m, bound=lambda i, o: math.sqrt(6 / o)),
        "the variance used as the bound": lambda m: he_uniform_ok(
            m, bound=lambda i, o: 2 / i),
        "the standard deviation used as the bound": lambda m: he_uniform_ok(
            m, bound=lambda i, o: math.sqrt(2 / i)),
        "a bound too wide, 6 / sqrt(n_in)": lambda m: he_uniform_ok(
            m, bound=lambda i, o: 6 / math.sqrt(i)),
        "top-level layers only (model.children())": he_uniform_top_level_only,
        "normal instead of uniform": lambda m: he_uniform_ok(m, normal=True),
        "biases left alone": lambda m: he_uniform_ok(m, zero_bias=False),
        "replaces the parameters": he_uniform_replaces,
        "nn.init.kaiming_uniform_ (forbidden)": he_uniform_kaiming,
        "kaiming_uniform_ imported before the check (forbidden)":
            he_uniform_kaiming_imported,
    },
    "adamw_step": {
        "no bias correction": lambda *a: adamw_ok(*a, correct=False),
        "eps inside the square root": lambda *a: adamw_ok(*a, eps_inside=True),
        "decay through the gradient (Adam with L2)": lambda *a: adamw_ok(*a, coupled=True),
        "decay without the learning rate": lambda *a: adamw_ok(*a, lr_in_decay=False),
        "decay after the step": lambda *a: adamw_ok(*a, decay_after=True),
        "returns the corrected averages": lambda *a: adamw_ok(*a, corrected_state=True),
        "no weight decay": lambda p, g, m, v, t, lr, b, e, wd: adamw_ok(
            p, g, m, v, t, lr, b, e, 0.0),
        "torch.optim.AdamW with its state set by hand (forbidden)": adamw_by_torch,
        "AdamW imported before the check (forbidden)": lambda *a: adamw_by_torch(
            *a, cls=AdamW),
        "torch.optim's functional adamw (forbidden)": adamw_functional,
    },
    "decay_groups": {
        "the buggy code as given": groups_buggy,
        "names fixed, default decay kept": lambda m, wd: groups_buggy(m, wd,
                                                                     by_name=False),
        "explicit zero, names kept": lambda m, wd: groups_buggy(m, wd,
                                                               explicit_zero=True),
        "decays everything": groups_decay_everything,
        "forgets the biases and norm parameters": groups_forget_vectors,
        "decays the biases": groups_decays_biases,
    },
    "clip_grad_norm": {
        "each tensor clipped alone": lambda p, c: clip_ok(p, c, per_tensor=True),
        "always rescales to max_norm": lambda p, c: clip_ok(p, c, always=True),
        "returns the norm after clipping": lambda p, c: clip_ok(p, c, after=True),
        "clips by value": clip_by_value,
        "leaves p.grad unchanged": clip_returns_copies,
        "reads a generator twice": lambda p, c: clip_ok(p, c, listed=False),
        "calls PyTorch's clip_grad_norm_": clip_with_torch,
        "clip_grad_norm_ imported before the check": clip_with_imported,
        "torch.nn.utils.clip_grad.clip_grad_norm_": clip_with_module,
    },
}
