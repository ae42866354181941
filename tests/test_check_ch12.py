"""Chapter 12 checks: the correct answers each accepts and the mistakes each rejects.

The two Experiment checks train the learner's model inside the check; their correct
answers share one trained model each (cached), so that the suite trains each once.
"""

import collections
import functools
import zlib

import numpy as np
import pytest
import torch
from conftest import Lazy
from torch import nn

from mlpbook import data, train, utils

CHARS = ".abcdefghijklmnopqrstuvwxyz"
V = len(CHARS)
stoi = {c: i for i, c in enumerate(CHARS)}

# --- Exercise 1: the gradient of an embedding ------------------------------------------


def grad_index_add(X, G, V):
    grad = torch.zeros(V, G.shape[-1], dtype=G.dtype)
    return grad.index_add_(0, X.reshape(-1), G.reshape(-1, G.shape[-1]))


def grad_one_hot(X, G, V):
    """onehot(X)^T G, with n and c flattened together, in float32."""
    one_hot = nn.functional.one_hot(X.reshape(-1), V).float()  # (n c, V)
    return one_hot.T @ G.reshape(-1, G.shape[-1]).float()


def grad_loop(X, G, V):
    grad = torch.zeros(V, G.shape[-1], dtype=G.dtype)
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            grad[X[i, j]] += G[i, j]
    return grad


def grad_index_put(X, G, V):
    grad = torch.zeros(V, G.shape[-1], dtype=G.dtype)
    return grad.index_put_((X.reshape(-1),), G.reshape(-1, G.shape[-1]), accumulate=True)


def grad_assign(X, G, V):
    grad = torch.zeros(V, G.shape[-1], dtype=G.dtype)
    grad[X.reshape(-1)] = G.reshape(-1, G.shape[-1])  # repeated tokens: one value kept
    return grad


def grad_mean(X, G, V):
    counts = torch.bincount(X.reshape(-1), minlength=V).clamp(min=1)
    return grad_index_add(X, G, V) / counts[:, None]


def grad_autograd(X, G, V):
    C = torch.zeros(V, G.shape[-1], dtype=G.dtype, requires_grad=True)
    (C[X] * G).sum().backward()
    return C.grad


# --- Exercise 2: modified Kneser-Ney ---------------------------------------------------


def kn_ok(counts, lower, discounts):
    n_h = counts.sum()
    if n_h == 0:
        return lower.clone()
    d1, d2, d3 = discounts
    taken = torch.zeros_like(counts)
    taken[counts == 1] = d1
    taken[counts == 2] = d2
    taken[counts >= 3] = d3
    return (counts - taken) / n_h + taken.sum() / n_h * lower


def kn_by_types(counts, lower, discounts):
    """gamma from n1, n2 and n3+, the discounts by torch.where, in float32."""
    counts, lower = counts.float(), lower.float()
    n_h = counts.sum()
    if n_h == 0:
        return lower
    d1, d2, d3 = discounts
    n1, n2, n3 = (counts == 1).sum(), (counts == 2).sum(), (counts >= 3).sum()
    d = torch.where(counts >= 3, d3, torch.where(counts == 2, d2,
                                                 torch.where(counts == 1, d1, 0.0)))
    return (counts - d) / n_h + (d1 * n1 + d2 * n2 + d3 * n3) / n_h * lower


def kn_single_discount(counts, lower, discounts):
    n_h = counts.sum()
    if n_h == 0:
        return lower.clone()
    d1, d2, d3 = discounts
    taken = torch.zeros_like(counts)
    taken[counts == 1] = d1
    taken[counts == 2] = d2
    taken[counts >= 3] = d3
    types = (counts > 0).sum()
    return (counts - taken) / n_h + d3 * types / n_h * lower


def kn_no_unseen_case(counts, lower, discounts):
    d1, d2, d3 = discounts
    taken = torch.zeros_like(counts)
    taken[counts == 1] = d1
    taken[counts == 2] = d2
    taken[counts >= 3] = d3
    n_h = counts.sum()
    return (counts - taken) / n_h + taken.sum() / n_h * lower


def kn_discounts_zeros(counts, lower, discounts):
    n_h = counts.sum()
    if n_h == 0:
        return lower.clone()
    d1, d2, d3 = discounts
    taken = torch.where(counts >= 3, d3, torch.where(counts == 2, d2, d1))  # 0 too
    types = (counts > 0)
    gamma = (taken * types).sum() / n_h
    return (counts - taken) / n_h + gamma * lower


def kn_no_backoff(counts, lower, discounts):
    n_h = counts.sum()
    if n_h == 0:
        return lower.clone()
    return (counts - kn_taken(counts, discounts)) / n_h


def kn_taken(counts, discounts):
    d1, d2, d3 = discounts
    taken = torch.zeros_like(counts)
    taken[counts == 1] = d1
    taken[counts == 2] = d2
    taken[counts >= 3] = d3
    return taken


def kn_d2_for_more(counts, lower, discounts):
    n_h = counts.sum()
    if n_h == 0:
        return lower.clone()
    d1, d2, _ = discounts
    taken = torch.zeros_like(counts)
    taken[counts == 1] = d1
    taken[counts >= 2] = d2
    return (counts - taken) / n_h + taken.sum() / n_h * lower


def kn_gamma_not_divided(counts, lower, discounts):
    n_h = counts.sum()
    if n_h == 0:
        return lower.clone()
    taken = kn_taken(counts, discounts)
    return (counts - taken) / n_h + taken.sum() * lower


def kn_d3_at_exactly_3(counts, lower, discounts):
    """D3 taken from a count of exactly 3, nothing from larger counts."""
    n_h = counts.sum()
    if n_h == 0:
        return lower.clone()
    taken = kn_taken(counts, discounts) * (counts <= 3)
    return (counts - taken) / n_h + taken.sum() / n_h * lower


def kn_gamma_to_unseen_only(counts, lower, discounts):
    """The freed mass spread over the tokens never seen, by lower renormalised."""
    n_h = counts.sum()
    if n_h == 0:
        return lower.clone()
    taken = kn_taken(counts, discounts)
    unseen = counts == 0
    return (counts - taken) / n_h + unseen * taken.sum() / n_h * lower / lower[unseen].sum()


def kn_renormalised(counts, lower, discounts):
    """Discounted counts renormalised, no back-off."""
    if counts.sum() == 0:
        return lower.clone()
    kept = counts - kn_taken(counts, discounts)
    return kept / kept.sum()


def kn_uniform_when_unseen(counts, lower, discounts):
    if counts.sum() == 0:
        return torch.full_like(lower, 1 / len(lower))
    return kn_ok(counts, lower, discounts)


def kn_one_discount(counts, lower, discounts):
    """The chapter's single D (here D3, at most the count) for every seen token."""
    n_h = counts.sum()
    if n_h == 0:
        return lower.clone()
    taken = torch.where(counts > 0, counts.clamp(max=discounts[2]), 0.0)
    return (counts - taken) / n_h + taken.sum() / n_h * lower


# --- Exercise 3: top-k sampling ----------------------------------------------------------


def top_k_threshold(logits, k, temperature):
    kth = logits.topk(k, dim=-1).values[..., -1:]
    scaled = torch.where(logits >= kth, logits / temperature,
                         torch.full_like(logits, -torch.inf))
    return torch.softmax(scaled, dim=-1)


def top_k_scatter(logits, k, temperature):
    """topk indices scattered into a mask; the temperature after masking."""
    idx = (logits / temperature).topk(k, dim=-1).indices
    mask = torch.zeros_like(logits, dtype=torch.bool).scatter(-1, idx, True)
    z = logits.masked_fill(~mask, float("-inf")) / temperature
    return torch.softmax(z, dim=-1)


def top_k_renormalised(logits, k, temperature):
    """Softmax of all, zero the others, then renormalise: the same distribution."""
    p = torch.softmax(logits / temperature, dim=-1)
    kth = p.topk(k, dim=-1).values[..., -1:]
    p = torch.where(p >= kth, p, torch.zeros_like(p))
    return p / p.sum(dim=-1, keepdim=True)


def top_k_not_renormalised(logits, k, temperature):
    p = torch.softmax(logits / temperature, dim=-1)
    kth = p.topk(k, dim=-1).values[..., -1:]
    return torch.where(p >= kth, p, torch.zeros_like(p))


def top_k_smallest(logits, k, temperature):
    kth = logits.topk(k, dim=-1, largest=False).values[..., -1:]
    scaled = torch.where(logits <= kth, logits / temperature,
                         torch.full_like(logits, -torch.inf))
    return torch.softmax(scaled, dim=-1)


# --- Exercise 4: grouped contexts (debug) -------------------------------------------------


def group_dict(X, y, max_pairs, *, cycle=False, share=False, scale=True, invert=False,
               float_ids=False):
    rows = {}
    seen = collections.Counter()
    for context, token in zip(X.tolist(), y.tolist()):
        context = tuple(context)
        group = seen[context] % max_pairs if cycle else seen[context] // max_pairs
        seen[context] += 1
        rows.setdefault((context, group), torch.zeros(V))[token] += 1
    contexts = torch.tensor([key[0] for key in rows])
    targets = torch.stack(list(rows.values()))
    if share:
        targets = targets / targets.sum(dim=1, keepdim=True)
    elif scale:
        targets = targets * (len(y) / len(targets) if invert else len(targets) / len(y))
    return (contexts.float() if float_ids else contexts), targets


def group_sorted(X, y, max_pairs):
    """The chapter's vectorised way: sort the pairs by context, number them within it."""
    key = torch.zeros(len(X), dtype=torch.long)
    for j in range(X.shape[1]):
        key = key * V + X[:, j]
    order = torch.argsort(key, stable=True)
    _, context_id, size = torch.unique_consecutive(key[order], return_inverse=True,
                                                   return_counts=True)
    rank = torch.arange(len(y)) - (torch.cumsum(size, 0) - size)[context_id]
    _, row = torch.unique(context_id * len(y) + rank // max_pairs, return_inverse=True)
    contexts = torch.zeros(int(row.max()) + 1, X.shape[1], dtype=torch.long)
    contexts[row] = X[order]
    targets = torch.zeros(len(contexts), V, dtype=torch.float64)
    targets.index_put_((row, y[order]), torch.ones(len(y), dtype=torch.float64),
                       accumulate=True)
    return contexts, targets * len(contexts) / len(y)


def group_one_pair_per_row(X, y, max_pairs):
    return group_dict(X, y, 1)


def group_no_cap(X, y, max_pairs):
    return group_dict(X, y, 10**9)


# --- Exercise 5: a surname language model (experiment) -----------------------------------

CONTEXT = 5


def build_contexts(names, context):
    X, y = [], []
    for name in names:
        ids = [0] * context + [stoi[c] for c in name] + [0]
        for t in range(context, len(ids)):
            X.append(ids[t - context:t])
            y.append(ids[t])
    return torch.tensor(X), torch.tensor(y)


class SurnameMLP(nn.Module):
    def __init__(self, emb_dim=16, hidden=256):
        super().__init__()
        self.embed = nn.Embedding(V, emb_dim)
        self.mlp = nn.Sequential(nn.Linear(CONTEXT * emb_dim, hidden), nn.LayerNorm(hidden),
                                 nn.ReLU(), nn.Linear(hidden, V))

    def forward(self, x):
        return self.mlp(self.embed(x.long()).flatten(start_dim=1))


def untrained_surname_model(names):
    utils.set_seed(0)
    return SurnameMLP()


@functools.lru_cache(maxsize=1)
def _trained_surname_model(names):
    X, y = build_contexts(list(names), CONTEXT)
    model = untrained_surname_model(names)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.005)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, 3)
    train.fit(model, nn.CrossEntropyLoss(), optimizer, (X.float(), y), epochs=3,
              batch_size=1024, seed=0, scheduler=schedule, progress=False)
    return model


def train_surname_model(names):
    return _trained_surname_model(tuple(names))


def surname_log_probs(names):
    """Log-probabilities are logits too: log_softmax leaves them unchanged."""
    return nn.Sequential(train_surname_model(names), nn.LogSoftmax(dim=1))


def surname_probabilities(names):
    return nn.Sequential(train_surname_model(names), nn.Softmax(dim=1))


def surname_26_outputs(names):
    class Drop(nn.Module):
        def forward(self, z):
            return z[:, 1:]

    return nn.Sequential(train_surname_model(names), Drop())


def surname_loads_everything(names):
    """Loads the whole list, test names included, and would train on it."""
    return train_surname_model(tuple(data.load_surnames()))


def surname_reads_all_names():
    """A closure over every surname (the notebook's global list, say)."""
    everything = data.load_surnames()

    def train_on_everything(names):
        return train_surname_model(tuple(everything))

    return train_on_everything


# --- Exercise 6: hashed n-grams ---------------------------------------------------------------


def ngrams(word, lengths=(1, 2, 3), left="<", right=">"):
    padded = left + word + right
    return [padded[i:i + n] for n in lengths for i in range(len(padded) - n + 1)]


def hashed_ok(words, n_buckets, *, hasher=lambda g: zlib.crc32(g.encode("utf-8")),
              lengths=(1, 2, 3), markers=True, presence=False, modulo=0):
    X = torch.zeros(len(words), n_buckets)
    for r, word in enumerate(words):
        grams = ngrams(word, lengths) if markers else ngrams(word, lengths, "", "")
        for g in grams:
            X[r, hasher(g) % (n_buckets - modulo)] += 1
    return (X > 0).float() if presence else X


def hashed_numpy_int(words, n_buckets):
    X = np.zeros((len(words), n_buckets), dtype=np.int64)
    for r, word in enumerate(words):
        for g in ngrams(word):
            X[r, zlib.crc32(g.encode("utf-8")) % n_buckets] += 1
    return X


# --- Exercise 7: a language identifier (experiment) ----------------------------------------


def hashed_fast(words, n_buckets):
    rows, cols = [], []
    for r, word in enumerate(words):
        for g in ngrams(word):
            rows.append(r)
            cols.append(zlib.crc32(g.encode("utf-8")) % n_buckets)
    X = torch.zeros(len(words), n_buckets)
    X.index_put_((torch.tensor(rows, dtype=torch.long), torch.tensor(cols, dtype=torch.long)),
                 torch.ones(len(rows)), accumulate=True)
    return X


@functools.lru_cache(maxsize=2)
def _trained_identifier(words, labels, n_buckets, hidden):
    labels = torch.tensor(labels)
    X = hashed_fast(list(words), n_buckets)
    utils.set_seed(0)
    model = nn.Sequential(nn.Linear(n_buckets, hidden), nn.ReLU(),
                          nn.Linear(hidden, int(labels.max()) + 1))
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    train.fit(model, nn.CrossEntropyLoss(), optimizer, (X, labels), epochs=5, batch_size=256,
              seed=0, progress=False)
    return model


def identifier(n_buckets=8192, hidden=64, output=lambda logits: logits.argmax(dim=1)):
    def train_language_identifier(words, labels):
        model = _trained_identifier(tuple(words), tuple(labels.tolist()), n_buckets,
                                    hidden)

        def predict(new_words):
            return output(train.predict(model, hashed_fast(new_words, n_buckets)))

        return predict

    return train_language_identifier


def lookup_identifier(lists):
    """predict looks each word up in the lists: right on every word the lists hold."""
    language_of = {w: k for k, words in enumerate(lists.values()) for w in words}

    def predict(new_words):
        return torch.tensor([language_of.get(w, 0) for w in new_words])

    return predict


def identifier_loads_everything(words, labels):
    """Loads the word lists itself, test words included, inside the function."""
    return lookup_identifier(data.load_words(list(data.WORD_LANGUAGES_DEFAULT), 3000))


def identifier_remembers_all_words():
    """A closure over the lists loaded before (the notebook's global, say)."""
    lists = data.load_words(list(data.WORD_LANGUAGES_DEFAULT), 3000)

    def train_language_identifier(words, labels):
        return lookup_identifier(lists)

    return train_language_identifier


def majority_identifier(words, labels):
    most = torch.bincount(labels).argmax()
    return lambda new_words: torch.full((len(new_words),), int(most))


def returns_none(*args):
    return None


CORRECT = {
    "embedding_grad": {"index_add": grad_index_add, "one-hot product in float32": grad_one_hot,
                       "loop over positions": grad_loop, "index_put accumulate": grad_index_put},
    "modified_kneser_ney": {"taken discounts": kn_ok, "n1, n2, n3+ in float32": kn_by_types},
    "top_k_probs": {"threshold at the k-th": top_k_threshold,
                    "scatter mask, temperature after": top_k_scatter,
                    "softmax, mask, renormalise": top_k_renormalised},
    "group_contexts": {"dictionary": group_dict, "sorted, float64 targets": group_sorted},
    "surname_language_model": {"trained MLP": train_surname_model,
                               "log-probabilities as logits": surname_log_probs},
    "hashed_ngrams": {"reference": hashed_ok, "index_put": hashed_fast,
                      "NumPy int64": hashed_numpy_int},
    "language_identifier": {
        "8,192 buckets": identifier(),
        "4,096 buckets, 32 units, NumPy labels": identifier(
            4096, 32, lambda logits: logits.argmax(dim=1).numpy()),
        "a list of ints": identifier(output=lambda logits: logits.argmax(dim=1).tolist()),
    },
}

MUTANTS = {
    "embedding_grad": {
        "assignment instead of a sum": grad_assign,
        "mean instead of sum": grad_mean,
        "transposed (d, V)": lambda X, G, V: grad_index_add(X, G, V).T,
        "only the last position": lambda X, G, V: grad_index_add(
            X[:, -1:], G[:, -1:], V),
        "autograd (forbidden)": grad_autograd,
    },
    "modified_kneser_ney": {
        "one discount in gamma": kn_single_discount,
        "no case for an unseen context": kn_no_unseen_case,
        "discounts taken from unseen tokens": kn_discounts_zeros,
        "no back-off term": kn_no_backoff,
        "D2 for counts of 3 or more": kn_d2_for_more,
        "gamma not divided by N(h)": kn_gamma_not_divided,
        "D3 at exactly 3 only": kn_d3_at_exactly_3,
        "gamma spread over the unseen tokens only": kn_gamma_to_unseen_only,
        "renormalised instead of gamma": kn_renormalised,
        "uniform for an unseen context": kn_uniform_when_unseen,
        "one discount for every count": kn_one_discount,
    },
    "top_k_probs": {
        "not renormalised": top_k_not_renormalised,
        "the k smallest": top_k_smallest,
        "k + 1 tokens": lambda z, k, T: top_k_threshold(z, min(k + 1, z.shape[-1]), T),
        "multiplies by T": lambda z, k, T: top_k_threshold(z * T * T, k, T),
        "ignores T": lambda z, k, T: top_k_threshold(z, k, 1.0),
        "plain softmax": lambda z, k, T: torch.softmax(z / T, dim=-1),
    },
    "group_contexts": {
        "groups cycled with %": lambda X, y, m: group_dict(X, y, m, cycle=True),
        "each row a distribution": lambda X, y, m: group_dict(X, y, m, share=True),
        "raw counts": lambda X, y, m: group_dict(X, y, m, scale=False),
        "scale inverted": lambda X, y, m: group_dict(X, y, m, invert=True),
        "one pair per row": group_one_pair_per_row,
        "no cap": group_no_cap,
        "float contexts": lambda X, y, m: group_dict(X, y, m, float_ids=True),
    },
    "surname_language_model": {
        "untrained": untrained_surname_model,
        "probabilities, not logits": surname_probabilities,
        "26 outputs": surname_26_outputs,
        "returns nothing": returns_none,
        "a plain function, not a model": lambda names: (lambda X: torch.zeros(len(X), V)),
        "loads every surname itself": surname_loads_everything,
        "reads a list holding the test names": Lazy(surname_reads_all_names),
    },
    "hashed_ngrams": {
        "Python's hash()": lambda w, b: hashed_ok(w, b, hasher=hash),
        "no boundary markers": lambda w, b: hashed_ok(w, b, markers=False),
        "presence, not counts": lambda w, b: hashed_ok(w, b, presence=True),
        "1- and 2-grams only": lambda w, b: hashed_ok(w, b, lengths=(1, 2)),
        "modulo n_buckets - 1": lambda w, b: hashed_ok(w, b, modulo=1),
        "Latin-1 bytes": lambda w, b: hashed_ok(
            w, b, hasher=lambda g: zlib.crc32(g.encode("latin-1"))),
    },
    "language_identifier": {
        "the majority language": majority_identifier,
        "probabilities, not labels": identifier(
            output=lambda logits: torch.softmax(logits, dim=1)),
        "float labels": identifier(output=lambda logits: logits.argmax(dim=1).float()),
        "returns nothing": returns_none,
        "loads the word lists itself": identifier_loads_everything,
        "looks the test words up": Lazy(identifier_remembers_all_words),
    },
}


@pytest.mark.parametrize("name, label, hint", [
    ("modified_kneser_ney", "D2 for counts of 3 or more", "from a count of 3"),
    ("modified_kneser_ney", "D3 at exactly 3 only", "from a count of 7"),
    ("modified_kneser_ney", "one discount for every count", "from a count of 1"),
    ("modified_kneser_ney", "gamma spread over the unseen tokens only", "EVERY token"),
    ("modified_kneser_ney", "renormalised instead of gamma", "get probability 0"),
    ("modified_kneser_ney", "uniform for an unseen context", "keeps `lower` unchanged"),
    ("group_contexts", "each row a distribution", "How does normalising each row"),
    ("group_contexts", "raw counts", "your targets are the raw counts, 1 to 4"),
    ("group_contexts", "scale inverted", "9.00 times theirs"),
])
def test_the_checks_of_chapter_12_name_the_mistake(name, label, hint):
    from mlpbook import check

    with pytest.raises(check.CheckFailed) as failed:
        getattr(check, name)(MUTANTS[name][label])
    text = " ".join(str(failed.value).split())
    assert hint in text
    assert "divided by the same number" not in text  # the fix of bug 2 stays untold
