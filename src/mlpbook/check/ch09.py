"""Checks for Chapter 9, "Speaker identification from one vowel".

Conventions of the chapter: LPC coefficients ``a`` (p,) of the inverse filter
``A(z) = 1 + a_1 z^-1 + ... + a_p z^-p``; a sampling rate ``fs`` in Hz; an
utterance ``seq`` (T, 12), one row per frame, as ``data.load_japanese_vowels``
returns it; speakers numbered ``0 ... 8``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ._common import callable_, fail, ok, require, run, tensor_like
from .ch08 import _held_out_read_by, _loaders_off, _row_keys

__all__ = ["formants_from_lpc", "speaker_balanced_accuracy", "random_excerpt",
           "excerpt_speaker_model"]


# --- Exercise: formants from the roots of A(z) ----------------------------------------

def _lpc_of(resonances, fs, real_poles=()):
    """Coefficients a (p,) of A(z) with the given (frequency, bandwidth) pole pairs."""
    poly = np.array([1.0])
    for freq, bandwidth in resonances:
        radius = np.exp(-np.pi * bandwidth / fs)
        angle = 2 * np.pi * freq / fs
        poly = np.convolve(poly, [1.0, -2 * radius * np.cos(angle), radius**2])
    for pole in real_poles:
        poly = np.convolve(poly, [1.0, -pole])
    return torch.tensor(poly[1:], dtype=torch.float64)


FORMANT_CASES = [
    ([(730.0, 90.0), (1090.0, 110.0), (2440.0, 170.0)], 10_000, (), "the /a/ of the "
     "chapter, fs = 10 kHz"),
    ([(530.0, 80.0), (1840.0, 120.0)], 10_000, (0.9,), "two formants and a real pole "
     "(a spectral tilt), fs = 10 kHz"),
    ([(300.0, 60.0), (2300.0, 150.0), (3000.0, 200.0), (3700.0, 250.0)], 16_000, (),
     "four formants, fs = 16 kHz"),
    ([(1500.0, 400.0)], 8_000, (-0.5,), "one broad resonance and a negative real pole, "
     "fs = 8 kHz"),
]


def _formants_of(coefficients, fs) -> torch.Tensor:
    """(k, 2) rows (frequency, bandwidth) of the roots of ``coefficients`` (highest
    power first) with a positive imaginary part, sorted by frequency."""
    poles = np.roots(coefficients)
    upper = poles[poles.imag > 1e-9]
    rows = np.stack([np.angle(upper) * fs / (2 * np.pi),
                     -np.log(np.abs(upper)) * fs / np.pi], axis=1).reshape(-1, 2)
    return torch.as_tensor(rows[np.argsort(rows[:, 0])], dtype=torch.float64)


def formants_from_lpc(fn) -> None:
    """Check ``formants_from_lpc(a, fs)``: (k, 2) rows (frequency, bandwidth) in Hz."""
    callable_(fn)
    for resonances, fs, real_poles, what in FORMANT_CASES:
        a = _lpc_of(resonances, fs, real_poles)
        out = run(fn, a.clone(), fs, what=what)
        if isinstance(out, np.ndarray):
            out = torch.as_tensor(out)
        expected = torch.tensor(sorted(resonances), dtype=torch.float64)
        require(isinstance(out, torch.Tensor),
                f"return a tensor of shape (k, 2), not a {type(out).__name__}.", what)
        coefficients = a.numpy()
        for other in (coefficients, np.r_[1.0, -coefficients]):  # no 1, or -a for a
            rows = _formants_of(other, fs)
            require(not (tuple(out.shape) == tuple(rows.shape) and torch.allclose(
                out.detach().double(), rows, atol=0.5)), "`a` holds a_1 ... a_p, "
                "without the leading 1 of A(z): the polynomial z^p + a_1 z^(p-1) + ... "
                "+ a_p has p + 1 coefficients, highest power first.", what)
        require(tuple(out.shape) == tuple(expected.shape),
                f"expected one row per complex pole pair, {len(expected)} here, of "
                f"(frequency, bandwidth): shape {tuple(expected.shape)}, not "
                f"{tuple(out.shape)}. Poles come in conjugate pairs; real poles are no "
                "resonance.", what)
        out = tensor_like(out, expected, "the formants").double()
        by_frequency = out[out[:, 0].argsort()]
        require(torch.allclose(out, by_frequency) or not torch.allclose(
            by_frequency, expected, atol=0.5), "the rows are right but not in order: "
            "sort them by frequency, lowest first.", what)
        require(torch.allclose(out[:, 0], expected[:, 0], atol=0.5),
                "the frequencies are wrong: a pole at angle theta resonates at the "
                "frequency that the chapter's resonator maps to theta; invert that map.",
                what)
        require(not torch.allclose(out[:, 1], -expected[:, 1], atol=0.5),
                "your bandwidths are negative, as for poles outside the unit circle "
                "(r > 1): pass np.roots the coefficients highest power first, 1 for z^p, "
                "then a_1 ... a_p; and check the sign in your inverse of "
                "r = exp(-pi B / fs).", what)
        require(torch.allclose(out[:, 1], expected[:, 1], atol=0.5),
                "the frequencies are right but the bandwidths are not: invert the "
                "chapter's formula for the pole radius r.", what)
    ok("formants_from_lpc: frequencies and bandwidths right on 4 filters.")


# --- Exercise: balanced accuracy ------------------------------------------------------

def _balanced(y_true, y_pred):
    recalls = [(y_pred[y_true == c] == c).double().mean() for c in y_true.unique()]
    return torch.stack(recalls).mean().item()


def _balanced_cases():
    gen = torch.Generator().manual_seed(90)
    sizes = torch.tensor([40, 5, 12, 3, 25])  # very unequal classes
    y_true = torch.repeat_interleave(torch.arange(5), sizes)
    y_pred = torch.where(torch.rand(len(y_true), generator=gen) < 0.7, y_true,
                         torch.randint(0, 5, (len(y_true),), generator=gen))
    y_pred[:30] = 0  # the big class is easy
    return [
        (y_true, y_pred, "85 samples of 5 classes, 40 of class 0 and 3 of class 3"),
        (torch.tensor([0, 0, 0, 2, 2]), torch.tensor([0, 1, 0, 2, 1]),
         "class 1 is predicted but never occurs"),
        (torch.tensor([1, 1, 1, 1, 0]), torch.tensor([1, 1, 1, 1, 1]),
         "always the majority class"),
        (torch.tensor([3, 3, 5]), torch.tensor([3, 3, 5]), "all right"),
    ]


def speaker_balanced_accuracy(fn) -> None:
    """Check ``speaker_balanced_accuracy(y_true, y_pred)``: the mean recall per class."""
    callable_(fn)
    for y_true, y_pred, what in _balanced_cases():
        out = run(fn, y_true.clone(), y_pred.clone(), what=what)
        value = out.item() if isinstance(out, torch.Tensor) and out.numel() == 1 else out
        require(isinstance(value, (float, int, np.floating, np.integer))
                and not isinstance(value, bool),
                f"return one number, not a {type(out).__name__}.", what)
        right = np.isfinite(float(value)) and \
            abs(float(value) - _balanced(y_true, y_pred)) < 1e-6
        require(right,
                "for each class that occurs in y_true, the fraction of its samples "
                "predicted right; then the plain mean of these fractions, every class "
                "counting the same.", what)
    ok("speaker_balanced_accuracy: right on 4 cases, unequal classes included.")


# --- Exercise: random excerpts (debug) ------------------------------------------------

def _frames(T, seed):
    return torch.randn(T, 12, generator=torch.Generator().manual_seed(seed))


def _start_of(excerpt, seq, length, what):
    """The start of ``excerpt`` in ``seq``; fails unless it is one window of it."""
    require(isinstance(excerpt, torch.Tensor),
            f"return a tensor, not a {type(excerpt).__name__}.", what)
    require(tuple(excerpt.shape) == (length, seq.shape[1]),
            f"an excerpt of {length} frames has shape ({length}, {seq.shape[1]}), not "
            f"{tuple(excerpt.shape)}: " + (
                "frames are rows." if excerpt.ndim == 2 and excerpt.shape[0] == len(seq)
                else f"an excerpt holds exactly `length` = {length} frames: check the "
                "range of the start and the slice."), what)
    for start in range(len(seq) - length + 1):
        if torch.equal(excerpt, seq[start:start + length]):
            return start
    fail("an excerpt must be consecutive frames of the utterance, unchanged.", what)


def random_excerpt(fn) -> None:
    """Check ``random_excerpt(seq, length, generator)``: a uniform random window."""
    callable_(fn)
    seq, length = _frames(12, 91), 8
    what = "an utterance of 12 frames, excerpts of 8 (starts 0 to 4), 500 draws"
    generator = torch.Generator().manual_seed(3)
    starts = [_start_of(run(fn, seq, length, generator, what=what), seq, length, what)
              for _ in range(500)]
    counts = np.bincount(starts, minlength=5)
    require(counts.min() > 0,
            f"some starts never occur (counts for starts 0 to 4: {counts.tolist()}): "
            "every start from 0 to T - length must be possible.", what)
    require(counts.max() < 150,
            f"the starts are not equally likely (counts for starts 0 to 4: "
            f"{counts.tolist()}).", what)
    for T, label in [(8, "an utterance exactly as long as the excerpt"),
                     (5, "an utterance shorter than the excerpt")]:
        short = _frames(T, 92)
        out = run(fn, short, length, torch.Generator().manual_seed(4),
                  what=f"{label} ({T} frames, length 8)",
                  hint="an utterance of at most `length` frames has nothing to cut: "
                       "return it whole, and check which starts exist when T equals "
                       "length.")
        require(isinstance(out, torch.Tensor) and torch.equal(out, short),
                "an utterance of at most `length` frames is returned whole.",
                f"{label} ({T} frames, length 8)")
    first = [run(fn, seq, length, g, what=what) for g in
             [torch.Generator().manual_seed(5)] * 20]
    torch.manual_seed(999)  # another global state must not matter
    second = [run(fn, seq, length, g, what=what) for g in
              [torch.Generator().manual_seed(5)] * 20]
    require(all(torch.equal(a, b) for a, b in zip(first, second)),
            "draw the start from the generator you are given, not from PyTorch's "
            "global random state.", what)
    ok("random_excerpt: uniform windows of frames; short utterances kept whole.")


# --- Experiment: speakers from short excerpts -----------------------------------------

EXCERPT_FRAMES = 8
EXCERPT_BAR = 0.95
FULL_BAR = 0.95


def _scores(identify, seqs, what):
    def call(model, utterances):
        if isinstance(model, nn.Module):
            was_training = model.training
            model.eval()
            try:
                with torch.no_grad():
                    return model(utterances)
            finally:
                model.train(was_training)
        with torch.no_grad():
            return model(utterances)

    out = run(call, identify, [s.clone() for s in seqs], what=what,
              hint="your function should return a model that takes a list of "
                   "utterances, each a tensor (T, 12) of raw coefficients, and returns "
                   "scores of shape (n, 9).")
    scores = tensor_like(out, torch.zeros(len(seqs), 9), "the scores of your model")
    require(torch.isfinite(scores).all(), "your model returned NaN or infinite scores.",
            what)
    return scores.argmax(dim=1)


def _window(seq, length, generator):
    if len(seq) <= length:
        return seq
    start = torch.randint(len(seq) - length + 1, (1,), generator=generator).item()
    return seq[start:start + length]


TRAIN_CASE = "training on the 270 training utterances"
LEAK_HINT = ("train only on the utterances you are given: your code reads `{}`, which "
             "holds test utterances of the check. Use the arguments seqs and speakers "
             "instead of the notebook's own data.")


def _vowel_loaders() -> list[tuple[object, str]]:
    import sys

    from .. import data

    targets = [(data, "load_japanese_vowels")]
    if "aeon.datasets" in sys.modules:  # the loader data.load_japanese_vowels uses
        targets.append((sys.modules["aeon.datasets"], "load_classification"))
    return targets


def excerpt_speaker_model(train_excerpt_model) -> None:
    """Check a training function: ``train_excerpt_model(seqs, speakers)`` -> identifier.

    The check loads the 270 training utterances (a list of (T, 12) tensors, speakers
    (270,)) and calls the function on them, with the data loaders switched off; the
    identifier it returns (a list of (T, 12) utterances -> scores (n, 9)) is scored by
    balanced accuracy on the 370 test utterances of the original split, whole and as
    random excerpts of EXCERPT_FRAMES frames (three draws). A function that reads a
    global tensor or list holding test utterances is refused.
    """
    callable_(train_excerpt_model, "your training function")
    from .. import data

    seqs_train, speakers_train = data.load_japanese_vowels("train")
    seqs, speakers = data.load_japanese_vowels("test")
    forbidden = _row_keys(torch.cat(seqs)) - _row_keys(torch.cat(seqs_train))
    leak = _held_out_read_by(train_excerpt_model, forbidden, 12)
    require(leak is None, LEAK_HINT.format(leak), TRAIN_CASE)
    with _loaders_off(*_vowel_loaders()):
        identify = run(train_excerpt_model, [s.clone() for s in seqs_train],
                       speakers_train.clone(), what=TRAIN_CASE,
                       hint="train_excerpt_model(seqs, speakers) gets a list of 270 "
                            "utterances (T, 12) and their speakers (270,), and returns "
                            "the trained model.")
        require(callable(identify), "return the trained model (an nn.Module) or a "
                f"function of utterances, not a {type(identify).__name__}.", TRAIN_CASE)
        leak = _held_out_read_by(identify, forbidden, 12)
        require(leak is None, LEAK_HINT.format(leak), TRAIN_CASE)
        full = _balanced(speakers, _scores(identify, seqs,
                                           "the 370 whole test utterances"))
        generator = torch.Generator().manual_seed(909)
        short = float(np.mean([
            _balanced(speakers, _scores(identify, [_window(s, EXCERPT_FRAMES, generator)
                                                   for s in seqs],
                                        f"test excerpts of {EXCERPT_FRAMES} frames"))
            for _ in range(3)]))
    report = f"balanced accuracy {full:.3f} on whole utterances, {short:.3f} on excerpts"
    if full < FULL_BAR:
        fail(f"{report}; the bar on whole utterances is {FULL_BAR}. Does your model take "
             "raw coefficients and standardise them itself?",
             "the 370 whole test utterances")
    if short < EXCERPT_BAR:
        fail(f"{report}; the bar on {EXCERPT_FRAMES}-frame excerpts is {EXCERPT_BAR}. "
             "A model that has only seen whole utterances meets short ones for the "
             "first time at test: let it see excerpts in training.",
             f"test excerpts of {EXCERPT_FRAMES} frames")
    ok(f"excerpt_speaker_model: {full:.3f} whole, {short:.3f} on excerpts; bars met.")
