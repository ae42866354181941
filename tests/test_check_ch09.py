"""Chapter 9 checks: each accepts every correct answer and rejects the known wrong ones."""

import cmath

import numpy as np
import pytest
import torch
from torch import nn

from mlpbook import data, train

# --- formants_from_lpc ----------------------------------------------------------------


def formants_ok(a, fs):
    poles = np.roots(np.r_[1.0, a.numpy()])
    upper = poles[poles.imag > 0]
    freq = np.angle(upper) * fs / (2 * np.pi)
    bandwidth = -np.log(np.abs(upper)) * fs / np.pi
    order = np.argsort(freq)
    return torch.tensor(np.stack([freq, bandwidth], axis=1)[order])


def formants_companion(a, fs):
    """Eigenvalues of the companion matrix, in float32, as a torch tensor."""
    p = len(a)
    companion = torch.zeros(p, p, dtype=torch.float64)
    companion[0] = -a
    companion[1:, :-1] = torch.eye(p - 1, dtype=torch.float64)
    poles = torch.linalg.eigvals(companion)
    upper = poles[poles.imag > 1e-9]
    rows = torch.stack([upper.angle() * fs / (2 * torch.pi),
                        -upper.abs().log() * fs / torch.pi], dim=1)
    return rows[rows[:, 0].argsort()].float()


def formants_cmath_numpy(a, fs):
    """A loop over the roots with cmath, returning a NumPy array."""
    rows = []
    for pole in np.roots([1.0, *a.tolist()]):
        radius, angle = cmath.polar(pole)
        if angle > 1e-9 and angle < np.pi - 1e-9:
            rows.append((angle / (2 * np.pi) * fs, -np.log(radius) / np.pi * fs))
    return np.array(sorted(rows))


def formants_variant(a, fs, *, reverse=False, keep="upper", freq_scale=2 * np.pi,
                     bw_scale=np.pi, descending=False):
    coefficients = np.r_[1.0, a.numpy()]
    poles = np.roots(coefficients[::-1] if reverse else coefficients)
    chosen = {"upper": poles[poles.imag > 0], "both": poles[np.abs(poles.imag) > 0],
              "with real": poles[poles.imag >= 0]}[keep]
    freq = np.angle(chosen) * fs / freq_scale
    bandwidth = -np.log(np.abs(chosen)) * fs / bw_scale
    order = np.argsort(-freq if descending else freq)
    return torch.tensor(np.stack([freq, bandwidth], axis=1)[order])


def formants_of_polynomial(poly, fs):
    poles = np.roots(poly)
    upper = poles[poles.imag > 0]
    rows = np.stack([np.angle(upper) * fs / (2 * np.pi),
                     -np.log(np.abs(upper)) * fs / np.pi], axis=1)
    return torch.tensor(rows[np.argsort(rows[:, 0])])


# --- speaker_balanced_accuracy --------------------------------------------------------


def balanced_ok(y_true, y_pred):
    present = torch.unique(y_true)
    hits = torch.stack([((y_true == s) & (y_pred == s)).sum() for s in present])
    sizes = torch.stack([(y_true == s).sum() for s in present])
    return (hits.double() / sizes).mean().item()


def balanced_numpy(y_true, y_pred):
    t, p = np.asarray(y_true), np.asarray(y_pred)
    return np.mean([np.mean(p[t == c] == c) for c in np.unique(t)])  # a NumPy float


def balanced_bincount(y_true, y_pred):
    size = int(max(y_true.max(), y_pred.max())) + 1
    sizes = torch.bincount(y_true, minlength=size).double()
    hits = torch.bincount(y_true[y_true == y_pred], minlength=size).double()
    present = sizes > 0
    return (hits[present] / sizes[present]).mean()  # a 0-d tensor


def balanced_over_all_labels(y_true, y_pred):
    labels = torch.arange(int(max(y_true.max(), y_pred.max())) + 1)
    recalls = [((y_pred[y_true == c] == c).double().mean() if (y_true == c).any()
                else torch.tensor(0.0, dtype=torch.float64)) for c in labels]
    return torch.stack(recalls).mean().item()


def balanced_precision(y_true, y_pred):
    return torch.stack([(y_true[y_pred == c] == c).double().mean()
                        for c in torch.unique(y_pred)]).mean().item()


def balanced_over_predicted(y_true, y_pred):
    return torch.stack([(y_pred[y_true == c] == c).double().mean()
                        for c in torch.unique(y_pred) if (y_true == c).any()]).mean().item()


# --- random_excerpt -------------------------------------------------------------------


def excerpt_ok(seq, length, generator):
    if len(seq) <= length:
        return seq
    start = int(torch.randint(len(seq) - length + 1, (1,), generator=generator))
    return seq[start:start + length]


def excerpt_narrow(seq, length, generator):
    if len(seq) <= length:
        return seq
    start = torch.randint(low=0, high=len(seq) - length + 1, size=(),
                          generator=generator)
    return seq.narrow(0, int(start), length)


def excerpt_multinomial(seq, length, generator):
    starts = max(len(seq) - length + 1, 1)
    start = int(torch.multinomial(torch.ones(starts), 1, generator=generator))
    return seq[start:start + length]


def excerpt_variant(seq, length, generator, *, columns=False, off_by_one=False,
                    guard=True, global_rng=False):
    if guard and len(seq) <= length:
        return seq
    high = len(seq) - length + (0 if off_by_one else 1)
    start = (torch.randint(high, (1,)) if global_rng
             else torch.randint(high, (1,), generator=generator)).item()
    return seq[:, start:start + length] if columns else seq[start:start + length]


def excerpt_clamped(seq, length, generator):
    """Draws a start in 0..T-1, then clamps it: the last start is far too likely."""
    if len(seq) <= length:
        return seq
    start = min(int(torch.randint(len(seq), (1,), generator=generator)),
                len(seq) - length)
    return seq[start:start + length]


def excerpt_start_up_to_the_end(seq, length, generator):
    """Draws a start in 0..T-1: near the end the slice is cut short."""
    if len(seq) <= length:
        return seq
    start = int(torch.randint(len(seq), (1,), generator=generator))
    return seq[start:start + length]


def excerpt_zero_padded(seq, length, generator):
    if len(seq) < length:
        return torch.cat([seq, torch.zeros(length - len(seq), seq.shape[1])])
    return excerpt_ok(seq, length, generator)


# --- excerpt_speaker_model: trained identifiers (built only when a test uses them) ----


class PoolingNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.frame = nn.Sequential(nn.Linear(12, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(128, 64), nn.ReLU(), nn.Dropout(0.3),
                                  nn.Linear(64, 9))

    def forward(self, X):
        mask = X[:, :, 12:]
        weight = mask / mask.sum(dim=1, keepdim=True)
        h = self.frame(X[:, :, :12])
        mean = (weight * h).sum(dim=1)
        std = ((weight * (h - mean[:, None]) ** 2).sum(dim=1) + 1e-5).sqrt()
        return self.head(torch.cat([mean, std], dim=1))


def fit(model, X, y, epochs):
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)
    train.fit(model, nn.CrossEntropyLoss(), optimizer, (X, y), epochs=epochs,
              batch_size=32, seed=0, progress=False)
    return model.eval()


TEST_SEQS, TEST_SPEAKERS = data.load_japanese_vowels("test")  # the check's test set


def training_set(seqs, speakers, excerpts_per_utterance):
    generator = torch.Generator().manual_seed(0)
    pieces = [excerpt_ok(u, 8, generator) for _ in range(excerpts_per_utterance)
              for u in seqs]
    return list(seqs) + pieces, speakers.repeat(excerpts_per_utterance + 1)


def train_pooling(seqs, speakers, excerpts_per_utterance=4, epochs=40):
    train_seqs, train_y = training_set(seqs, speakers, excerpts_per_utterance)
    frames = torch.cat(list(seqs))
    mean, std = frames.mean(0), frames.std(0)

    def batch(utterances):
        X = torch.zeros(len(utterances), max(len(u) for u in utterances), 13)
        for i, u in enumerate(utterances):
            X[i, :len(u), :12], X[i, :len(u), 12] = (u - mean) / std, 1.0
        return X

    torch.manual_seed(0)
    net = fit(PoolingNet(), batch(train_seqs), train_y, epochs)
    return lambda utterances: net(batch(utterances))


def summary(utterances):
    return torch.stack([torch.cat([u.mean(0), u.std(0, correction=0), u.min(0).values,
                                   u.max(0).values]) for u in utterances])


def train_stats(seqs, speakers, excerpts_per_utterance=8, epochs=25):
    train_seqs, train_y = training_set(seqs, speakers, excerpts_per_utterance)
    S = summary(train_seqs)
    mean, std = S.mean(0), S.std(0)
    torch.manual_seed(0)
    mlp = fit(nn.Sequential(nn.Linear(48, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 9)),
              (S - mean) / std, train_y, epochs)
    return lambda utterances: mlp((summary(utterances) - mean) / std)


def train_labels(seqs, speakers):
    identify = train_pooling(seqs, speakers)
    return lambda utterances: identify(utterances).argmax(dim=1)  # (n,), not (n, 9)


def untrained_identifier(utterances):
    torch.manual_seed(0)
    layer = nn.Linear(12, 9)
    return torch.stack([layer(u).mean(dim=0) for u in utterances])


def lookup(utterances):
    """Finds each utterance (or excerpt) inside the notebook's test utterances."""
    scores = torch.zeros(len(utterances), 9)
    for i, u in enumerate(utterances):
        for seq, speaker in zip(TEST_SEQS, TEST_SPEAKERS):
            if any(torch.equal(u, seq[t:t + len(u)]) for t in range(len(seq) - len(u) + 1)):
                scores[i, speaker] = 1.0
                break
    return scores


def train_stats_on_test(seqs, speakers):
    """The accidental leak: the notebook's test utterances added to the training set."""
    return train_stats(list(seqs) + TEST_SEQS, torch.cat([speakers, TEST_SPEAKERS]))


def train_loading_test(seqs, speakers):
    test_seqs, test_speakers = data.load_japanese_vowels("test")
    return train_stats(test_seqs, test_speakers)


CORRECT = {
    "formants_from_lpc": {
        "np.roots, angle and modulus": formants_ok,
        "eigenvalues of the companion matrix, float32": formants_companion,
        "a cmath loop, returning a NumPy array": formants_cmath_numpy,
    },
    "speaker_balanced_accuracy": {
        "recall per present speaker, then the mean": balanced_ok,
        "NumPy, returning a NumPy float": balanced_numpy,
        "bincount, returning a 0-d tensor": balanced_bincount,
    },
    "random_excerpt": {
        "randint over T - length + 1 starts": excerpt_ok,
        "narrow with a 0-d start": excerpt_narrow,
        "multinomial over the starts": excerpt_multinomial,
    },
    "excerpt_speaker_model": {
        "pooling network trained on utterances and excerpts": train_pooling,
        "summary-statistics MLP trained on utterances and excerpts": train_stats,
    },
}

MUTANTS = {
    "formants_from_lpc": {
        "angles left in radians": lambda a, fs: formants_variant(a, fs, freq_scale=fs),
        "bandwidth divided by 2 pi instead of pi": lambda a, fs: formants_variant(
            a, fs, bw_scale=2 * np.pi),
        "frequency with fs / pi": lambda a, fs: formants_variant(a, fs, freq_scale=np.pi),
        "both poles of each pair": lambda a, fs: formants_variant(a, fs, keep="both"),
        "real poles kept": lambda a, fs: formants_variant(a, fs, keep="with real"),
        "coefficients reversed (reciprocal poles)": lambda a, fs: formants_variant(
            a, fs, reverse=True),
        "sorted by decreasing frequency": lambda a, fs: formants_variant(
            a, fs, descending=True),
        "no leading 1 before a": lambda a, fs: formants_of_polynomial(a.numpy(), fs),
        "the sign of a flipped": lambda a, fs: formants_of_polynomial(
            np.r_[1.0, -a.numpy()], fs),
    },
    "speaker_balanced_accuracy": {
        "plain accuracy": lambda t, p: (t == p).double().mean().item(),
        "over every label up to the largest": balanced_over_all_labels,
        "mean precision": balanced_precision,
        "over the predicted speakers": balanced_over_predicted,
        "the recalls, not their mean": lambda t, p: torch.stack(
            [(p[t == c] == c).double().mean() for c in torch.unique(t)]),
    },
    "random_excerpt": {
        "the colleague's code, three bugs": lambda s, n, g: excerpt_variant(
            s, n, g, columns=True, off_by_one=True, guard=False),
        "the last start never drawn": lambda s, n, g: excerpt_variant(
            s, n, g, off_by_one=True),
        "cuts the coefficients, not the frames": lambda s, n, g: excerpt_variant(
            s, n, g, columns=True),
        "no guard for short utterances": lambda s, n, g: excerpt_variant(
            s, n, g, guard=False),
        "always the first frames": lambda s, n, g: s[:n],
        "the global random state": lambda s, n, g: excerpt_variant(
            s, n, g, global_rng=True),
        "a clamped start, biased to the end": excerpt_clamped,
        "short utterances padded with zeros": excerpt_zero_padded,
        "a start up to T - 1, cut short": excerpt_start_up_to_the_end,
        "one frame short": lambda s, n, g: excerpt_ok(s, n, g)[:-1] if len(s) > n else s,
    },
    "excerpt_speaker_model": {
        "pooling network trained on whole utterances only": lambda seqs, speakers:
            train_pooling(seqs, speakers, 0, 100),
        "summary-statistics MLP on whole utterances only": lambda seqs, speakers:
            train_stats(seqs, speakers, 0, 100),
        "an untrained network": lambda seqs, speakers: untrained_identifier,
        "returns speakers, not scores": train_labels,
        "a lookup in the notebook's test utterances": lambda seqs, speakers: lookup,
        "trained on the notebook's test utterances too": train_stats_on_test,
        "loads the test utterances itself": train_loading_test,
    },
}


@pytest.mark.parametrize("name, label, hint", [
    ("formants_from_lpc", "no leading 1 before a", "without the leading 1"),
    ("formants_from_lpc", "the sign of a flipped", "without the leading 1"),
    ("formants_from_lpc", "sorted by decreasing frequency", "not in order"),
    ("formants_from_lpc", "coefficients reversed (reciprocal poles)",
     "bandwidths are negative"),
    ("random_excerpt", "a start up to T - 1, cut short", "check the range of the start"),
    ("random_excerpt", "one frame short", "check the range of the start"),
    ("random_excerpt", "cuts the coefficients, not the frames", "frames are rows"),
])
def test_the_checks_of_chapter_9_name_the_mistake(name, label, hint):
    from mlpbook import check

    with pytest.raises(check.CheckFailed) as failed:
        getattr(check, name)(MUTANTS[name][label])
    text = " ".join(str(failed.value).split())
    assert hint in text
    if "frames are rows" not in hint:
        assert "frames are rows" not in text
