"""Checks for Chapter 12, "Natural language processing with MLPs".

Conventions of the chapter: 27 tokens, ``.`` = 0 (it pads the start of a name
and marks its end) and ``a`` ... ``z`` = 1 ... 26; NLL in nats (natural
logarithm), averaged over every predicted token, end tokens included;
character n-grams of ``"<" + word + ">"``; languages as class indices
``0 ... C-1`` in the order of ``data.WORD_LANGUAGES_DEFAULT``.

The two Experiment checks load their data themselves (the census surnames and
the wordfreq lists, split with seed 0 as the chapter's first split), hand the
learner's training function the training part only, and score what it returns
on the held-out part. While the learner's code runs, the data loaders refuse to
run (``_loaders_off``), and a function that reads a global, closure or default
holding held-out names or words is refused (``_reads_held_out``).
"""

from __future__ import annotations

import collections
import contextlib
import math
import zlib

import torch

from ._common import (
    LOADERS_OFF,
    callable_,
    close,
    fail,
    ok,
    refused,
    require,
    run,
    tensor_like,
    values_read,
)

__all__ = ["embedding_grad", "modified_kneser_ney", "top_k_probs", "group_contexts",
           "surname_language_model", "hashed_ngrams", "language_identifier"]

_CHARS = ".abcdefghijklmnopqrstuvwxyz"
_V = len(_CHARS)
SURNAME_CONTEXT = 5  # the context length of the language-model experiment
SURNAME_BAR = 2.20  # nats per character on the held-out names
LANGUAGE_BAR = 0.74  # accuracy on the held-out words (naive Bayes: 0.740)


# --- Exercise 1: the gradient of an embedding lookup ---------------------------------

def _embedding_cases():
    gen = torch.Generator().manual_seed(1)
    X1 = torch.tensor([[0, 3, 3], [3, 1, 0]])  # token 3 three times, token 2 never
    cases = [(X1, torch.randn(2, 3, 4, generator=gen), 5, "token 3 three times, 2 never")]
    X2 = torch.randint(0, _V, (50, 6), generator=gen)
    cases.append((X2, torch.randn(50, 6, 8, generator=gen, dtype=torch.float64), _V,
                  "50 contexts of 6 tokens, float64 gradients"))
    X3 = torch.tensor([[4], [4], [1]])
    cases.append((X3, torch.randn(3, 1, 2, generator=gen), 6, "contexts of one token"))
    return cases


def _autograd_embedding_grad(X, G, V):
    C = torch.zeros(V, G.shape[-1], dtype=G.dtype, requires_grad=True)
    with torch.enable_grad():
        (C[X] * G).sum().backward()
    return C.grad


def embedding_grad(fn) -> None:
    """Check ``embedding_grad(X, G, V)``: dL/dC (V, d) from G = dL/dE (n, c, d), E = C[X]."""
    callable_(fn)
    for X, G, V, what in _embedding_cases():
        out = run(fn, X.clone(), G.clone(), V, what=what, no_grad=True,
                  hint="compute the gradient from X and G alone, without autograd.")
        expected = _autograd_embedding_grad(X, G, V)
        value = tensor_like(out, expected, f"the gradient for {what}")
        unused = torch.ones(V, dtype=torch.bool)
        unused[X.flatten()] = False
        require(bool((value[unused] == 0).all()),
                f"a token that never occurs gets no gradient ({what}).")
        close(value, expected, "the gradient",
              "row v of dL/dC adds up G over every position, in every context, where "
              f"token v occurs: repeated tokens accumulate ({what}).", atol=1e-5)
    ok("embedding_grad: matches autograd, with repeated and unused tokens.")


# --- Exercise 2: modified Kneser-Ney's back-off weight -------------------------------

def _modified_kn(counts, lower, discounts):
    n_h = counts.sum()
    if n_h == 0:
        return lower.clone()
    d1, d2, d3 = discounts
    d = torch.where(counts >= 3, d3, torch.where(counts == 2, d2, torch.where(
        counts == 1, d1, 0.0)))
    gamma = (d1 * (counts == 1).sum() + d2 * (counts == 2).sum()
             + d3 * (counts >= 3).sum()) / n_h
    return (counts - d) / n_h + gamma * lower


def _kn_cases():
    gen = torch.Generator().manual_seed(2)
    lower = torch.softmax(torch.randn(_V, generator=gen, dtype=torch.float64), dim=0)
    counts = torch.tensor([0, 1, 1, 2, 3, 7, 0, 0, 1, 2, 40] + [0] * 16, dtype=torch.float64)
    many = torch.poisson(torch.rand(_V, generator=gen, dtype=torch.float64) * 4,
                         generator=gen)
    many[0] = 1.0
    return [(counts, lower, (0.6, 1.1, 1.5), "counts of 1, 2, 3 and more"),
            (many, lower, (0.4, 0.9, 1.3), "random counts"),
            (counts, lower, (0.0, 0.0, 0.0), "all discounts 0"),
            (torch.zeros(_V, dtype=torch.float64), lower, (0.6, 1.1, 1.5),
             "a context never seen (all counts 0)")]


def _kn_hint(value, counts, lower, discounts) -> str:
    """What a wrong answer that sums to 1 got wrong: the back-off of the tokens never
    seen, or the discount taken from one class of counts."""
    n_h = counts.sum()
    unseen, seen = (counts == 0) & (lower > 0), counts > 0
    if n_h > 0 and unseen.any():
        gamma = value[unseen] / lower[unseen]  # the learner's gamma(h), token by token
        if gamma.max() < 1e-12:
            return ("the tokens never seen after h get probability 0: the back-off "
                    "term gamma(h) * lower(c) gives them their share.")
        if gamma.max() - gamma.min() > 1e-6:
            return ("the tokens never seen after h should get gamma(h) * lower(c), one "
                    "gamma(h) for the whole context.")
        g = gamma.mean()
        d1, d2, d3 = discounts
        rule = torch.where(counts >= 3, d3, torch.where(counts == 2, d2, d1))
        if torch.allclose(value[seen], (counts[seen] - rule[seen]) / n_h, atol=1e-6):
            return ("gamma(h) * lower(c) goes to EVERY token, those seen after h too, "
                    "not only to the ones never seen.")
        taken = counts - n_h * (value - g * lower)  # the discount each token lost
        wrong = seen & ((taken - rule).abs() > 1e-6)
        if wrong.any():
            first = int(torch.where(wrong, counts, math.inf).argmin())  # smallest count
            m = int(counts[first])
            return (f"from a count of {m} your function takes {float(taken[first]):.2f}; "
                    "which of D1, D2 and D3 belongs to a count of "
                    f"{m}? (D(1) = D1, D(2) = D2, D(m) = D3 for m >= 3.)")
    return ("each probability is (N(h, c) - D(N(h, c))) / N(h) + gamma(h) * lower(c); "
            "print yours next to the counts to see which tokens are off.")


def modified_kneser_ney(fn) -> None:
    """Check ``modified_kneser_ney(counts, lower, discounts)``: one step, sums to 1."""
    callable_(fn)
    for counts, lower, discounts, what in _kn_cases():
        out = run(fn, counts.clone(), lower.clone(), discounts, what=what)
        expected = _modified_kn(counts, lower, discounts)
        value = tensor_like(out, expected, f"the probabilities for {what}")
        require(bool(torch.isfinite(value).all()),
                "the result has NaN or infinity: a context seen 0 times keeps the "
                "shorter context's distribution whole.", what)
        if counts.sum() == 0:
            require(torch.allclose(value, lower, atol=1e-6), "a context never seen "
                    "(N(h) = 0) keeps `lower` unchanged.", what)
        require(bool((value >= -1e-12).all()),
                "a probability is negative: only the counts of at least 1 give up a "
                "discount.", what)
        require(abs(value.sum().item() - 1) < 1e-6,
                f"the probabilities sum to {value.sum().item():.6f}, not 1: the "
                "back-off weight must hand on exactly the probability the discounts "
                "free, D1, D2 or D3 for each token seen once, twice, or three times "
                "or more.", what)
        if not torch.allclose(value, expected, atol=1e-6):
            fail(_kn_hint(value, counts, lower, discounts), what)
    ok("modified_kneser_ney: sums to 1 and matches, unseen contexts included.")


# --- Exercise 3: top-k sampling ----------------------------------------------------

def _top_k(logits, k, temperature):
    kept = logits.topk(k, dim=-1).indices
    mask = torch.zeros_like(logits, dtype=torch.bool).scatter(-1, kept, True)
    z = torch.where(mask, logits / temperature, torch.full_like(logits, -math.inf))
    return torch.softmax(z, dim=-1)


def top_k_probs(fn) -> None:
    """Check ``top_k_probs(logits, k, temperature)``: softmax(z / T) over the k largest."""
    callable_(fn)
    gen = torch.Generator().manual_seed(3)
    logits = torch.randn(4, _V, generator=gen, dtype=torch.float64) * 2
    cases = [(logits, 5, 1.0, "k = 5, T = 1"), (logits, 3, 0.5, "k = 3, T = 0.5"),
             (logits, 8, 2.0, "k = 8, T = 2"), (logits, 1, 1.0, "k = 1"),
             (logits, _V, 1.0, "k = V (all tokens)"),
             (torch.tensor([[1000.0, 999.0, 998.0, -5.0]], dtype=torch.float64), 2, 0.5,
              "large logits (1000), k = 2, T = 0.5")]
    for z, k, T, what in cases:
        out = run(fn, z.clone(), k, T, what=what)
        expected = _top_k(z, k, T)
        value = tensor_like(out, expected, f"the probabilities for {what}")
        require(bool(torch.isfinite(value).all()),
                f"the result has NaN or infinity for {what}: subtract the largest logit "
                "before exp, or use torch.softmax.")
        require(torch.allclose(value.sum(dim=-1), torch.ones(len(z), dtype=torch.float64),
                               atol=1e-6),
                f"each row must sum to 1 ({what}): renormalise over the tokens kept.")
        kept = (value > 0).sum(dim=-1)
        require(bool((kept == k).all()),
                f"each row should give non-zero probability to exactly k tokens, the k "
                f"with the largest logits ({what}).")
        close(value, expected, "the probabilities",
              f"keep the k largest logits, divide them by T, softmax over those ({what}).")
    ok("top_k_probs: correct for k = 1 .. V, three temperatures, large logits.")


# --- Exercise 4: grouped contexts (debug) ------------------------------------------

def _group_cases():
    gen = torch.Generator().manual_seed(4)
    X1 = torch.tensor([[0, 0]] * 11 + [[1, 2]] * 3 + [[2, 1]] * 1)
    y1 = torch.tensor([1, 2, 1, 1, 3, 0, 1, 2, 2, 1, 1, 0, 0, 5, 4])
    X2 = torch.randint(0, 3, (300, 3), generator=gen)
    y2 = torch.randint(0, _V, (300,), generator=gen)
    return [(X1, y1, 4, "15 pairs, one context 11 times, max_pairs = 4"),
            (X2, y2, 3, "300 random pairs over 27 contexts, max_pairs = 3"),
            (X2, y2, 1000, "300 random pairs, max_pairs = 1000")]


def _pair_counts(X, y):
    return collections.Counter((tuple(x), t) for x, t in zip(X.tolist(), y.tolist()))


def _probe_losses(contexts, targets, X, y):
    """(mean cross-entropy over the rows, mean NLL over the pairs) for a fixed model
    that is not uniform: logits (m, V) summed from one random table per position. None,
    None when the contexts are not token ids this model can read."""
    if contexts.is_floating_point() or contexts.numel() == 0 or \
            int(contexts.min()) < 0 or int(contexts.max()) >= _V:
        return None, None
    gen = torch.Generator().manual_seed(12)
    table = torch.randn(X.shape[1], _V, _V, generator=gen, dtype=torch.float64) * 1.5

    def log_q(ids):  # (m, c) -> (m, V)
        logits = sum(table[j, ids[:, j]] for j in range(ids.shape[1]))
        return torch.log_softmax(logits, dim=1)

    rows = -(targets * log_q(contexts.long())).sum(dim=1).mean().item()
    pairs = -log_q(X)[torch.arange(len(y)), y].mean().item()
    return rows, pairs


def group_contexts(fn) -> None:
    """Check ``group_contexts(X, y, max_pairs)``: rows of <= max_pairs pairs, exact loss."""
    callable_(fn)
    for X, y, max_pairs, what in _group_cases():
        out = run(fn, X.clone(), y.clone(), max_pairs, what=what)
        require(isinstance(out, tuple) and len(out) == 2,
                "return a pair (contexts, targets).")
        contexts, targets = out
        require(isinstance(contexts, torch.Tensor) and isinstance(targets, torch.Tensor),
                "return two tensors, contexts (m, c) and targets (m, V).")
        require(contexts.ndim == 2 and contexts.shape[1] == X.shape[1]
                and tuple(targets.shape) == (len(contexts), _V),
                f"contexts should have shape (m, {X.shape[1]}) and targets (m, {_V}) "
                f"({what}); received {tuple(contexts.shape)} and {tuple(targets.shape)}.")
        require(not contexts.is_floating_point(),
                "contexts hold token ids: keep them as integers (int64).")
        raw = targets.detach().to(torch.float64)
        rows, pairs = _probe_losses(contexts, raw, X, y)
        equal = "the two must be equal for any model"
        losses = (f"for a model that is not uniform, the mean cross-entropy over your "
                  f"rows is {rows:.4f}, the mean NLL over the pairs {pairs:.4f} ({what}); "
                  f"{equal}" if rows is not None else
                  f"the mean cross-entropy over your rows must equal the mean NLL over "
                  f"the pairs, for any model ({what})")
        if len(contexts) != len(y) and bool((raw - raw.round()).abs().max() < 1e-6) \
                and abs(raw.sum().item() - len(y)) < 1e-6:
            sums = raw.sum(dim=1)
            fail(f"your targets are the raw counts, {int(sums.min())} to "
                 f"{int(sums.max())} pairs per row. {losses[0].upper() + losses[1:]}: "
                 "scale every row by the same factor.")
        counts = raw * len(y) / len(contexts)
        if not bool((counts - counts.round()).abs().max() < 1e-4):
            if bool(((raw.sum(dim=1) - 1).abs() < 1e-6).all()):
                fail(f"{losses}. A row that stands for 3 pairs must weigh 3 times as "
                     "much as a row that stands for 1. How does normalising each row to "
                     "sum 1 treat them?")
            fail(f"{losses}. Compare what each row's target holds with the pairs it "
                 "stands for.")
        if rows is not None and abs(rows - pairs) > 1e-6 * max(1.0, abs(pairs)):
            fail(f"{losses}: yours is {rows / pairs:.2f} times theirs. Compare what each "
                 "row's target holds with the pairs it stands for.")
        counts = counts.round()
        sizes = counts.sum(dim=1)
        require(bool((sizes >= 1).all() and (sizes <= max_pairs).all()),
                f"every row should stand for 1 to max_pairs = {max_pairs} pairs; yours "
                f"stand for {int(sizes.min())} to {int(sizes.max())} ({what}).")
        rebuilt = collections.Counter()
        for x, row in zip(contexts.tolist(), counts.tolist()):
            for t, m in enumerate(row):
                if m:
                    rebuilt[(tuple(x), t)] += int(m)
        require(rebuilt == _pair_counts(X, y),
                f"the rows do not add up to the pairs ({what}): each (context, next "
                "token) pair must be counted once, in a row of its own context.")
        per_context = collections.Counter(tuple(x) for x in X.tolist())
        fewest = sum(math.ceil(n / max_pairs) for n in per_context.values())
        require(len(contexts) == fewest,
                f"{len(contexts)} rows where {fewest} suffice ({what}): fill each row "
                "with max_pairs pairs of its context before starting the next row.")
    ok("group_contexts: capped rows, and a mean loss equal to the pairs' NLL.")


# --- Held-out data: what the learner's training code may not read ------------------

LEAK_MIN = 10  # held-out names or words in one value that count as reading the test set


@contextlib.contextmanager
def _loaders_off():
    """The course's and wordfreq's loaders raise while the block runs."""
    from .. import data

    targets = [(data, "load_surnames"), (data, "load_words")]
    with contextlib.suppress(ImportError):
        import wordfreq

        targets += [(wordfreq, name) for name in (
            "top_n_list", "iter_wordlist", "get_frequency_dict", "word_frequency",
            "zipf_frequency")]
    with refused(targets, LOADERS_OFF):
        yield


def _held_out_count(value, held_out: set[str], depth: int = 2) -> int:
    """How many strings of ``held_out`` a value (a string collection, or one nested in a
    list, tuple or dict) holds."""
    if isinstance(value, (set, frozenset)):
        return len(held_out.intersection(v for v in value if isinstance(v, str)))
    if isinstance(value, dict):
        found = len(held_out.intersection(k for k in value if isinstance(k, str)))
        if depth > 0:
            found = max([found] + [_held_out_count(v, held_out, depth - 1)
                                   for v in value.values()])
        return found
    if isinstance(value, (list, tuple)):
        found = len(held_out.intersection(v for v in value if isinstance(v, str)))
        nested = [v for v in value[:100]
                  if isinstance(v, (list, tuple, dict, set, frozenset))]
        if depth > 0 and nested:  # the first 100 items: a list of lists of names
            found = max([found] + [_held_out_count(v, held_out, depth - 1)
                                   for v in nested])
        return found
    return 0


def _reads_held_out(fn, held_out: set[str]) -> str | None:
    """The name of a value read by ``fn`` that holds held-out names or words, or None."""
    for name, value in values_read(fn):
        if _held_out_count(value, held_out) >= LEAK_MIN:
            return name
    return None


LEAK_HINT = ("train only on the {} you are given: your code reads `{}`, which holds "
             "held-out {} of the check.")


# --- Exercise 5: a surname language model (experiment) ------------------------------

def _surname_split():
    from .. import data

    surnames = data.load_surnames()
    ids = torch.arange(len(surnames))[:, None]
    parts = data.split(ids, torch.zeros(len(surnames)), val=0.1, test=0.1, seed=0,
                       stratify=False)
    return [[surnames[i] for i in part[:, 0]] for part in (parts[0], parts[4])]


def _contexts(names, context):
    X, y = [], []
    for name in names:
        ids = [0] * context + [_CHARS.index(c) for c in name] + [0]
        for t in range(context, len(ids)):
            X.append(ids[t - context:t])
            y.append(ids[t])
    return torch.tensor(X), torch.tensor(y)


def _outputs(model, X, what):
    """The model's outputs for X in evaluation mode, without gradients."""
    was_training = getattr(model, "training", False)
    if isinstance(model, torch.nn.Module):
        model.eval()
    try:
        return run(model, X, what=what, no_grad=True,
                   hint="the model receives float token ids and returns logits.")
    finally:
        if isinstance(model, torch.nn.Module):
            model.train(was_training)


def surname_language_model(fn) -> None:
    """Check ``train_surname_model(names)``: the model it returns must reach the bar on
    held-out surnames that the check loads itself. The data loaders are switched off
    while the learner's code runs, and code that reads held-out names is refused."""
    callable_(fn)
    names_train, names_test = _surname_split()
    held_out = set(names_test) - set(names_train)
    case = "train_surname_model(names_train)"
    leak = _reads_held_out(fn, held_out)
    require(leak is None, LEAK_HINT.format("names", leak, "names"), case)
    X_test, y_test = _contexts(names_test, SURNAME_CONTEXT)
    what = f"{len(names_test):,} held-out names, contexts (n, {SURNAME_CONTEXT}) as floats"
    with _loaders_off():
        model = run(fn, list(names_train), what=case,
                    hint="train_surname_model(names) gets the training surnames, a list "
                         "of strings, and returns the trained model; it trains on those "
                         "names only and loads no data itself.")
        require(isinstance(model, torch.nn.Module)
                and any(True for _ in model.parameters()),
                "return the trained model: an nn.Module with parameters, not "
                f"{type(model).__name__}.")
        leak = _reads_held_out(model, held_out)
        require(leak is None, LEAK_HINT.format("names", leak, "names"), case)
        logits = _outputs(model, X_test.float(), what)
    require(isinstance(logits, torch.Tensor) and tuple(logits.shape) == (len(y_test), _V),
            f"the model should map contexts (n, {SURNAME_CONTEXT}) to logits (n, {_V}); "
            f"it returned {getattr(logits, 'shape', type(logits).__name__)}.")
    logits = logits.detach().to(torch.float64)
    require(bool(torch.isfinite(logits).all()), "the model's outputs hold NaN or infinity.")
    nll = torch.nn.functional.cross_entropy(logits, y_test).item()
    require(nll <= SURNAME_BAR,
            f"your model scores {nll:.3f} nats per character on held-out names; the bar "
            f"is {SURNAME_BAR:.2f}. Return logits (not probabilities), and train longer or "
            "wider, with a learning-rate schedule, watching a validation set.", what)
    ok(f"surname_language_model: held-out NLL {nll:.3f} nats per character "
       f"(bar {SURNAME_BAR:.2f}).")


# --- Exercise 6: hashed n-grams -------------------------------------------------------

def _hashed(words, n_buckets):
    X = torch.zeros(len(words), n_buckets)
    for r, word in enumerate(words):
        padded = "<" + word + ">"
        for n in range(1, 4):
            for i in range(len(padded) - n + 1):
                X[r, zlib.crc32(padded[i:i + n].encode("utf-8")) % n_buckets] += 1
    return X


def hashed_ngrams(fn) -> None:
    """Check ``hashed_ngrams(words, n_buckets)``: counts of crc32-hashed 1-3-grams."""
    callable_(fn)
    cases = [(["haus"], 64, "['haus'], 64 buckets"),
             (["banana", "año", "être"], 1024, "words with repeats and accents"),
             (["a", ""], 16, "a one-letter and an empty word"),
             (["mississippi", "de"], 5, "5 buckets: collisions add up")]
    for words, n_buckets, what in cases:
        out = run(fn, list(words), n_buckets, what=what)
        expected = _hashed(words, n_buckets)
        if not isinstance(out, torch.Tensor):
            try:
                out = torch.as_tensor(out)
            except Exception:  # noqa: BLE001 - anything that is not array-like
                fail(f"return a tensor of shape ({len(words)}, n_buckets), not "
                     f"{type(out).__name__}.")
        value = tensor_like(out, expected, f"the features for {what}")
        require(torch.equal(value.sum(dim=1), expected.sum(dim=1).double()),
                f"each row should count every 1-, 2- and 3-gram of '<' + word + '>' once "
                f"per occurrence ({what}).")
        close(value, expected, "the features",
              "the bucket of an n-gram is zlib.crc32 of its UTF-8 bytes modulo n_buckets "
              "(Python's hash() changes from one run to the next).", case=what)
    ok("hashed_ngrams: correct, with accents, repeats, collisions, an empty word.")


# --- Exercise 7: a language identifier (experiment) ---------------------------------

def _word_split():
    from .. import data

    languages = list(data.WORD_LANGUAGES_DEFAULT)
    lists = data.load_words(languages, 3000)
    owners = collections.Counter(w for words in lists.values() for w in set(words))
    words = [w for lang in languages for w in lists[lang] if owners[w] == 1]
    labels = torch.tensor([k for k, lang in enumerate(languages) for w in lists[lang]
                           if owners[w] == 1])
    ids = torch.arange(len(words))[:, None]
    ids_tr, y_tr, _, _, ids_te, y_te = data.split(ids, labels, val=0.2, test=0.2, seed=0)
    return ([words[i] for i in ids_tr[:, 0]], y_tr, [words[i] for i in ids_te[:, 0]], y_te)


def language_identifier(fn) -> None:
    """Check ``train_language_identifier(words, labels)``: the function it returns must
    name the language of held-out words, loaded by the check, with accuracy >= the bar.
    The data loaders are switched off while the learner's code runs, and code that reads
    held-out words is refused."""
    callable_(fn)
    words_train, y_train, words_test, y_test = _word_split()
    held_out = set(words_test) - set(words_train)
    case = "train_language_identifier(words_train, y_train)"
    leak = _reads_held_out(fn, held_out)
    require(leak is None, LEAK_HINT.format("words", leak, "words"), case)
    what = f"{len(words_test):,} held-out words"
    with _loaders_off():
        predict = run(fn, list(words_train), y_train.clone(), what=case,
                      hint="train_language_identifier(words, labels) gets the training "
                           "words and their languages, trains on those only, loads no "
                           "data itself, and returns predict(words).")
        require(callable(predict),
                "return a function that takes a list of words and returns their "
                f"languages, not {type(predict).__name__}.")
        leak = _reads_held_out(predict, held_out)
        require(leak is None, LEAK_HINT.format("words", leak, "words"), case)
        predicted = run(predict, list(words_test), what=what, no_grad=True)
    try:
        predicted = torch.as_tensor(predicted).reshape(-1)
    except Exception:  # noqa: BLE001 - anything that is not array-like
        fail("predict(words) should return one language index per word (a tensor, an "
             f"array or a list), not {type(predicted).__name__}.")
    require(len(predicted) == len(y_test) and not predicted.is_floating_point(),
            f"predict(words) should return {len(y_test)} integer language indices, one per "
            f"word; it returned {len(predicted)} values of dtype {predicted.dtype}.")
    accuracy = (predicted == y_test).double().mean().item()
    require(accuracy >= LANGUAGE_BAR,
            f"your identifier names {accuracy:.3f} of the held-out words correctly; the "
            f"bar is {LANGUAGE_BAR:.2f}. More buckets, more epochs or a validation split "
            "to choose them may help.", what)
    ok(f"language_identifier: accuracy {accuracy:.3f} on held-out words "
       f"(bar {LANGUAGE_BAR:.2f}).")
