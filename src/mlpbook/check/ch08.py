"""Checks for Chapter 8, "Image recognition: handwritten digits".

Conventions of the chapter: a batch of 8x8 images is flattened row by row
into ``X`` of shape (n, 64); labels ``y`` of shape (n,) hold class indices
(int64); ``probs`` of shape (n, C) holds one probability per class.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.metrics import confusion_matrix

from ._common import callable_, close, ok, require, run

__all__ = ["shift_images", "digits_confusion_matrix", "top_k_accuracy",
           "majority_class_accuracy"]


def _shift(X, dx, dy, side=8):
    images = X.reshape(-1, side, side)
    out = torch.zeros_like(images)
    if abs(dx) < side and abs(dy) < side:
        rows, cols = slice(max(dy, 0), side + min(dy, 0)), slice(max(dx, 0), side + min(dx, 0))
        src_rows = slice(max(-dy, 0), side + min(-dy, 0))
        src_cols = slice(max(-dx, 0), side + min(-dx, 0))
        out[:, rows, cols] = images[:, src_rows, src_cols]
    return out.reshape(len(X), side * side)


def _images(n=6, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, 17, (n, 64), generator=gen).float()


def shift_images(fn) -> None:
    """Check ``shift_images(X, dx, dy)``: move each 8x8 image ``dx`` right, ``dy`` down, fill 0."""
    callable_(fn)
    X = _images()
    for dx, dy in [(1, 0), (0, 1), (-1, 0), (0, -1), (2, -1), (0, 0), (8, 0), (-3, 9)]:
        original = X.clone()
        out = run(fn, X, dx, dy, what=f"dx = {dx}, dy = {dy}")
        require(torch.equal(X, original),
                "do not change X in place: build a new tensor for the shifted images.")
        close(out, _shift(original, dx, dy), f"shift_images(X, {dx}, {dy})",
              f"for dx = {dx}, dy = {dy}: dx moves the ink along a row (positive: to the "
              "right), dy along a column (positive: down), and pixels that enter the image "
              "are 0; nothing wraps around.")
    ok("shift_images: correct for 8 shifts, including no shift and shifts off the image.")


def _labels(n, classes, seed):
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, classes, (n,), generator=gen)


def digits_confusion_matrix(fn) -> None:
    """Check ``digits_confusion_matrix(y_true, y_pred, n_classes)``: counts (C, C), rows = truth."""
    callable_(fn)
    cases = [(_labels(40, 4, 1), _labels(40, 4, 2), 4, "4 classes"),
             (_labels(30, 3, 3), _labels(30, 3, 4), 5, "n_classes = 5 with classes 3 and 4 "
              "never seen"),
             (torch.tensor([2, 2, 0]), torch.tensor([2, 1, 1]), 3, "3 samples")]
    for y_true, y_pred, classes, what in cases:
        out = run(fn, y_true.clone(), y_pred.clone(), classes, what=what)
        expected = torch.as_tensor(confusion_matrix(y_true.numpy(), y_pred.numpy(),
                                                    labels=np.arange(classes)))
        close(out, expected.double(), "the confusion matrix",
              f"on {what}: entry [i, j] counts the samples whose true class is i and whose "
              "predicted class is j, with one row and one column for every class.")
    ok("digits_confusion_matrix: correct on 3 cases, including classes that never occur.")


def _probs(n, classes, seed):
    gen = torch.Generator().manual_seed(seed)
    return torch.softmax(torch.randn(n, classes, generator=gen, dtype=torch.float64) * 2, dim=1)


def _top_k(probs, y, k):
    top = probs.topk(k, dim=1).indices  # (n, k)
    return (top == y[:, None]).any(dim=1).double().mean()


def top_k_accuracy(fn) -> None:
    """Check ``top_k_accuracy(probs, y, k)``: fraction of rows whose class is among the k best."""
    callable_(fn)
    probs, y = _probs(50, 10, 5), _labels(50, 10, 6)
    y[:10] = probs[:10].argmax(dim=1)  # some rows right at k = 1
    for k in (1, 2, 3, 10):
        out = run(fn, probs.clone(), y.clone(), k, what=f"k = {k}")
        close(torch.as_tensor(out, dtype=torch.float64).reshape(()), _top_k(probs, y, k),
              f"top_k_accuracy with k = {k}",
              f"with k = {k}, a row counts as right when its true class is among its {k} "
              "largest probabilities; return the fraction of such rows.")
    ok("top_k_accuracy: correct for k = 1, 2, 3 and k = number of classes.")


def _majority(y_train, y_test):
    winner = torch.bincount(y_train).argmax()
    return (y_test == winner).double().mean()


def majority_class_accuracy(fn) -> None:
    """Check ``majority_class_accuracy(y_train, y_test)``: accuracy of the training majority."""
    callable_(fn)
    cases = [
        (torch.tensor([0, 1, 1, 2, 1, 0]), torch.tensor([1, 1, 0, 2]), "three classes"),
        (torch.tensor([3, 3, 3, 1, 1]), torch.tensor([1, 1, 1, 3, 0]),
         "a test set whose own majority is another class"),
        (torch.tensor([2, 0, 2, 0]), torch.tensor([0, 2, 2]), "a tie, broken by the smaller label"),
    ]
    for y_train, y_test, what in cases:
        out = run(fn, y_train.clone(), y_test.clone(), what=what)
        close(torch.as_tensor(out, dtype=torch.float64).reshape(()), _majority(y_train, y_test),
              "the majority-class accuracy",
              f"on {what}: find the most frequent class in the TRAINING labels (the smallest "
              "label on a tie), predict it for every test sample, return the accuracy.")
    ok("majority_class_accuracy: correct on 3 cases, including a tie.")
