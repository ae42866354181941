"""Chapter 8 checks: each accepts a correct answer and rejects plausible wrong ones."""

import torch


def shift_ok(X, dx, dy):
    images = X.reshape(-1, 8, 8)
    out = torch.zeros_like(images)
    for r in range(8):
        for c in range(8):
            if 0 <= r - dy < 8 and 0 <= c - dx < 8:
                out[:, r, c] = images[:, r - dy, c - dx]
    return out.reshape(-1, 64)


def shift_in_place(X, dx, dy):
    X.copy_(shift_ok(X, dx, dy))
    return X


def confusion_ok(y_true, y_pred, n_classes):
    matrix = torch.zeros(n_classes, n_classes, dtype=torch.int64)
    for t, p in zip(y_true.tolist(), y_pred.tolist()):
        matrix[t, p] += 1
    return matrix


def top_k_ok(probs, y, k):
    return (probs.topk(k, dim=1).indices == y[:, None]).any(dim=1).float().mean()


def majority_ok(y_train, y_test):
    return (y_test == torch.bincount(y_train).argmax()).float().mean().item()


CORRECT = {
    "shift_images": shift_ok,
    "digits_confusion_matrix": confusion_ok,
    "top_k_accuracy": top_k_ok,
    "majority_class_accuracy": majority_ok,
}

MUTANTS = {
    "shift_images": {
        "wraps around with roll": lambda X, dx, dy: torch.roll(
            X.reshape(-1, 8, 8), shifts=(dy, dx), dims=(1, 2)).reshape(-1, 64),
        "swaps dx and dy": lambda X, dx, dy: shift_ok(X, dy, dx),
        "moves the wrong way": lambda X, dx, dy: shift_ok(X, -dx, -dy),
        "returns 8x8 images": lambda X, dx, dy: shift_ok(X, dx, dy).reshape(-1, 8, 8),
        "changes X in place": shift_in_place,
        "returns zeros": lambda X, dx, dy: torch.zeros_like(X),
    },
    "digits_confusion_matrix": {
        "transposed": lambda y_true, y_pred, n: confusion_ok(y_true, y_pred, n).T,
        "only the classes that occur": lambda y_true, y_pred, n: confusion_ok(
            y_true, y_pred, int(max(y_true.max(), y_pred.max())) + 1),
        "rows normalised": lambda y_true, y_pred, n: confusion_ok(y_true, y_pred, n).double()
        / confusion_ok(y_true, y_pred, n).sum(1, keepdim=True).clamp(min=1),
        "diagonal only": lambda y_true, y_pred, n: torch.diag(
            torch.diag(confusion_ok(y_true, y_pred, n))),
    },
    "top_k_accuracy": {
        "ignores k": lambda probs, y, k: top_k_ok(probs, y, 1),
        "one too many": lambda probs, y, k: top_k_ok(probs, y, min(k + 1, probs.shape[1])),
        "smallest probabilities": lambda probs, y, k: top_k_ok(-probs, y, k),
        "counts instead of a fraction": lambda probs, y, k: top_k_ok(probs, y, k) * len(y),
    },
    "majority_class_accuracy": {
        "majority of the test set": lambda y_train, y_test: majority_ok(y_test, y_test),
        "returns the class": lambda y_train, y_test: float(torch.bincount(y_train).argmax()),
        "least frequent class": lambda y_train, y_test: (
            y_test == torch.bincount(y_train).float().masked_fill(
                torch.bincount(y_train) == 0, float("inf")).argmin()).float().mean(),
        "one over the number of classes": lambda y_train, y_test: 1 / len(y_train.unique()),
        "tie goes to the larger label": lambda y_train, y_test: (
            y_test == (len(torch.bincount(y_train)) - 1
                       - torch.bincount(y_train).flip(0).argmax())).float().mean(),
    },
}

# Each correct answer as its only variant, until the chapter lists its variants.
CORRECT = {name: {"reference": fn} for name, fn in CORRECT.items()}
