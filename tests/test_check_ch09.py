"""Chapter 9 checks: each accepts a correct answer and rejects plausible wrong ones."""

import numpy as np
import scipy.linalg
import torch
import torch.nn.functional as F

from mlpbook import check


def autocorrelation(x, order):
    return torch.stack([(x[k:] * x[:len(x) - k]).sum() for k in range(order + 1)])


def lpc_ok(x, order):
    """An independent route: SciPy's Levinson-Durbin solver for Toeplitz systems."""
    r = autocorrelation(x, order).numpy()
    return torch.as_tensor(scipy.linalg.solve_toeplitz(r[:order], -r[1:]))


def lpc_unbiased(x, order):
    r = autocorrelation(x, order) / (len(x) - torch.arange(order + 1))
    return torch.as_tensor(scipy.linalg.solve_toeplitz(r[:order].numpy(), -r[1:].numpy()))


def lpc_circular(x, order):
    r = torch.stack([(x * torch.roll(x, k)).sum() for k in range(order + 1)])
    return torch.as_tensor(scipy.linalg.solve_toeplitz(r[:order].numpy(), -r[1:].numpy()))


def lpc_lag_shift(x, order):
    r = autocorrelation(x, order + 1).numpy()
    return torch.as_tensor(scipy.linalg.solve_toeplitz(r[1:order + 1], -r[2:]))


def cepstrum_ok(a, n):
    """The recursion, written with NumPy and explicit zero-padding of ``a``."""
    a = np.concatenate([a.numpy(), np.zeros(max(0, n - len(a)))])
    c = np.zeros(n + 1)
    for m in range(1, n + 1):
        c[m] = -a[m - 1] - sum(k / m * c[k] * a[m - k - 1] for k in range(1, m))
    return torch.as_tensor(c[1:])


def cepstrum_variant(a, n, *, weight=lambda k, m: k / m, swap=False, sign=1.0, stop=False):
    p, c = len(a), [0.0] * (n + 1)
    for m in range(1, n + 1):
        if stop and m > p:
            break
        value = -a[m - 1].item() if m <= p else 0.0
        for k in range(max(1, m - p), m):
            term = a[k - 1] * c[m - k] if swap else c[k] * a[m - k - 1]
            value -= weight(k, m) * float(term)
        c[m] = value
    return sign * torch.tensor(c[1:], dtype=torch.float64)


def cepstrum_by_fft(a, n):
    """The same numbers from the log spectrum: c_m = 2 * IFFT(log |1 / A|)[m]."""
    spectrum = torch.fft.rfft(torch.cat([torch.ones(1, dtype=a.dtype), a]), 8192)
    return 2 * torch.fft.irfft(-spectrum.abs().log(), 8192)[1:n + 1]


def resample_ok(seq, k):
    T = len(seq)
    position = torch.linspace(0, T - 1, k, dtype=torch.float64)
    left = position.floor().long().clamp(max=T - 2) if T > 1 else torch.zeros(k, dtype=torch.long)
    frac = (position - left).to(seq.dtype)[:, None]
    right = (left + 1).clamp(max=T - 1)
    return (1 - frac) * seq[left] + frac * seq[right]


def pad_ok(seqs, max_len):
    X = torch.zeros(len(seqs), max_len, seqs[0].shape[1])
    mask = torch.zeros(len(seqs), max_len)
    for i, s in enumerate(seqs):
        n = min(len(s), max_len)
        X[i, :n], mask[i, :n] = s[:n], 1
    return X, mask


def pad_left(seqs, max_len):
    X, mask = pad_ok([s.flip(0) for s in seqs], max_len)
    return X.flip(1), mask.flip(1)


def pad_keep_last(seqs, max_len):
    return pad_ok([s[-max_len:] for s in seqs], max_len)


def pad_no_cut(seqs, max_len):
    X = torch.zeros(len(seqs), max_len, seqs[0].shape[1])
    for i, s in enumerate(seqs):
        X[i, :len(s)] = s
    return X, (X.abs().sum(-1) > 0).float()


def confusion_ok(y_true, y_pred, n_classes):
    return torch.bincount(y_true * n_classes + y_pred, minlength=n_classes**2).reshape(
        n_classes, n_classes)


CORRECT = {
    "lpc_coefficients": lpc_ok,
    "lpc_cepstrum": cepstrum_ok,
    "resample_frames": resample_ok,
    "pad_with_mask": pad_ok,
    "speaker_confusion": confusion_ok,
}

MUTANTS = {
    "lpc_coefficients": {
        "predictor sign (A(z) = 1 - sum)": lambda x, order: -lpc_ok(x, order),
        "unbiased autocorrelation": lpc_unbiased,
        "circular autocorrelation": lpc_circular,
        "lags shifted by one": lpc_lag_shift,
        "first-order answer for every order": lambda x, order: torch.cat([
            lpc_ok(x, 1), torch.zeros(order - 1, dtype=x.dtype)]),
        "returns zeros": lambda x, order: torch.zeros(order, dtype=x.dtype),
        "one coefficient too many (leading 1)": lambda x, order: torch.cat([
            torch.ones(1, dtype=x.dtype), lpc_ok(x, order)]),
    },
    "lpc_cepstrum": {
        "no k/m weight": lambda a, n: cepstrum_variant(a, n, weight=lambda k, m: 1.0),
        "weight on the wrong factor": lambda a, n: cepstrum_variant(a, n, swap=True),
        "wrong overall sign": lambda a, n: cepstrum_variant(a, n, sign=-1.0),
        "stops at the LPC order": lambda a, n: cepstrum_variant(a, n, stop=True),
        "starts at c_0": lambda a, n: torch.cat([torch.zeros(1, dtype=a.dtype),
                                                 cepstrum_ok(a, n)[:-1]]),
        "FFT, missing the factor 2": lambda a, n: cepstrum_by_fft(a, n) / 2,
    },
    "resample_frames": {
        "nearest frame": lambda seq, k: seq[torch.linspace(0, len(seq) - 1, k).round().long()],
        "align_corners=False": lambda seq, k: F.interpolate(
            seq.T[None], size=k, mode="linear", align_corners=False)[0].T,
        "truncates or repeats": lambda seq, k: seq[torch.arange(k) % len(seq)],
        "transposed output": lambda seq, k: resample_ok(seq, k).T,
        "float64 output": lambda seq, k: resample_ok(seq.double(), k),
    },
    "pad_with_mask": {
        "pads at the front": pad_left,
        "keeps the last frames": pad_keep_last,
        "does not cut long sequences": pad_no_cut,
        "mask is all ones": lambda seqs, max_len: (pad_ok(seqs, max_len)[0],
                                                   torch.ones(len(seqs), max_len)),
        "mask marks the padding": lambda seqs, max_len: (pad_ok(seqs, max_len)[0],
                                                         1 - pad_ok(seqs, max_len)[1]),
        "returns X only": lambda seqs, max_len: pad_ok(seqs, max_len)[0],
    },
    "speaker_confusion": {
        "transposed (rows are predictions)": lambda t, p, c: confusion_ok(t, p, c).T,
        "rows normalised": lambda t, p, c: confusion_ok(t, p, c).double()
        / confusion_ok(t, p, c).sum(1, keepdim=True).clamp(min=1),
        "size from the largest label": lambda t, p, c: confusion_ok(
            t, p, int(max(t.max(), p.max())) + 1),
        "diagonal only": lambda t, p, c: torch.diag(torch.diag(confusion_ok(t, p, c))),
        "one-based labels": lambda t, p, c: confusion_ok(t, p, c).roll((1, 1), (0, 1)),
    },
}


def test_lpc_cepstrum_recursion_agrees_with_the_log_spectrum():
    """The reference recursion equals the cepstrum computed by FFT (a known identity)."""
    a = lpc_ok(torch.hamming_window(256, dtype=torch.float64)
               * torch.randn(256, generator=torch.Generator().manual_seed(0),
                             dtype=torch.float64), 10)
    assert torch.allclose(cepstrum_ok(a, 15), cepstrum_by_fft(a, 15), atol=1e-9)
    check.lpc_cepstrum(cepstrum_by_fft)

# Each correct answer as its only variant, until the chapter lists its variants.
CORRECT = {name: {"reference": fn} for name, fn in CORRECT.items()}
