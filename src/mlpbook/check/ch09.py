"""Checks for Chapter 9, "Speech recognition: who is speaking?".

Conventions of the chapter: a frame ``x`` (N,) of samples; LPC coefficients
``a`` (p,) of the inverse filter ``A(z) = 1 + a_1 z^-1 + ... + a_p z^-p``;
cepstral coefficients ``c`` (n,) holding ``c_1 ... c_n``; an utterance
``seq`` (T, d), one row per frame; speakers numbered ``0 ... C-1``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._common import callable_, close, ok, require, run, tensor_like

__all__ = ["lpc_coefficients", "lpc_cepstrum", "resample_frames", "pad_with_mask",
           "speaker_confusion"]


def _autocorrelation(x, order):
    return torch.stack([(x[k:] * x[:len(x) - k]).sum() for k in range(order + 1)])


def _lpc(x, order):
    r = _autocorrelation(x, order)
    lags = (torch.arange(order)[:, None] - torch.arange(order)[None, :]).abs()
    return torch.linalg.solve(r[lags], -r[1:])  # (p, p) @ (p,) = (p,)


def _cepstrum(a, n):
    p, c = len(a), []
    for m in range(1, n + 1):
        value = -a[m - 1] if m <= p else torch.zeros((), dtype=a.dtype)
        for k in range(max(1, m - p), m):
            value = value - (k / m) * c[k - 1] * a[m - k - 1]
        c.append(value)
    return torch.stack(c)


def _resample(seq, k):
    return F.interpolate(seq.T[None], size=k, mode="linear", align_corners=True)[0].T


def _frames():
    """Deterministic test frames: an AR(2) 'vowel', windowed noise, a short ramp."""
    gen = torch.Generator().manual_seed(9)
    noise = torch.randn(300, generator=gen, dtype=torch.float64)
    ar = torch.zeros(300, dtype=torch.float64)
    for n in range(2, 300):  # poles at radius 0.95, angle 0.3 rad
        ar[n] = 2 * 0.95 * torch.cos(torch.tensor(0.3)) * ar[n - 1] - 0.95**2 * ar[n - 2] + noise[n]
    window = torch.hamming_window(256, periodic=False, dtype=torch.float64)
    windowed = torch.randn(256, generator=gen, dtype=torch.float64) * window
    return [(ar[44:], 2, "an AR(2) frame, order 2"),
            (ar[44:] * window, 12, "a windowed frame, order 12"),
            (windowed, 5, "windowed noise, order 5"),
            (torch.linspace(1.0, 2.0, 20, dtype=torch.float64), 1, "a 20-sample ramp, order 1")]


def lpc_coefficients(fn) -> None:
    """Check ``lpc_coefficients(x, order)``: the autocorrelation method, ``a`` of shape (order,)."""
    callable_(fn)
    for x, order, what in _frames():
        out = run(fn, x.clone(), order, what=what)
        close(out, _lpc(x, order), f"lpc_coefficients on {what}",
              f"on {what}: form r_k = sum_n x[n] x[n-k] for k = 0..order (no wrap-around, no "
              "division), then solve the Toeplitz system R a = -r[1:]; check the sign "
              "convention A(z) = 1 + sum_k a_k z^-k.", atol=1e-6)
    ok("lpc_coefficients: matches the autocorrelation method on 4 frames, orders 1 to 12.")


def lpc_cepstrum(fn) -> None:
    """Check ``lpc_cepstrum(a, n)``: ``c_1 ... c_n`` of the all-pole model 1 / A(z)."""
    callable_(fn)
    gen = torch.Generator().manual_seed(3)
    vowel = _lpc(_frames()[1][0], 12)
    cases = [(torch.tensor([-1.8, 0.9], dtype=torch.float64), 6, "p = 2 and n = 6 > p"),
             (vowel, 12, "p = 12 and n = 12"),
             (vowel, 4, "p = 12 and n = 4 < p"),
             (0.3 * torch.randn(5, generator=gen, dtype=torch.float64), 9, "p = 5 and n = 9"),
             (torch.tensor([-0.5], dtype=torch.float64), 3, "p = 1 and n = 3")]
    for a, n, what in cases:
        out = run(fn, a.clone(), n, what=what)
        close(out, _cepstrum(a, n), f"lpc_cepstrum for {what}",
              f"for {what}: c_m = -a_m - sum over k = 1..m-1 of (k/m) c_k a_(m-k), where "
              "a_j = 0 for j > p; the sum continues past m = p.", atol=1e-9)
    ok("lpc_cepstrum: correct for n below, equal to and above the LPC order.")


def resample_frames(fn) -> None:
    """Check ``resample_frames(seq, k)``: (T, d) -> (k, d), linear, first and last frames kept."""
    callable_(fn)
    gen = torch.Generator().manual_seed(4)
    ramp = torch.tensor([[0.0], [1.0], [4.0]])  # d = 1: easy to follow by hand
    cases = [(torch.randn(7, 12, generator=gen), 10, "T = 7 frames stretched to k = 10"),
             (torch.randn(26, 12, generator=gen), 5, "T = 26 frames squeezed to k = 5"),
             (torch.randn(12, 3, generator=gen), 12, "T = k = 12 (nothing to change)"),
             (torch.randn(20, 2, generator=gen), 2, "k = 2 (the first and last frame)"),
             (ramp, 5, "the 1-D sequence [0, 1, 4] at k = 5")]
    for seq, k, what in cases:
        out = run(fn, seq.clone(), k, what=what)
        close(out, _resample(seq, k), f"resample_frames for {what}",
              f"for {what}: output frame j sits at position j (T - 1) / (k - 1) of the input; "
              "interpolate linearly between the two frames around it, each column separately.",
              atol=1e-5)
        require(out.dtype == seq.dtype, f"return the dtype of seq ({seq.dtype}), not {out.dtype}.")
    ok("resample_frames: correct when stretching, squeezing and keeping the length.")


def pad_with_mask(fn) -> None:
    """Check ``pad_with_mask(seqs, max_len)``: ``X`` (n, max_len, d), ``mask`` (n, max_len)."""
    callable_(fn)
    gen = torch.Generator().manual_seed(5)
    seqs = [torch.randn(t, 4, generator=gen) + 1.0 for t in (3, 5, 8)]
    for max_len, what in [(8, "max_len = the longest (8)"), (5, "max_len = 5 (one is cut)"),
                          (10, "max_len = 10 (all padded)")]:
        out = run(fn, [s.clone() for s in seqs], max_len, what=f"lengths 3, 5, 8 and {what}")
        require(isinstance(out, tuple) and len(out) == 2, "return a pair (X, mask).")
        X_ref = torch.zeros(3, max_len, 4)
        mask_ref = torch.zeros(3, max_len)
        for i, s in enumerate(seqs):
            n = min(len(s), max_len)
            X_ref[i, :n], mask_ref[i, :n] = s[:n], 1.0
        close(out[0], X_ref, "X", f"with {what}: copy each sequence's first frames to the start "
              "of its row, zeros after them; cut sequences longer than max_len.", atol=1e-6)
        mask = tensor_like(out[1], mask_ref, "mask")
        require(torch.equal(mask, mask_ref.double()),
                f"with {what}: the mask is 1 where X holds a real frame and 0 on padding.")
    ok("pad_with_mask: pads at the end, cuts long sequences, and marks the real frames.")


def speaker_confusion(fn) -> None:
    """Check ``speaker_confusion(y_true, y_pred, n_classes)``: counts, rows = true speaker."""
    callable_(fn)
    gen = torch.Generator().manual_seed(6)
    y_true = torch.randint(0, 9, (60,), generator=gen)
    y_pred = torch.where(torch.rand(60, generator=gen) < 0.7, y_true,
                         torch.randint(0, 9, (60,), generator=gen))
    cases = [(y_true, y_pred, 9, "60 utterances of 9 speakers"),
             (torch.tensor([0, 0, 1, 2]), torch.tensor([1, 0, 1, 1]), 4,
              "4 utterances where speaker 3 never occurs"),
             (torch.tensor([2, 2, 0]), torch.tensor([2, 2, 0]), 3, "3 correct predictions")]
    for t, p, c, what in cases:
        out = run(fn, t.clone(), p.clone(), c, what=what)
        expected = torch.zeros(c, c, dtype=torch.float64)
        for i, j in zip(t.tolist(), p.tolist()):
            expected[i, j] += 1
        close(out, expected, "the confusion matrix",
              f"for {what}: entry [i, j] counts the utterances of speaker i predicted as "
              "speaker j; it is n_classes x n_classes even if a speaker never occurs.")
    ok("speaker_confusion: counts are right, rows are true speakers, absent speakers kept.")
