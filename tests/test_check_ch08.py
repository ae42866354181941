"""Chapter 8 checks: each accepts every correct answer and rejects the known wrong ones."""

import copy
import math

import numpy as np
import pytest
import torch
from torch import nn

from mlpbook import data, train

# --- permute_first_layer --------------------------------------------------------------


def permute_ok(model, permutation):
    new = copy.deepcopy(model)
    with torch.no_grad():
        new[0].weight.copy_(model[0].weight[:, permutation])
    return new


def permute_fresh_model(model, permutation):
    """A new nn.Sequential of the same shape, loaded with the model's weights."""
    hidden = model[0].out_features
    new = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Dropout(0.2),
                        nn.Linear(hidden, 10))
    new.load_state_dict(model.state_dict())
    new[0].weight.data = model[0].weight.data[:, permutation].clone()
    return new


def permute_parameter(model, permutation):
    new = copy.deepcopy(model)
    new[0].weight = nn.Parameter(model[0].weight.detach().index_select(1, permutation))
    return new


def permute_by_matrix(model, permutation):
    """W' = W P with P[i, j] = 1 where i = p_j."""
    P = torch.zeros(64, 64)
    P[permutation, torch.arange(64)] = 1.0
    new = copy.deepcopy(model)
    with torch.no_grad():
        new[0].weight.copy_(model[0].weight @ P)
    return new


def permute_inverse(model, permutation):
    return permute_ok(model, permutation.argsort())


def permute_rows(model, permutation):
    new = copy.deepcopy(model)
    with torch.no_grad():
        new[0].weight.copy_(model[0].weight[permutation % model[0].out_features])
    return new


def permute_in_place(model, permutation):
    with torch.no_grad():
        model[0].weight.copy_(model[0].weight[:, permutation])
    return model


def permute_output_layer(model, permutation):
    new = copy.deepcopy(model)
    with torch.no_grad():
        columns = permutation[permutation < new[3].in_features]
        new[3].weight[:, :len(columns)] = model[3].weight[:, columns]
    return new


# --- selective_accuracy ---------------------------------------------------------------


def selective_ok(probs, y, coverage):
    k = max(1, round(coverage * len(y)))
    confidence, guess = probs.max(dim=1)
    kept = torch.argsort(confidence, descending=True)[:k]
    return (guess[kept] == y[kept]).double().mean().item()


def selective_numpy(probs, y, coverage):
    p, labels = np.asarray(probs), np.asarray(y)
    k = max(1, int(np.round(coverage * len(labels))))
    kept = np.argsort(-p.max(axis=1))[:k]
    return np.mean(p[kept].argmax(axis=1) == labels[kept])  # a NumPy float


def selective_topk_tensor(probs, y, coverage):
    k = max(1, round(coverage * len(y)))
    kept = probs.max(dim=1).values.topk(k).indices
    return (probs[kept].argmax(dim=1) == y[kept]).float().mean()  # a 0-d tensor


def selective_no_floor(probs, y, coverage):
    """k = round(coverage * n) without max(1, .): the mean of nothing when k = 0."""
    k = round(coverage * len(y))
    kept = torch.argsort(probs.max(dim=1).values, descending=True)[:k]
    return (probs[kept].argmax(dim=1) == y[kept]).double().mean().item()


def selective_ranked(probs, y, coverage, key):
    k = max(1, round(coverage * len(y)))
    kept = torch.argsort(key(probs, y), descending=True)[:k]
    return (probs[kept].argmax(dim=1) == y[kept]).double().mean().item()


# --- noisy_copies ---------------------------------------------------------------------


def noisy_ok(X, y, levels, generator):
    copies = [(X + s * torch.randn(X.shape, generator=generator)).clamp(0, 16)
              for s in levels]
    return torch.cat([X, *copies]), y.repeat(len(levels) + 1)


def noisy_one_draw(X, y, levels, generator):
    """All the noise in one draw of shape (L, n, 64)."""
    scales = torch.tensor(levels, dtype=X.dtype)[:, None, None]
    noise = torch.randn((len(levels), *X.shape), generator=generator)
    copies = (X + scales * noise).clamp(0, 16).reshape(-1, X.shape[1])
    return torch.cat([X, copies]), y.repeat(len(levels) + 1)


def noisy_normal(X, y, levels, generator):
    copies = [torch.clip(X + torch.normal(0.0, s, X.shape, generator=generator), 0, 16)
              for s in levels]
    return torch.cat([X, *copies]), torch.cat([y] * (len(levels) + 1))


def noisy_variant(X, y, levels, generator, *, interleave=False, clip=True, fresh=True,
                  power=1, use_generator=True, keep_clean=True, level_of=None):
    shared = torch.randn(X.shape, generator=generator)
    copies = []
    for k, s in enumerate(levels):
        s = level_of(levels, k) if level_of is not None else s
        if fresh:
            noise = (torch.randn(X.shape, generator=generator) if use_generator
                     else torch.randn(X.shape))
        else:
            noise = shared
        copy_ = X + s**power * noise
        copies.append(copy_.clamp(0, 16) if clip else copy_)
    blocks = [X, *copies] if keep_clean else copies
    labels = (y.repeat_interleave(len(blocks)) if interleave else y.repeat(len(blocks)))
    return torch.cat(blocks), labels


def noisy_float64(X, y, levels, generator):
    copies = [(X.double() + s * torch.randn(X.shape, generator=generator,
                                            dtype=torch.float64)).clamp(0, 16)
              for s in levels]
    return torch.cat([X.double(), *copies]), y.repeat(len(levels) + 1)


def noisy_whole_levels(X, y, levels, generator):
    """Noisy pixels rounded to whole ink levels, like the real images."""
    copies = [(X + s * torch.randn(X.shape, generator=generator)).round().clamp(0, 16)
              for s in levels]
    return torch.cat([X, *copies]), y.repeat(len(levels) + 1)


def noisy_shaped(X, y, levels, generator, shape):
    """Noise drawn with the wrong shape, broadcast: (1, 64) is one pattern for all
    images of a copy, (n, 1) one value for all pixels of an image."""
    copies = [(X + s * torch.randn(shape(X), generator=generator)).clamp(0, 16)
              for s in levels]
    return torch.cat([X, *copies]), y.repeat(len(levels) + 1)


def noisy_uniform(X, y, levels, generator):
    """Uniform noise with the right standard deviation, s: not Gaussian."""
    copies = [(X + s * (torch.rand(X.shape, generator=generator) - 0.5) * 12 ** 0.5)
              .clamp(0, 16) for s in levels]
    return torch.cat([X, *copies]), y.repeat(len(levels) + 1)


def noisy_in_place(X, y, levels, generator):
    out = noisy_ok(X, y, levels, generator)
    X.add_(1.0)
    return out


def noisy_clean_last(X, y, levels, generator):
    X_new, y_new = noisy_ok(X, y, levels, generator)
    n = len(X)
    return torch.cat([X_new[n:], X_new[:n]]), torch.cat([y_new[n:], y_new[:n]])


# --- noise_robust_digits: training functions (the check trains and scores them) -------

ALL_X, ALL_Y = data.load_digits()  # every image, the check's test images included


def trained_mlp(Z, y, seed=0, epochs=25):
    torch.manual_seed(seed)
    mlp = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 10))
    optimizer = torch.optim.AdamW(mlp.parameters(), lr=2e-3, weight_decay=1e-4)
    train.fit(mlp, nn.CrossEntropyLoss(label_smoothing=0.1), optimizer, (Z, y),
              epochs=epochs, batch_size=128, seed=seed, progress=False)
    return mlp.eval()


def scaler(X_fit):
    center, spread = (X_fit / 16).mean(0), (X_fit / 16).std(0) + 0.1
    return lambda X_any: (X_any / 16 - center) / spread


class RawPixelReader(nn.Module):
    """A module that scales raw pixels itself: the other accepted form of an answer."""

    def __init__(self, mlp, center, spread):
        super().__init__()
        self.mlp = mlp
        self.register_buffer("center", center)
        self.register_buffer("spread", spread)

    def forward(self, X_raw):
        return self.mlp((X_raw / 16 - self.center) / self.spread)


def noise_trained(X_dev, y_dev, levels=(2.0, 4.0, 6.0), epochs=25):
    X_fit, y_fit = noisy_ok(X_dev, y_dev, list(levels), torch.Generator().manual_seed(0))
    scale = scaler(X_fit)
    return trained_mlp(scale(X_fit), y_fit, epochs=epochs), X_fit


def train_reader(X_dev, y_dev):
    mlp, X_fit = noise_trained(X_dev, y_dev)
    scale = scaler(X_fit)
    return lambda X_raw: mlp(scale(X_raw))


def train_module(X_dev, y_dev):
    mlp, X_fit = noise_trained(X_dev, y_dev)
    return RawPixelReader(mlp, (X_fit / 16).mean(0), (X_fit / 16).std(0) + 0.1)


def train_clean(X_dev, y_dev):
    """The chapter's recipe without noise: standardised clean images."""
    scale = scaler(X_dev)
    mlp = trained_mlp(scale(X_dev), y_dev, epochs=100)
    return lambda X_raw: mlp(scale(X_raw))


def train_standardised_input(X_dev, y_dev):
    """Trained on noisy copies, but the model expects inputs already standardised."""
    return noise_trained(X_dev, y_dev)[0]


def train_labels_reader(X_dev, y_dev):
    read = train_reader(X_dev, y_dev)
    return lambda X_raw: read(X_raw).argmax(dim=1)  # (m,) digits, not (m, 10) scores


def train_nothing(X_dev, y_dev):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 10))


def train_on_all_images(X_dev, y_dev):
    """The accidental leak: noisy copies of the notebook's X, test images included."""
    return train_reader(ALL_X, ALL_Y)


def train_memoriser(X_dev, y_dev):
    """A 1-NN lookup over every image in the notebook: perfect, and worthless."""
    def read(X_raw):
        nearest = torch.cdist(X_raw.float(), ALL_X).argmin(dim=1)
        return nn.functional.one_hot(ALL_Y[nearest], 10).float()
    return read


def train_memoriser_module(X_dev, y_dev):
    """The same lookup, stored in a model's buffer."""
    class Lookup(nn.Module):
        def __init__(self, images, labels):
            super().__init__()
            self.register_buffer("images", images)
            self.register_buffer("labels", labels)

        def forward(self, X_raw):
            nearest = torch.cdist(X_raw.float(), self.images).argmin(dim=1)
            return nn.functional.one_hot(self.labels[nearest], 10).float()

    images, labels = data.load_digits()
    return Lookup(images, labels)


def train_with_test_default(X_dev, y_dev, X_all=ALL_X, y_all=ALL_Y):
    """Reads the test images through a default argument."""
    return train_reader(X_all, y_all)


CORRECT = {
    "permute_first_layer": {
        "deep copy, then copy_ the reordered columns": permute_ok,
        "a fresh model loaded with the weights": permute_fresh_model,
        "a new nn.Parameter from index_select": permute_parameter,
        "W times a permutation matrix": permute_by_matrix,
    },
    "selective_accuracy": {
        "argsort of the largest probability": selective_ok,
        "NumPy, returning a NumPy float": selective_numpy,
        "topk, returning a 0-d tensor": selective_topk_tensor,
    },
    "noisy_copies": {
        "a loop, one draw per level": noisy_ok,
        "all the noise in one draw": noisy_one_draw,
        "torch.normal and torch.clip": noisy_normal,
        "in float64": noisy_float64,
        "rounded to whole ink levels": noisy_whole_levels,
    },
    "noise_robust_digits": {
        "returns a function of raw pixels": train_reader,
        "returns an nn.Module that scales inside": train_module,
    },
}

MUTANTS = {
    "permute_first_layer": {
        "the inverse permutation": permute_inverse,
        "permutes the rows of W": permute_rows,
        "changes the model in place": permute_in_place,
        "returns an unchanged copy": lambda model, p: copy.deepcopy(model),
        "permutes the output layer": permute_output_layer,
        "returns the weight matrix": lambda model, p: model[0].weight[:, p],
    },
    "selective_accuracy": {
        "the least confident rows": lambda probs, y, c: selective_ranked(
            probs, y, c, lambda p, t: -p.max(dim=1).values),
        "ranked by the true class's probability (a leak)": lambda probs, y, c:
            selective_ranked(probs, y, c, lambda p, t: p[torch.arange(len(t)), t]),
        "int instead of round": lambda probs, y, c: selective_ok(
            probs, y, int(c * len(y)) / len(y)),
        "the error rate": lambda probs, y, c: 1 - selective_ok(probs, y, c),
        "ignores the coverage": lambda probs, y, c: selective_ok(probs, y, 1.0),
        "math.ceil instead of round": lambda probs, y, c: selective_ok(
            probs, y, math.ceil(c * len(y)) / len(y)),
        "the number right, not the fraction": lambda probs, y, c: selective_ok(
            probs, y, c) * max(1, round(c * len(y))),
        "no 'at least 1' (k = 0 gives NaN)": selective_no_floor,
        "no 'at least 1', k = 0 scored as 0": lambda probs, y, c: (
            selective_ok(probs, y, c) if round(c * len(y)) else 0.0),
    },
    "noisy_copies": {
        "the colleague's code, three bugs": lambda X, y, levels, g: noisy_variant(
            X, y, levels, g, interleave=True, clip=False, fresh=False),
        "labels interleaved": lambda X, y, levels, g: noisy_variant(
            X, y, levels, g, interleave=True),
        "no clipping to 0..16": lambda X, y, levels, g: noisy_variant(
            X, y, levels, g, clip=False),
        "one noise draw for every copy": lambda X, y, levels, g: noisy_variant(
            X, y, levels, g, fresh=False),
        "noise scaled by the variance s**2": lambda X, y, levels, g: noisy_variant(
            X, y, levels, g, power=2),
        "noise not scaled at all": lambda X, y, levels, g: noisy_variant(
            X, y, levels, g, power=0),
        "the global random state instead of the generator": lambda X, y, levels, g:
            noisy_variant(X, y, levels, g, use_generator=False),
        "forgets the clean images": lambda X, y, levels, g: noisy_variant(
            X, y, levels, g, keep_clean=False),
        "clean images last": noisy_clean_last,
        "the first level for every copy": lambda X, y, levels, g: noisy_variant(
            X, y, levels, g, level_of=lambda lv, k: lv[0]),
        "always noise of level 2": lambda X, y, levels, g: noisy_variant(
            X, y, levels, g, level_of=lambda lv, k: 2.0),
        "the levels in reverse order": lambda X, y, levels, g: noisy_variant(
            X, y, levels, g, level_of=lambda lv, k: lv[len(lv) - 1 - k]),
        "changes X in place": noisy_in_place,
        "one noise pattern for all images of a copy": lambda X, y, levels, g:
            noisy_shaped(X, y, levels, g, lambda X: (1, X.shape[1])),
        "one noise value for all pixels of an image": lambda X, y, levels, g:
            noisy_shaped(X, y, levels, g, lambda X: (len(X), 1)),
        "uniform noise of the right spread": noisy_uniform,
    },
    "noise_robust_digits": {
        "the chapter's recipe on clean images": train_clean,
        "expects standardised, not raw, pixels": train_standardised_input,
        "an untrained network": train_nothing,
        "returns the predicted digit, not scores": train_labels_reader,
        "noisy copies of the notebook's X (test images included)": train_on_all_images,
        "a 1-NN lookup over the notebook's X": train_memoriser,
        "loads the digits itself (a lookup in a buffer)": train_memoriser_module,
        "test images through a default argument": train_with_test_default,
    },
}


@pytest.mark.parametrize("name, label, hint", [
    ("noisy_copies", "one noise pattern for all images of a copy", "its own noise"),
    ("noisy_copies", "one noise value for all pixels of an image",
     "every pixel needs its own noise"),
    ("noisy_copies", "uniform noise of the right spread", "should be Gaussian"),
    ("selective_accuracy", "no 'at least 1' (k = 0 gives NaN)", "k is at least 1"),
    ("selective_accuracy", "no 'at least 1', k = 0 scored as 0", "k is at least 1"),
])
def test_the_checks_of_chapter_8_name_the_mistake(name, label, hint):
    from mlpbook import check

    with pytest.raises(check.CheckFailed) as failed:
        getattr(check, name)(MUTANTS[name][label])
    assert hint in " ".join(str(failed.value).split())
