"""Checks for Chapter 12, "Natural language processing with MLPs".

Conventions of the chapter: 27 tokens, ``.`` = 0 (it pads the start of a name
and marks its end) and ``a`` ... ``z`` = 1 ... 26; bigram tables ``(V, V)``
with the current token as the row and the next token as the column; NLL in
nats (natural logarithm), averaged over every predicted token, end tokens
included; character n-grams of ``"<" + word + ">"``; classes ``0 ... C-1``.
"""

from __future__ import annotations

import collections

import torch

from ._common import callable_, close, ok, require, run, tensor_like

__all__ = ["build_contexts", "smoothed_bigram", "bigram_nll", "temperature_softmax",
           "char_ngrams", "naive_bayes_fit"]

_CHARS = ".abcdefghijklmnopqrstuvwxyz"
_V = len(_CHARS)


def _ids(name):
    return [_CHARS.index(c) for c in name]


def _contexts(names, context):
    X, y = [], []
    for name in names:
        ids = [0] * context + _ids(name) + [0]
        for t in range(context, len(ids)):
            X.append(ids[t - context:t])
            y.append(ids[t])
    return torch.tensor(X, dtype=torch.long).reshape(-1, context), torch.tensor(y)


def _bigram(counts, alpha):
    return (counts + alpha) / (counts.sum(dim=1, keepdim=True) + counts.shape[1] * alpha)


def _nll(probs, names):
    prev = [i for name in names for i in [0] + _ids(name)]
    nxt = [i for name in names for i in _ids(name) + [0]]
    return -torch.log(probs[prev, nxt]).mean()


def _ngrams(word, n_max):
    padded = "<" + word + ">"
    return [padded[i:i + n] for n in range(1, n_max + 1) for i in range(len(padded) - n + 1)]


def _counts(seed, rows=_V, zero_rows=(5,)):
    gen = torch.Generator().manual_seed(seed)
    counts = torch.randint(0, 6, (rows, rows), generator=gen).to(torch.float64)
    counts[list(zero_rows)] = 0.0  # a token never seen as the current one
    return counts


def build_contexts(fn) -> None:
    """Check ``build_contexts(names, context)``: ``X`` (n, context) and ``y`` (n,), int64 ids."""
    callable_(fn)
    cases = [(["smith"], 3, "names = ['smith'], context = 3"),
             (["ab", "x"], 1, "names = ['ab', 'x'], context = 1"),
             (["zz", "a", "quinn"], 4, "three names, context = 4"),
             (["lee"], 6, "a context longer than the name ('lee', context = 6)")]
    for names, context, what in cases:
        out = run(fn, list(names), context, what=what)
        require(isinstance(out, tuple) and len(out) == 2, "return a pair (X, y).")
        X_ref, y_ref = _contexts(names, context)
        X, y = (tensor_like(v, ref, f"{name} for {what}")
                for v, ref, name in [(out[0], X_ref, "X"), (out[1], y_ref, "y")])
        require(out[0].dtype == out[1].dtype == torch.long,
                "return int64 token ids (torch.long), as nn.Embedding and the loss expect.")
        require(torch.equal(y, y_ref.double()),
                f"the targets differ for {what}: a name of L letters gives L + 1 targets, its "
                "letters and then the end token '.' (id 0).")
        require(torch.equal(X, X_ref.double()),
                f"the contexts differ for {what}: context t holds the `context` tokens just "
                "before target t, with the start padded by '.' (id 0).")
    ok("build_contexts: correct on 4 cases, including a context longer than the name.")


def smoothed_bigram(fn) -> None:
    """Check ``smoothed_bigram(counts, alpha)``: add-alpha probabilities, each row sums to 1."""
    callable_(fn)
    cases = [(_counts(1), 1.0, "27 x 27 counts with an all-zero row, alpha = 1"),
             (_counts(2), 0.1, "27 x 27 counts with an all-zero row, alpha = 0.1"),
             (_counts(3, rows=4, zero_rows=()) + 1, 0.0, "4 x 4 counts, alpha = 0")]
    for counts, alpha, what in cases:
        out = run(fn, counts.clone(), alpha, what=what)
        expected = _bigram(counts, alpha)
        value = tensor_like(out, expected, f"the probabilities for {what}")
        require(torch.allclose(value.sum(dim=1), torch.ones(len(counts), dtype=torch.float64),
                               atol=1e-6),
                f"each row (one current token) must sum to 1 ({what}); add alpha to every "
                "count of the row, including in the row's total.")
        close(value, expected, "the probabilities",
              f"p(c | h) = (N(h, c) + alpha) / (N(h) + V * alpha) ({what}).")
    ok("smoothed_bigram: correct on 3 cases, including a context never seen and alpha = 0.")


def bigram_nll(fn) -> None:
    """Check ``bigram_nll(probs, names)``: mean -ln p over every transition, in nats."""
    callable_(fn)
    gen = torch.Generator().manual_seed(4)
    uniform = torch.full((_V, _V), 1.0 / _V, dtype=torch.float64)
    skewed = torch.softmax(3 * torch.randn(_V, _V, generator=gen, dtype=torch.float64), dim=1)
    cases = [(uniform, ["smith", "li"], "the uniform model"),
             (skewed, ["smith", "li", "o"], "a skewed model and three names"),
             (skewed, ["quinn"], "a skewed model and one name")]
    for probs, names, what in cases:
        out = run(fn, probs.clone(), list(names), what=what)
        expected = _nll(probs, names)
        close(torch.as_tensor(out, dtype=torch.float64).reshape(()), expected,
              f"the NLL for {what}",
              "average -ln p(next | current) over every transition of '.' + name + '.', in "
              f"nats, all names together ({what}); the uniform model gives ln 27.")
    ok("bigram_nll: correct, ln 27 for the uniform model, start and end tokens included.")


def temperature_softmax(fn) -> None:
    """Check ``temperature_softmax(logits, temperature)``: softmax of logits / T on the last dim."""
    callable_(fn)
    gen = torch.Generator().manual_seed(5)
    logits = torch.randn(4, _V, generator=gen, dtype=torch.float64)
    cases = [(logits, 1.0, "T = 1"), (logits, 0.5, "T = 0.5"), (logits, 2.0, "T = 2"),
             (logits[0], 0.7, "a 1-D vector of logits"),
             (torch.tensor([[1000.0, 999.0, -5.0]], dtype=torch.float64), 0.1,
              "large logits (1000) with T = 0.1")]
    for z, T, what in cases:
        out = run(fn, z.clone(), T, what=what)
        expected = torch.softmax(z / T, dim=-1)
        value = tensor_like(out, expected, f"the probabilities for {what}")
        require(bool(torch.isfinite(value).all()),
                f"the result has NaN or infinity for {what}: exp overflows; subtract the "
                "largest logit first, or use torch.softmax.")
        close(value, expected, "the probabilities",
              f"divide the logits by T, then take the softmax over the last dimension ({what}).")
    ok("temperature_softmax: correct for T = 0.5, 1, 2, on 1-D input and on large logits.")


def char_ngrams(fn) -> None:
    """Check ``char_ngrams(word, n_max)``: every n-gram of '<word>' for n = 1 .. n_max."""
    callable_(fn)
    for word, n_max in [("haus", 3), ("banana", 2), ("a", 3), ("ab", 5), ("", 2)]:
        what = f"char_ngrams({word!r}, {n_max})"
        out = run(fn, word, n_max, what=what)
        require(isinstance(out, (list, tuple)) and all(isinstance(g, str) for g in out),
                f"{what} should return a list of strings.")
        expected = collections.Counter(_ngrams(word, n_max))
        require(collections.Counter(out) == expected,
                f"{what} differs: wrap the word as '<' + word + '>', take every slice of length "
                "n for n = 1 .. n_max, keep repeats, and skip n longer than the wrapped word.")
    ok("char_ngrams: correct on 5 words, with repeats, an empty word and n_max too large.")


def naive_bayes_fit(fn) -> None:
    """Check ``naive_bayes_fit(X, y, n_classes, alpha)`` against scikit-learn's MultinomialNB."""
    from sklearn.naive_bayes import MultinomialNB

    callable_(fn)
    gen = torch.Generator().manual_seed(6)
    X = torch.poisson(torch.rand(30, 8, generator=gen) * 2, generator=gen).to(torch.float64)
    X[:, 7] = 0.0  # a feature seen in no class
    y = torch.tensor([0] * 5 + [1] * 15 + [2] * 10)
    for alpha in (1.0, 0.5):
        what = f"30 samples, 3 classes, 8 features, alpha = {alpha}"
        out = run(fn, X.clone(), y.clone(), 3, alpha, what=what)
        require(isinstance(out, tuple) and len(out) == 2, "return (log_prior, log_theta).")
        reference = MultinomialNB(alpha=alpha).fit(X.numpy(), y.numpy())
        log_prior = torch.as_tensor(reference.class_log_prior_)
        log_theta = torch.as_tensor(reference.feature_log_prob_)
        close(out[0], log_prior, "log_prior",
              "log_prior[c] is the log of the fraction of training samples in class c.")
        value = tensor_like(out[1], log_theta, "log_theta")
        require(bool(torch.isfinite(value).all()),
                "log_theta has -inf: smooth the counts with alpha before taking the log.")
        require(torch.allclose(value.exp().sum(dim=1), torch.ones(3, dtype=torch.float64),
                               atol=1e-6),
                "exp(log_theta) must sum to 1 over the features of each class (each row).")
        close(value, log_theta, "log_theta",
              "theta[c, j] = (N[c, j] + alpha) / (N[c] + F * alpha), where N[c, j] sums "
              "feature j over the samples of class c; return its log.")
    ok("naive_bayes_fit: matches scikit-learn's MultinomialNB for alpha = 1 and 0.5, "
       "including a feature seen in no class.")
