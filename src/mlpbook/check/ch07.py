"""Checks for Chapter 7, "MLPs in PyTorch, in practice".

The references are PyTorch's own modules and functions, run on the same tensors:
``nn.Linear``, ``torch.optim.AdamW`` and ``nn.utils.clip_grad_norm_``. Where an exercise
asks for code of one's own, the PyTorch function that would do it refuses to run while
the learner's code runs (``refused``). Conventions of
the chapter: ``nn.Linear(n_in, n_out)`` holds a weight of shape (n_out, n_in); weight
decay applies to the weight matrices only, not to biases or to the parameters of
normalisation layers.
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import nn

from ._common import callable_, ok, refused, require, run

__all__ = ["mlp_from_sizes", "he_uniform", "adamw_step", "decay_groups", "clip_grad_norm"]

F64 = torch.float64


# --- Exercise 1 -----------------------------------------------------------------------

def mlp_from_sizes(fn) -> None:
    """Check ``mlp_from_sizes(sizes)``: an ``nn.Sequential`` of Linear layers with ReLU
    between them; ``sizes = [n_in, hidden..., n_out]``, no activation after the last."""
    callable_(fn)
    for sizes in ([2, 8, 3], [4, 16, 16, 2], [5, 1], [3, 7, 5, 4, 2]):
        case = f"sizes = {sizes}"
        model = run(fn, list(sizes), what=case, hint="sizes is a list of whole numbers.")
        require(isinstance(model, nn.Sequential), "return an nn.Sequential.", case)
        kinds = [type(m) for m in model]
        expected = [nn.Linear, nn.ReLU] * (len(sizes) - 2) + [nn.Linear]
        require(kinds == expected, "the layers should alternate Linear and ReLU, and the "
                "model should end with a Linear layer (it outputs logits).", case)
        linears = [m for m in model if isinstance(m, nn.Linear)]
        shapes = [(m.in_features, m.out_features) for m in linears]
        require(shapes == list(zip(sizes, sizes[1:])),
                "layer k should map sizes[k] features to sizes[k + 1].", case)
        require(all(m.bias is not None for m in linears), "keep the bias of every Linear "
                "layer (nn.Linear has one unless told bias=False).", case)
        out = run(model, torch.randn(6, sizes[0]), what=f"a batch of 6 rows, {case}",
                  hint="the model should take a batch of shape (6, sizes[0]).")
        require(tuple(out.shape) == (6, sizes[-1]),
                "the output should have shape (batch, sizes[-1]).", case)
    ok("mlp_from_sizes: the right layers, shapes and outputs for 4 architectures.")


# --- Exercise 2 -----------------------------------------------------------------------

def _own_bound_only():
    """nn.init's He (Kaiming) initialisers refuse to run, under their public names and
    through the helper both call, so a reference imported before the check is refused
    too."""
    init = torch.nn.init
    names = ("kaiming_uniform_", "kaiming_normal_", "kaiming_uniform", "kaiming_normal",
             "_calculate_correct_fan")
    return refused([(init, n) for n in names], "this exercise asks you to derive the "
                    "bound yourself, without nn.init's kaiming functions")


def he_uniform(fn) -> None:
    """Check ``he_uniform_(model)``: every ``nn.Linear`` weight uniform on [-a, a] with
    the He variance 2 / n_in, every bias zero, in place."""
    callable_(fn)
    torch.manual_seed(0)
    # The middle layer sits in a block of its own, as in models built from blocks.
    model = nn.Sequential(nn.Linear(400, 300), nn.ReLU(),
                          nn.Sequential(nn.Linear(300, 600), nn.ReLU()),
                          nn.Linear(600, 10))
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    ids = [id(m.weight) for m in layers]
    before = [m.weight.detach().clone() for m in layers]
    case = ("a model with Linear layers 400 -> 300 -> 600 -> 10, the middle one inside "
            "an inner nn.Sequential")
    with _own_bound_only():
        out = run(fn, model, what=case, hint="model is an nn.Sequential; change its "
                  "Linear layers in place, with nn.init.uniform_ and a bound of your own.")
    require(out is model or out is None, "initialise the model in place, and return it.",
            case)
    require([id(m.weight) for m in layers] == ids, "change the existing weights in place "
            "(the nn.init functions do) rather than replacing the parameters.", case)
    for layer, old in zip(layers, before):
        n_in, n_out = layer.in_features, layer.out_features
        w = layer.weight.detach().to(F64)
        case = f"the layer Linear({n_in}, {n_out}), {w.numel()} weights"
        require(not torch.equal(layer.weight.detach(), old), "this layer kept its "
                "weights: it sits inside an inner nn.Sequential. model.modules() visits "
                "every module, nested ones included (model.children() only the top "
                "level).", case)
        bound = math.sqrt(6.0 / n_in)
        std = w.std().item()
        largest = w.abs().max().item()
        require(abs(w.mean().item()) < 0.05 * bound, "the weights should have mean 0: "
                "draw them symmetrically around 0.", case)
        # A uniform draw has largest / std = sqrt(3); a normal one of this size about 4.5.
        require(largest <= bound * (1 + 1e-6) or largest / std > 2.5,
                "your weights look uniform, but some lie outside the bound that the He "
                "variance implies: your a is too large. Recheck the variance of a "
                "uniform distribution on [-a, a].", case)
        require(largest <= bound * (1 + 1e-6),
                "some weights lie outside the bound that the He variance implies for a "
                "uniform distribution: draw them uniformly between -a and a (a normal "
                "distribution has no bound).", case)
        require(abs(std / math.sqrt(2.0 / n_in) - 1) < 0.03 and largest > 0.99 * bound,
                f"the weights have standard deviation {std:.4f}. The He variance keeps "
                "the signal's second moment through ReLU and depends on one of the "
                "layer's two sizes; compute the variance of a uniform distribution on "
                "[-a, a] and solve for a.", case)
        require(bool((layer.bias == 0).all()), "set every bias to zero.", case)
    ok("he_uniform: uniform weights on the He bound in 3 layers, biases zero.")


# --- Exercise 3 -----------------------------------------------------------------------

def _own_adam_only():
    """torch.optim's Adam and AdamW refuse to run: the classes, their functional forms,
    and the kernels that every route ends in, looked up at each call."""
    import torch.optim._functional as functional
    import torch.optim.adam as adam
    import torch.optim.adamw as adamw

    targets = [(torch.optim, "Adam"), (torch.optim, "AdamW"), (functional, "adam"),
               (functional, "adamw"), (adamw, "AdamW"), (adamw, "adamw"), (adamw, "adam"),
               (adam, "Adam"), (adam, "adam"), (adam, "_single_tensor_adam"),
               (adam, "_multi_tensor_adam"), (adam, "_fused_adam")]
    return refused(targets, "this exercise asks you to write the step yourself, "
                             "without torch.optim's Adam or AdamW")


def _adamw_variant(param, grad, m, v, t, lr, betas, eps, wd, mistake=None):
    """One AdamW step, or one of its classic mistakes (used to name the learner's)."""
    b1, b2 = betas
    if mistake == "coupled":
        grad = grad + wd * param
    elif mistake == "no lr in decay":
        param = param * (1 - wd)
    elif mistake != "decay after":
        param = param * (1 - lr * wd)
    m = b1 * m + (1 - b1) * grad
    v = b2 * v + (1 - b2) * grad**2
    m_hat, v_hat = (m, v) if mistake == "no bias correction" else (m / (1 - b1**t),
                                                                   v / (1 - b2**t))
    denominator = (v_hat + eps).sqrt() if mistake == "eps inside" else v_hat.sqrt() + eps
    param = param - lr * m_hat / denominator
    if mistake == "decay after":
        param = param * (1 - lr * wd)
    return param


ADAM_HINTS = {
    "no bias correction": "m and v start at zero, so in the first steps they are "
                          "too small: correct both for their start at zero, as the "
                          "chapter's formulas do, before taking the step.",
    "eps inside": "eps is in the wrong place: PyTorch adds it to the square root of the "
                  "corrected v, not under the root.",
}
DECAY_HINTS = {
    "coupled": "your decay goes through the gradient, so Adam's division by the square "
               "root of v rescales it: that is Adam with an L2 penalty. AdamW shrinks the "
               "parameter itself.",
    "no lr in decay": "the decay's shrinking factor involves the learning rate as well as "
                      "weight_decay.",
    "decay after": "shrink the parameter as it was before this step's Adam update, not "
                   "after it.",
}


def adamw_step(fn) -> None:
    """Check ``adamw_step(param, grad, m, v, t, lr, betas, eps, weight_decay)``.

    It returns ``(param, m, v)``; ``t`` counts steps from 1; the rule is
    ``torch.optim.AdamW``'s. Settings without weight decay come first, so that a mistake
    in the Adam part is named before the decay is tested.
    """
    callable_(fn)
    g = torch.Generator().manual_seed(5)
    settings = [(0.1, 0.0), (0.01, 0.0), (0.1, 0.5), (0.05, 0.01)]
    betas, eps = (0.9, 0.999), 1e-8
    for lr, wd in settings:
        start = torch.randn(5, generator=g, dtype=F64)
        grads = [torch.randn(5, generator=g, dtype=F64) * (1e-5, 0.1, 1.0, 10.0)[k % 4]
                 for k in range(6)]  # tiny gradients make eps matter
        ref = start.clone().requires_grad_(True)
        opt = torch.optim.AdamW([ref], lr=lr, betas=betas, eps=eps, weight_decay=wd)
        param, m, v = start.clone(), torch.zeros(5, dtype=F64), torch.zeros(5, dtype=F64)
        for t, grad in enumerate(grads, start=1):
            case = f"step t = {t}, lr = {lr}, weight_decay = {wd}"
            inputs = (param.clone(), grad.clone(), m.clone(), v.clone(), t, lr, betas, eps,
                      wd)
            ref.grad = grad.clone()
            opt.step()
            with _own_adam_only():
                out = run(fn, *inputs, what=case, hint="param, grad, m and v are float64 "
                          "tensors of shape (5,); t, lr, eps and weight_decay numbers; "
                          "betas a pair.")
            require(isinstance(out, tuple) and len(out) == 3 and all(
                isinstance(x, torch.Tensor) and x.shape == (5,) for x in out),
                "return a triple (param, m, v) of tensors shaped like param.", case)
            new_param = out[0].detach().to(F64)
            if not torch.allclose(new_param, ref.detach(), atol=1e-6, rtol=1e-6):
                hints = ADAM_HINTS if wd == 0 else DECAY_HINTS
                for mistake, hint in hints.items():
                    wrong = _adamw_variant(*inputs, mistake=mistake)
                    require(not torch.allclose(new_param, wrong, atol=1e-6, rtol=1e-6),
                            hint, case)
                require(False, "the parameter differs from torch.optim.AdamW's. "
                        + ("Without weight decay this is Adam: update both running "
                           "averages, correct them for their start at zero, then step."
                           if wd == 0 else "Adam alone is right (the checks without decay "
                           "passed): look at how and when the decay is applied."), case)
            state = opt.state[ref]
            require(torch.allclose(out[1].detach().to(F64), state["exp_avg"],
                                   rtol=1e-5, atol=1e-12)
                    and torch.allclose(out[2].detach().to(F64), state["exp_avg_sq"],
                                       rtol=1e-5, atol=1e-16),
                    "return the running averages m and v themselves, not their "
                    "bias-corrected versions: the next step continues from them.", case)
            param, m, v = (x.detach().to(F64) for x in out)
    ok("adamw_step: the same 6 steps as torch.optim.AdamW, with and without decay.")


# --- Exercise 4 -----------------------------------------------------------------------

class _Named(nn.Module):
    """A model whose attribute names say what its layers are."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(3, 6)
        self.norm = nn.LayerNorm(6)
        self.hidden = nn.Linear(6, 6)
        self.head = nn.Linear(6, 2, bias=False)

    def forward(self, x):
        return self.head(torch.relu(self.hidden(self.norm(self.embed(x)))))


def _decay_models():
    torch.manual_seed(0)
    sequential = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(),
                               nn.Linear(8, 8), nn.LayerNorm(8), nn.ReLU(), nn.Linear(8, 3))
    return [("an nn.Sequential with BatchNorm1d and LayerNorm layers", sequential),
            ("a model with named layers: embed, norm (LayerNorm), hidden, head", _Named())]


def _expected_decay(model, weight_decay) -> dict[int, float]:
    expected = {}
    for module in model.modules():
        for name, p in module.named_parameters(recurse=False):
            decays = isinstance(module, nn.Linear) and name == "weight"
            expected[id(p)] = weight_decay if decays else 0.0
    return expected


def decay_groups(fn) -> None:
    """Check ``decay_groups(model, weight_decay)`` -> parameter groups for an optimiser
    in which only the weights of ``nn.Linear`` layers decay."""
    callable_(fn)
    for what, model in _decay_models():
        for weight_decay in (0.1, 0.3):
            case = f"{what}, weight_decay = {weight_decay}"
            groups = run(fn, model, weight_decay, what=case,
                         hint="model is an nn.Module; return a list of dictionaries.")
            require(isinstance(groups, (list, tuple)) and all(
                isinstance(g, dict) and "params" in g for g in groups),
                "return a list of parameter groups: dictionaries, each with a 'params' "
                "list and its own settings.", case)
            groups = [dict(g, params=list(g["params"])) for g in groups]
            try:
                optimizer = torch.optim.AdamW(groups, lr=1e-3)
            except (ValueError, TypeError) as error:
                require(False, "torch.optim.AdamW refused your groups ("
                        + str(error).splitlines()[0][:120] + "): each parameter must "
                        "appear in exactly one group.", case)
            given = {}
            for group in optimizer.param_groups:
                for p in group["params"]:
                    given[id(p)] = group["weight_decay"]
            expected = _expected_decay(model, weight_decay)
            require(set(given) == set(expected), "every parameter of the model must be in "
                    "one of the groups, or the optimiser will not train it.", case)
            for module in model.modules():
                for name, p in module.named_parameters(recurse=False):
                    got, want = given[id(p)], expected[id(p)]
                    if got == want:
                        continue
                    kind = type(module).__name__
                    require(not (want == 0.0 and got == optimizer.defaults["weight_decay"]),
                            f"the {kind}'s {name} decays with {got}: a group that does "
                            "not set weight_decay takes the optimiser's default, which "
                            "for AdamW is not 0.", case)
                    require(not isinstance(module, (nn.BatchNorm1d, nn.LayerNorm)),
                            f"the {kind}'s {name} (its gamma or beta) decays with {got}. "
                            "In nn.Sequential the parameters are named '1.weight' and so "
                            "on: tell a normalisation layer's parameters apart by what "
                            "they are, not by their names.", case)
                    require(name != "bias", f"a {kind}'s bias decays with {got}: biases "
                            "only shift a unit's input; do not decay them.", case)
                    require(False, f"the weight of a {kind} should decay with "
                            f"weight_decay = {weight_decay}, but decays with {got}.", case)
    ok("decay_groups: only the Linear weights decay, in 2 models with norm layers.")


# --- Exercise 5 -----------------------------------------------------------------------

def _own_clipping_only():
    """PyTorch's clipping functions refuse to run, under their public names and inside
    their module, where ``clip_grad_norm_`` looks up its helpers at each call, so a
    reference imported before the check is refused too."""
    import torch.nn.utils.clip_grad as clip_grad

    utils = torch.nn.utils
    names = ("clip_grad_norm_", "clip_grads_with_norm_", "clip_grad_norm", "get_total_norm")
    targets = [(utils, n) for n in names] + [
        (clip_grad, n) for n in ("clip_grad_norm_", "clip_grad_norm", "_get_total_norm",
                                 "_clip_grads_with_norm_")]
    return refused(targets, "this exercise asks you to write the clipping yourself, "
                             "without nn.utils' clipping functions")


def _clip_case(seed: int, scale: float, with_none: bool):
    g = torch.Generator().manual_seed(seed)
    params = [nn.Parameter(torch.randn(shape, generator=g, dtype=F64))
              for shape in [(4, 3), (4,), (2, 4)]]
    for p in params:
        p.grad = torch.randn(p.shape, generator=g, dtype=F64) * scale
    if with_none:
        params.append(nn.Parameter(torch.zeros(3, dtype=F64)))  # .grad is None
    return params


def clip_grad_norm(fn) -> None:
    """Check ``clip_grad_norm(parameters, max_norm)`` -> the total norm before clipping;
    when it exceeds ``max_norm``, every gradient is scaled in place by one factor so
    that the total norm becomes ``max_norm`` (as ``nn.utils.clip_grad_norm_``)."""
    callable_(fn)
    cases = [(1, 2.0, False, 1.0, "a total norm above max_norm"),
             (2, 0.05, False, 1.0, "a total norm below max_norm"),
             (3, 1.0, True, 0.5, "a parameter without a gradient (.grad is None)"),
             (4, 3.0, False, 2.0, "the parameters given as a generator, as "
                                  "model.parameters() gives them")]
    for seed, scale, with_none, max_norm, what in cases:
        case = f"{what}, max_norm = {max_norm}"
        params = _clip_case(seed, scale, with_none)
        reference = _clip_case(seed, scale, with_none)
        before = [p.grad.clone() if p.grad is not None else None for p in params]
        expected_norm = nn.utils.clip_grad_norm_(reference, max_norm).item()
        given = (p for p in params) if "generator" in what else params
        with _own_clipping_only():
            out = run(fn, given, max_norm, what=case, hint="parameters is an iterable of "
                      "tensors, some with a .grad and some without; max_norm a number.")
        if isinstance(out, torch.Tensor) and out.numel() == 1:
            out = out.item()
        require(isinstance(out, numbers.Real) and not isinstance(out, bool),
                "return the total norm, one number.", case)
        grads = [p.grad for p in params if p.grad is not None]
        changed = any(not torch.equal(p.grad, b) for p, b in zip(params, before)
                      if b is not None)
        if "generator" in what:
            require(changed, "parameters can be a generator, such as model.parameters(), "
                    "which can be read only once: make it a list first.", case)
        require(abs(out - expected_norm) <= 1e-9 * max(1.0, expected_norm),
                "return the total norm of all the gradients before clipping: the square "
                "root of the sum of their squares over every tensor.", case)
        if expected_norm <= max_norm:
            require(not changed, "when the total norm is already at most max_norm, leave "
                    "the gradients unchanged.", case)
            continue
        require(changed, "change the gradients in place: the optimiser reads p.grad.",
                case)
        ratios = [g / b for g, b in zip(grads, [b for b in before if b is not None])]
        factor = ratios[0].flatten()[0]
        require(all(torch.allclose(r, factor.expand_as(r), rtol=1e-9, atol=0)
                    for r in ratios),
                "multiply every gradient, in every tensor, by one common factor, so that "
                "the direction of the whole gradient stays the same.", case)
        total = math.sqrt(sum((g**2).sum().item() for g in grads))
        require(abs(total - max_norm) <= 1e-5 * max_norm, f"after clipping the total "
                f"norm is {total:.4f}; it should be max_norm.", case)
    ok("clip_grad_norm: as nn.utils.clip_grad_norm_ above and below the threshold.")
