"""Chapter 12 checks: each accepts a correct answer and rejects plausible wrong ones."""

import torch

CHARS = ".abcdefghijklmnopqrstuvwxyz"


def contexts_ok(names, context, end=True, pad=0, shift=0):
    X, y = [], []
    for name in names:
        ids = [pad] * context + [CHARS.index(c) for c in name] + ([0] if end else [])
        for t in range(context, len(ids)):
            X.append(ids[t - context + shift:t + shift])
            y.append(ids[t])
    return torch.tensor(X, dtype=torch.long).reshape(-1, context), torch.tensor(y)


def contexts_float(names, context):
    X, y = contexts_ok(names, context)
    return X.float(), y.float()


def bigram_ok(counts, alpha):
    return (counts + alpha) / (counts.sum(dim=1, keepdim=True) + counts.shape[1] * alpha)


def transitions(names, start=True, end=True):
    prev, nxt = [], []
    for name in names:
        ids = [CHARS.index(c) for c in name]
        seq = ([0] if start else []) + ids + ([0] if end else [])
        prev += seq[:-1]
        nxt += seq[1:]
    return prev, nxt


def nll_ok(probs, names):
    prev, nxt = transitions(names)
    return -torch.log(probs[prev, nxt]).mean()


def nll_per_name_mean(probs, names):
    return torch.stack([nll_ok(probs, [name]) for name in names]).mean()


def ngrams_ok(word, n_max, left="<", right=">", low=1, cut=0):
    padded = left + word + right
    return [padded[i:i + n] for n in range(low, n_max + 1)
            for i in range(len(padded) - n + 1 - cut)]


def nb_ok(X, y, n_classes, alpha, prior=True, f_alpha=True):
    onehot = torch.nn.functional.one_hot(y, n_classes).to(X.dtype)  # (n, C)
    N = onehot.T @ X  # (C, n) @ (n, F) -> (C, F)
    denominator = N.sum(dim=1, keepdim=True) + (X.shape[1] * alpha if f_alpha else alpha)
    counts = onehot.sum(dim=0)
    log_prior = torch.log(counts / counts.sum()) if prior else torch.full(
        (n_classes,), -torch.log(torch.tensor(float(n_classes), dtype=X.dtype)).item(),
        dtype=X.dtype)
    return log_prior, torch.log((N + alpha) / denominator)


def nb_normalised_over_classes(X, y, n_classes, alpha):
    onehot = torch.nn.functional.one_hot(y, n_classes).to(X.dtype)
    N = onehot.T @ X + alpha
    counts = onehot.sum(dim=0)
    return torch.log(counts / counts.sum()), torch.log(N / N.sum(dim=0, keepdim=True))


CORRECT = {
    "build_contexts": contexts_ok,
    "smoothed_bigram": bigram_ok,
    "bigram_nll": nll_ok,
    "temperature_softmax": lambda z, T: torch.softmax(z / T, dim=-1),
    "char_ngrams": ngrams_ok,
    "naive_bayes_fit": nb_ok,
}

MUTANTS = {
    "build_contexts": {
        "no end token": lambda names, c: contexts_ok(names, c, end=False),
        "pads with 'a' instead of '.'": lambda names, c: contexts_ok(names, c, pad=1),
        "context includes the target": lambda names, c: contexts_ok(names, c, shift=1),
        "float ids": contexts_float,
        "targets and contexts swapped in order": lambda names, c: (
            contexts_ok(names, c)[0].flip(0), contexts_ok(names, c)[1]),
    },
    "smoothed_bigram": {
        "normalises columns": lambda counts, a: bigram_ok(counts.T, a).T,
        "alpha only in the numerator": lambda counts, a: (
            (counts + a) / counts.sum(dim=1, keepdim=True).clamp(min=1)),
        "alpha once in the denominator": lambda counts, a: (
            (counts + a) / (counts.sum(dim=1, keepdim=True) + a)),
        "no smoothing": lambda counts, a: counts / counts.sum(dim=1, keepdim=True).clamp(min=1),
    },
    "bigram_nll": {
        "forgets the end token": lambda probs, names: -torch.log(
            probs[transitions(names, end=False)]).mean(),
        "forgets the start token": lambda probs, names: -torch.log(
            probs[transitions(names, start=False)]).mean(),
        "sum instead of mean": lambda probs, names: -torch.log(
            probs[transitions(names)]).sum(),
        "log base 2": lambda probs, names: -torch.log2(probs[transitions(names)]).mean(),
        "mean of per-name means": nll_per_name_mean,
        "rows and columns swapped": lambda probs, names: nll_ok(probs.T, names),
        "positive log-likelihood": lambda probs, names: -nll_ok(probs, names),
    },
    "temperature_softmax": {
        "multiplies by T": lambda z, T: torch.softmax(z * T, dim=-1),
        "ignores T": lambda z, T: torch.softmax(z, dim=-1),
        "softmax over the first dimension": lambda z, T: torch.softmax(z / T, dim=0),
        "not normalised": lambda z, T: torch.exp(z / T),
        "divides the probabilities by T": lambda z, T: torch.softmax(z, dim=-1) / T,
        "exp without subtracting the max": lambda z, T: torch.exp(z / T) / torch.exp(
            z / T).sum(dim=-1, keepdim=True),
    },
    "char_ngrams": {
        "no boundary markers": lambda w, n: ngrams_ok(w, n, left="", right=""),
        "only the start marker": lambda w, n: ngrams_ok(w, n, right=""),
        "only n = n_max": lambda w, n: ngrams_ok(w, n, low=n),
        "misses the last n-gram": lambda w, n: ngrams_ok(w, n, cut=1),
        "drops repeats": lambda w, n: sorted(set(ngrams_ok(w, n))),
        "n = 0 .. n_max - 1": lambda w, n: ngrams_ok(w, n - 1, low=0),
    },
    "naive_bayes_fit": {
        "uniform prior": lambda X, y, C, a: nb_ok(X, y, C, a, prior=False),
        "alpha once in the denominator": lambda X, y, C, a: nb_ok(X, y, C, a, f_alpha=False),
        "no smoothing": lambda X, y, C, a: nb_ok(X, y, C, 0.0),
        "normalised over classes": nb_normalised_over_classes,
        "probabilities, not logs": lambda X, y, C, a: tuple(v.exp() for v in nb_ok(X, y, C, a)),
        "prior as counts": lambda X, y, C, a: (
            torch.bincount(y, minlength=C).to(X.dtype).log(), nb_ok(X, y, C, a)[1]),
    },
}

# Each correct answer as its only variant, until the chapter lists its variants.
CORRECT = {name: {"reference": fn} for name, fn in CORRECT.items()}
