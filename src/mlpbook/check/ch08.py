"""Checks for Chapter 8, "Image recognition: handwritten digits".

Conventions of the chapter: a batch of 8x8 images is flattened row by row
into ``X`` of shape (n, 64), raw pixels from 0 to 16; labels ``y`` of shape
(n,) hold digits (int64); ``probs`` of shape (n, C) holds one probability
per class. A model's first layer is ``nn.Linear(64, hidden)``.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from ._common import (
    LOADERS_OFF,
    callable_,
    fail,
    ok,
    refused,
    require,
    run,
    tensor_like,
    values_read,
)

__all__ = ["permute_first_layer", "selective_accuracy", "noisy_copies",
           "noise_robust_digits"]


# --- Exercise: permute the first layer ------------------------------------------------

def _digit_model(hidden: int, seed: int) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(hidden, 10))


def _outputs(model, X):
    was_training = getattr(model, "training", False)
    if isinstance(model, nn.Module):
        model.eval()
    try:
        with torch.no_grad():
            return model(X)
    finally:
        if isinstance(model, nn.Module):
            model.train(was_training)


def _same_weights(a: nn.Module, b: dict) -> bool:
    return all(torch.equal(v, b[k]) for k, v in a.state_dict().items())


def permute_first_layer(fn) -> None:
    """Check ``permute_first_layer(model, permutation)``: new(X[:, p]) == model(X)."""
    callable_(fn)
    gen = torch.Generator().manual_seed(8)
    X = torch.rand(40, 64, generator=gen) * 4 - 2  # (40, 64) float32
    for hidden, seed in [(32, 1), (256, 2), (64, 3)]:
        model = _digit_model(hidden, seed)
        saved = copy.deepcopy(model.state_dict())
        permutation = torch.randperm(64, generator=gen)
        case = f"a model with {hidden} hidden units and a random permutation"
        new = run(fn, model, permutation.clone(), what=case)
        require(_same_weights(model, saved),
                "leave the model you were given unchanged: work on a copy of it.", case)
        require(isinstance(new, nn.Module),
                f"return the new model (an nn.Module), not a {type(new).__name__}.", case)
        expected = _outputs(model, X)
        got = run(_outputs, new, X[:, permutation], what=case,
                  hint="the new model should take scrambled images X[:, permutation] "
                       "of shape (n, 64), like the old one takes X.")
        got = tensor_like(got, expected, "new(X[:, permutation])")
        require(torch.allclose(got, expected.double(), atol=1e-5),
                "the new model must give on X[:, permutation] exactly what the old "
                "one gives on X. Only the first layer reads pixels: which column of W "
                "must meet the pixel that now sits at position j? Check the direction "
                "of the permutation on a 3-pixel example by hand.", case)
    ok("permute_first_layer: the same function on scrambled pixels, 3 models.")


# --- Exercise: selective accuracy -----------------------------------------------------

def _selective(probs, y, coverage):
    k = max(1, round(coverage * len(y)))
    order = probs.max(dim=1).values.argsort(descending=True)[:k]
    return (probs[order].argmax(dim=1) == y[order]).double().mean()


def _abstain_cases():
    gen = torch.Generator().manual_seed(80)
    n = 200
    logits = torch.randn(n, 10, generator=gen, dtype=torch.float64) * 2.5
    probs = torch.softmax(logits, dim=1)
    y = torch.randint(0, 10, (n,), generator=gen)
    confident = probs.max(dim=1).values.argsort(descending=True)
    y[confident[:120]] = probs[confident[:120]].argmax(dim=1)  # confident rows mostly right
    for rank in (60, 66):  # the 61st and the 67th most confident rows are wrong
        y[confident[rank]] = (probs[confident[rank]].argmax() + 1) % 10
    return probs, y


def selective_accuracy(fn) -> None:
    """Check ``selective_accuracy(probs, y, coverage)``: accuracy on the most confident."""
    callable_(fn)
    probs, y = _abstain_cases()
    for coverage in (1.0, 0.9, 0.5, 1 / 3, 0.301, 0.05):
        case = f"200 rows, coverage = {coverage:.3g}"
        out = run(fn, probs.clone(), y.clone(), coverage, what=case)
        value = out.item() if isinstance(out, torch.Tensor) and out.numel() == 1 else out
        require(isinstance(value, (float, int, np.floating, np.integer))
                and not isinstance(value, bool),
                f"return one number (the accuracy), not a {type(out).__name__}.", case)
        expected = _selective(probs, y, coverage).item()
        require(abs(float(value) - expected) < 1e-6,
                "answer on the round(coverage * n) rows whose LARGEST probability is "
                "highest (the model cannot look at the labels to decide), and return "
                "the fraction of those rows it gets right.", case)
    # 10 rows at coverage 0.05: round(0.5) is 0, but the model still answers on its
    # most confident image, which is right; the other nine are wrong.
    probs, y = probs[:10].clone(), y[:10].clone()
    guess = probs.argmax(dim=1)
    top = probs.max(dim=1).values.argmax()
    y = torch.where(torch.arange(10) == top, guess, (guess + 1) % 10)
    case = "10 rows, coverage = 0.05"
    at_least_one = ("when coverage * n rounds to 0, the model still answers on its "
                    "single most confident image: k is at least 1.")
    out = run(fn, probs.clone(), y.clone(), 0.05, what=case, hint=at_least_one)
    value = out.item() if isinstance(out, torch.Tensor) and out.numel() == 1 else out
    require(isinstance(value, (float, int, np.floating, np.integer))
            and not isinstance(value, bool),
            f"return one number (the accuracy), not a {type(out).__name__}.", case)
    require(abs(float(value) - _selective(probs, y, 0.05).item()) < 1e-6, at_least_one,
            case)
    ok("selective_accuracy: correct for coverages from 1 down to 0.05.")


# --- Exercise: noisy copies (debug) ---------------------------------------------------

def _digits_like(n, seed):
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, 17, (n, 64), generator=gen).float(), \
        torch.randint(0, 10, (n,), generator=gen)


def _call_noisy(fn, X, y, levels, seed, what):
    generator = torch.Generator().manual_seed(seed)
    out = run(fn, X.clone(), y.clone(), list(levels), generator, what=what)
    require(isinstance(out, tuple) and len(out) == 2,
            "return a pair (X_new, y_new).", what)
    return out


def _masked_std(values: torch.Tensor, mask: torch.Tensor, dim: int) -> float:
    """The standard deviation of ``values`` (n, d) along ``dim`` over the entries where
    ``mask`` holds, pooled (root mean variance) over the other dimension."""
    counts = mask.sum(dim=dim)
    keep = counts > 1
    mean = (values * mask).sum(dim=dim, keepdim=True) / counts.clamp(min=1).unsqueeze(dim)
    squares = (((values - mean) * mask) ** 2).sum(dim=dim)
    return (squares[keep] / (counts[keep] - 1)).mean().sqrt().item()


def noisy_copies(fn) -> None:
    """Check ``noisy_copies(X, y, levels, generator)``: the fixed augmentation."""
    callable_(fn)
    X, y = _digits_like(300, 81)
    levels = [2.0, 2.0, 4.0]
    case = "300 images, levels [2, 2, 4]"
    X_original = X.clone()
    generator = torch.Generator().manual_seed(5)
    out = run(fn, X, y, levels, generator, what=case)
    require(torch.equal(X, X_original), "do not change X in place.", case)
    require(isinstance(out, tuple) and len(out) == 2, "return a pair (X_new, y_new).", case)
    X_new, y_new = out
    n, copies = len(X), len(levels) + 1
    X_new = tensor_like(X_new, torch.zeros(copies * n, 64), "X_new")
    y_new = tensor_like(y_new, torch.zeros(copies * n), "y_new")
    require(torch.equal(X_new[:n], X.double()),
            "keep the clean images first, unchanged, then one block of noisy copies per "
            "noise level.", case)
    require(torch.equal(y_new, y.repeat(copies).double()),
            "the labels must line up with the images: row i of every block is a copy of "
            "image i, so it needs label i. Compare the order of your images and of your "
            "labels.", case)
    require(X_new.min() >= 0 and X_new.max() <= 16,
            "pixels hold ink levels from 0 to 16: noisy values outside that range never "
            "occur in real images. Keep them inside it.", case)
    blocks = [X_new[(k + 1) * n:(k + 2) * n] - X.double() for k in range(len(levels))]
    middle = (X >= 6) & (X <= 10)  # pixels far from the clipping limits
    own = torch.Generator().manual_seed(82)
    for k, s in enumerate(levels):  # every block against a spread simulated here
        reference = ((X + s * torch.randn(X.shape, generator=own)).clamp(0, 16)
                     - X)[middle].std().item()
        spread = blocks[k][middle].std().item()
        require(0.8 * reference < spread < 1.2 * reference,
                f"copy {k + 1} should carry noise of level {s:g}, a standard deviation "
                f"of {s:g} ink levels before clipping; on pixels of mid-grey it has "
                f"{spread:.2f}, where level {s:g} gives about {reference:.2f}. Use the "
                "level of each copy, in the order of `levels`.", case)
    for k in range(len(levels)):  # the noise must vary over images and over pixels
        for dim, hint in ((0, "within one copy every image needs its own noise: yours "
                              "adds the same pattern to all images (draw noise of shape "
                              "(n, 64))."),
                          (1, "every pixel needs its own noise: yours adds one value to "
                              "all pixels of an image (draw noise of shape (n, 64)).")):
            within = _masked_std(blocks[k], middle, dim)
            reference = blocks[k][middle].std().item()
            require(within > 0.5 * reference, hint, case)
    pooled = torch.cat([blocks[k][middle] for k, s in enumerate(levels) if s == 2.0])
    kurtosis = (((pooled - pooled.mean()) / pooled.std()) ** 4).mean().item()
    require(kurtosis > 2.5, "the noise should be Gaussian (torch.randn), not uniform: "
            f"on mid-grey pixels yours has a kurtosis of {kurtosis:.2f}, where Gaussian "
            "noise gives about 3.", case)
    a, b = blocks[0][middle], blocks[1][middle]
    correlation = ((a - a.mean()) * (b - b.mean())).mean() / (a.std() * b.std())
    require(abs(correlation.item()) < 0.2,
            "two copies at the same level are (nearly) the same: every copy needs its "
            "own, fresh noise, or the network sees one noisy version many times.", case)
    first = _call_noisy(fn, X, y, levels, 7, case)[0]
    torch.manual_seed(1234)  # a different global state must not matter
    second = _call_noisy(fn, X, y, levels, 7, case)[0]
    require(torch.equal(torch.as_tensor(first), torch.as_tensor(second)),
            "draw the noise from the generator you are given (generator=...), not from "
            "PyTorch's global random state, so that a seed reproduces the copies.", case)
    ok("noisy_copies: aligned labels, pixels in 0..16, fresh noise per copy.")


# --- Held-out data: what the learner's training code may not read ---------------------

def _row_keys(rows: torch.Tensor) -> set[bytes]:
    """One key per row of ``rows`` (m, d): its values as float32 bytes."""
    array = rows.detach().cpu().reshape(-1, rows.shape[-1]).to(torch.float32).numpy()
    return {row.tobytes() for row in array}


def _holds_rows(value, forbidden: set[bytes], width: int, depth: int = 2) -> bool:
    """Whether ``value`` (a tensor, an array, or a list of them) holds a forbidden row."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        value = torch.from_numpy(value)
    if isinstance(value, torch.Tensor):
        if value.ndim == 0 or value.shape[-1] != width or value.is_complex():
            return False
        return not _row_keys(value).isdisjoint(forbidden)
    if isinstance(value, (list, tuple)) and depth > 0:
        return any(_holds_rows(v, forbidden, width, depth - 1) for v in value)
    if isinstance(value, dict) and depth > 0:
        return any(_holds_rows(v, forbidden, width, depth - 1) for v in value.values())
    return False


def _held_out_read_by(fn, forbidden: set[bytes], width: int) -> str | None:
    """The name of a value read by ``fn`` that holds a forbidden row, or None."""
    for name, value in values_read(fn):
        if _holds_rows(value, forbidden, width):
            return name
    return None


def _loaders_off(*targets: tuple[object, str]):
    """Each ``getattr(module, name)`` in ``targets`` raises while the block runs."""
    return refused(targets, LOADERS_OFF)


def _digit_loaders() -> list[tuple[object, str]]:
    import sklearn.datasets

    from .. import data

    return [(data, "load_digits"), (sklearn.datasets, "load_digits")]


# --- Experiment: a digit reader that survives noise ----------------------------------

NOISE_LEVEL = 4.0
NOISE_BAR = 0.92
CLEAN_BAR = 0.97
DEV_CASE = "training on the 1,347 development images"
LEAK_HINT = ("train only on the development set you are given: your code reads `{}`, "
             "which holds test images of the check. Use the arguments X_dev and y_dev "
             "instead of the notebook's own data.")


def _held_out():
    """The chapter's split with seed 0: the development set (1,347 images), the test
    set (450) and 3 noisy views of it."""
    from .. import data

    X, y = data.load_digits()
    X_tr, y_tr, X_va, y_va, X_test, y_test = data.split(X, y, val=0.15, test=0.25,
                                                        seed=0)
    gen = torch.Generator().manual_seed(2024)
    noisy = [(X_test + NOISE_LEVEL * torch.randn(X_test.shape, generator=gen)).clamp(0, 16)
             for _ in range(3)]
    return torch.cat([X_tr, X_va]), torch.cat([y_tr, y_va]), X_test, y_test, noisy


def _accuracy_of(read, X, y, what):
    out = run(_outputs, read, X.clone(), what=what,
              hint="your function should return a model that takes raw images (m, 64), "
                   "pixel values 0 to 16, and returns one score per digit, shape (m, 10).")
    scores = tensor_like(out, torch.zeros(len(X), 10), "the output of your model")
    require(torch.isfinite(scores).all(), "your model returned NaN or infinite scores.",
            what)
    return (scores.argmax(dim=1) == y).double().mean().item()


def noise_robust_digits(train_robust_mlp) -> None:
    """Check a training function: ``train_robust_mlp(X_dev, y_dev)`` -> a digit reader.

    The check builds the development set of the chapter's split with seed 0 (raw images
    (1347, 64) in 0..16, labels (1347,)) and calls the function on it, with the data
    loaders switched off; the reader it returns (raw images (m, 64) -> scores (m, 10))
    is scored on the 450 test images of that split, clean and with Gaussian noise of
    standard deviation 4 (three draws), against the bars CLEAN_BAR and NOISE_BAR. A
    function that reads a global tensor holding test images is refused.
    """
    callable_(train_robust_mlp, "your training function")
    X_dev, y_dev, X_test, y_test, noisy = _held_out()
    forbidden = _row_keys(X_test) - _row_keys(X_dev)  # test images not also in dev
    leak = _held_out_read_by(train_robust_mlp, forbidden, 64)
    require(leak is None, LEAK_HINT.format(leak), DEV_CASE)
    with _loaders_off(*_digit_loaders()):
        read = run(train_robust_mlp, X_dev.clone(), y_dev.clone(), what=DEV_CASE,
                   hint="train_robust_mlp(X_dev, y_dev) gets raw images (1347, 64) and "
                        "their digits (1347,), and returns the trained model.")
        require(callable(read), "return the trained model (an nn.Module) or a function "
                f"of raw images, not a {type(read).__name__}.", DEV_CASE)
        leak = _held_out_read_by(read, forbidden, 64)
        require(leak is None, LEAK_HINT.format(leak), DEV_CASE)
        clean = _accuracy_of(read, X_test, y_test, "the 450 clean test images")
        noise = float(np.mean([_accuracy_of(read, Xn, y_test, "the noisy test images")
                               for Xn in noisy]))
    report = f"accuracy {clean:.3f} on clean images and {noise:.3f} at noise 4"
    if clean < CLEAN_BAR:
        fail(f"{report}; the bar on clean images is {CLEAN_BAR}. Does your model take "
             "RAW pixels (0 to 16) and do its own scaling? Is it trained long enough?",
             "the 450 clean test images")
    if noise < NOISE_BAR:
        fail(f"{report}; the bar at noise 4 is {NOISE_BAR}. Train on noisy copies of "
             "the development images as well as on clean ones. (The check passes raw "
             "pixels 0 to 16: if you scaled the images for training, the model you "
             "return must apply the same scaling itself.)",
             "the test images with noise of standard deviation 4")
    ok(f"noise_robust_digits: {clean:.3f} clean, {noise:.3f} at noise 4; bars met.")
