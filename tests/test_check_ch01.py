"""Chapter 1: the correct variants each check must accept, and the known mistakes
(mutants) it must reject. tests/test_checks.py feeds them to the checks."""

import numpy as np
import torch

# --- Exercise 1: count_mistakes ----------------------------------------------------------


def count_loop(X, t, w, b):
    count = 0
    for x_i, t_i in zip(X, t):
        if t_i * (x_i @ w + b) <= 0:
            count += 1
    return count


# --- Exercise 2: folded_margin -----------------------------------------------------------


def folded_cat(u, c, X, t):
    u_tilde = torch.cat([u, torch.tensor([c], dtype=u.dtype)])  # (d + 1,)
    X_tilde = torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype)], dim=1)
    return (t * (X_tilde @ u_tilde)).min() / u_tilde.norm()


def folded_plane_margin_formula(u, c, X, t):
    """gamma / sqrt(1 + d^2), with gamma measured in the plane."""
    gamma = (t * (X @ u + c)).min() / u.norm()
    d = abs(c) / u.norm()
    return gamma / torch.sqrt(1 + d**2)


# --- Exercise 3: train_folded ------------------------------------------------------------


def folded(X, y, epochs, *, targets="pm1", strict=False, ones=True, dtype="same",
           bias_first=False):
    """The folded perceptron, with switches for each known mistake."""
    dt = X.dtype if dtype == "same" else dtype
    column = (torch.ones if ones else torch.zeros)(len(X), 1, dtype=X.dtype)
    X_tilde = torch.cat([column, X] if bias_first else [X, column], dim=1)
    t = 2 * y.to(X.dtype) - 1 if targets == "pm1" else y
    w_tilde, updates = torch.zeros(X_tilde.shape[1], dtype=dt), 0
    for _ in range(epochs):
        changed = False
        for x_i, t_i in zip(X_tilde, t):
            z = t_i * (x_i @ w_tilde)
            if (z < 0) if strict else (z <= 0):
                w_tilde, updates, changed = w_tilde + t_i * x_i, updates + 1, True
        if not changed:
            break
    return w_tilde, updates


def folded_where(X, y, epochs):
    t = torch.where(y == 1, 1.0, -1.0).to(X.dtype)
    X_tilde = torch.cat([X, torch.ones_like(X[:, :1])], dim=1)
    w_tilde, updates = torch.zeros_like(X_tilde[0]), np.int64(0)
    for _ in range(epochs):
        before = updates
        for k in range(len(X)):
            if not t[k] * X_tilde[k].dot(w_tilde) > 0:
                w_tilde += t[k] * X_tilde[k]  # in place: fine, nothing else holds it
                updates += 1
        if updates == before:
            break
    return w_tilde, updates


def folded_minimal_fix(X, y, epochs):
    """The colleague's code with only its two lines fixed: float32 ones and zeros,
    int64 targets 2y - 1; the check also accepts it on float32 data."""
    X_tilde = torch.cat([X, torch.ones(len(X), 1)], dim=1)
    w_tilde = torch.zeros(X_tilde.shape[1])
    updates = 0
    for _ in range(epochs):
        changed = False
        for x_i, y_i in zip(X_tilde, y):
            if (2 * y_i - 1) * (x_i @ w_tilde) <= 0:
                w_tilde = w_tilde + (2 * y_i - 1) * x_i
                updates += 1
                changed = True
        if not changed:
            break
    return w_tilde, updates


def folded_counts_epochs(X, y, epochs):
    w_tilde, _ = folded(X, y, epochs)
    return w_tilde, 1


# --- Exercise 5: train_shuffled ----------------------------------------------------------


def shuffled(X, t, epochs, gen, *, fresh=True, stop=True, source="gen", pairs=True,
             dtype="same", row_targets=False, record_last=True):
    dt = X.dtype if dtype == "same" else dtype
    w, b, per_epoch, order = torch.zeros(X.shape[1], dtype=dt), torch.zeros((), dtype=dt), \
        [], None
    for _ in range(epochs):
        if fresh or order is None:
            if source == "gen":
                order = torch.randperm(len(X), generator=gen)
            elif source == "rows":
                order = torch.arange(len(X))
            elif source == "global":
                order = torch.randperm(len(X))
            else:  # seeds the global state itself
                torch.manual_seed(0)
                order = torch.randperm(len(X))
        other = order if pairs else torch.randperm(len(X), generator=gen)
        if row_targets:  # X in the drawn order, t in row order
            other = torch.arange(len(X))
        wrong = 0
        for x_i, t_i in zip(X[order], t[other]):
            if t_i * (x_i @ w + b) <= 0:
                w, b, wrong = w + t_i * x_i, b + t_i, wrong + 1
        if wrong == 0 and stop and not record_last:
            break  # before recording the epoch without mistakes
        per_epoch.append(wrong)
        if wrong == 0 and stop:
            break
    return w, b, per_epoch


def shuffled_index_loop(X, t, epochs, gen):
    w, b, history = torch.zeros(X.shape[1], dtype=X.dtype), 0.0, []
    for _ in range(epochs):
        mistakes = 0
        for i in torch.randperm(X.shape[0], generator=gen):
            if t[i] * (torch.dot(X[i], w) + b) <= 0:
                w = w + t[i] * X[i]
                b = b + t[i]
                mistakes += 1
        history.append(torch.tensor(mistakes))
        if mistakes == 0:
            break
    return w, b, history


def shuffled_chapter_float32(X, t, epochs, gen):
    """The chapter's own loop (float32 zeros) with a shuffle added: fine on float32 data."""
    w, b, mistakes = torch.zeros(X.shape[1]), torch.tensor(0.0), []
    for _ in range(epochs):
        count = 0
        perm = torch.randperm(len(X), generator=gen)
        for x_i, t_i in zip(X[perm], t[perm]):
            count += int(t_i * (x_i @ w + b) <= 0)
            if t_i * (x_i @ w + b) <= 0:
                w, b = w + t_i * x_i, b + t_i
        mistakes.append(count)
        if count == 0:
            break
    return w, b, mistakes


def shuffled_wrong_weights(X, t, epochs, gen):
    w, b, per_epoch = shuffled(X, t, epochs, gen)
    return w * 0.5, b, per_epoch


# --- Exercise 6: xor_weights -------------------------------------------------------------


def xor_or_nand_and():
    """OR and NAND, then AND: W_hidden (2, 2) in nn.Linear's convention."""
    W_hidden = torch.tensor([[1.0, 1.0], [-1.0, -1.0]])
    return W_hidden, torch.tensor([-0.5, 1.5]), torch.tensor([1.0, 1.0]), -1.5


def xor_two_and_nots():
    """(x1 and not x2), (x2 and not x1), then OR."""
    W_hidden = torch.tensor([[1.0, -1.0], [-1.0, 1.0]])
    return W_hidden, torch.tensor([-0.5, -0.5]), torch.tensor([1.0, 1.0]), torch.tensor(-0.5)


def xor_or_minus_and():
    """OR and AND, then 'OR and not AND': h1 - h2 - 0.5 >= 0."""
    return (torch.tensor([[1.0, 1.0], [1.0, 1.0]]), torch.tensor([-0.5, -1.5]),
            torch.tensor([1.0, -1.0]), -0.5)


def xor_integers():
    """Every weight doubled, so that integer tensors suffice."""
    return (torch.tensor([[2, 2], [-2, -2]]), torch.tensor([-1, 3]), torch.tensor([2, 2]),
            -3)


def xor_linear_shapes():
    """The output layer in nn.Linear's shapes: w_out (1, 2), b_out (1,)."""
    W_hidden, b_hidden, _, _ = xor_or_nand_and()
    return W_hidden, b_hidden, torch.tensor([[1.0, 1.0]]), torch.tensor([-1.5])


def step(z):
    return (z >= 0).to(z.dtype)


def sigmoid_product(X):
    """A thresholded product of two sigmoids: no step units, and not the weights asked for."""
    s = X.sum(dim=1)
    return (torch.sigmoid(10 * (s - 0.5)) * torch.sigmoid(10 * (1.5 - s)) > 0.5).float()


CORRECT_XOR = {
    "OR and NAND, then AND": xor_or_nand_and,
    "two AND-NOT units, then OR, a 0-D tensor b_out": xor_two_and_nots,
    "OR and AND, then OR and not AND": xor_or_minus_and,
    "integer tensors": xor_integers,
    "float64 tensors": lambda: tuple(torch.as_tensor(v, dtype=torch.float64)
                                     for v in xor_or_nand_and()),
    "Python lists and a float": lambda: ([[1, 1], [-1, -1]], [-0.5, 1.5], [1, 1], -1.5),
    "NumPy arrays and a NumPy float": lambda: (np.array([[1.0, 1.0], [-1.0, -1.0]]),
                                               np.array([-0.5, 1.5]), np.ones(2),
                                               np.float64(-1.5)),
    "the output layer in nn.Linear's shapes (1, 2) and (1,)": xor_linear_shapes,
}

MUTANTS_XOR = {
    # answers to the first edition's exercise, functions of X with no step units: the
    # check now asks for the weights and builds the network itself
    "compares the rounded inputs, no step units": lambda X: (
        X.round()[:, 0] != X.round()[:, 1]).float(),
    "thresholds |x1 - x2|, no step units": lambda X: ((X[:, 0] - X[:, 1]).abs()
                                                       > 0.5).float(),
    "a thresholded product of two sigmoids": sigmoid_product,
    "one perceptron (OR), the second unit unused": lambda: (
        torch.tensor([[1.0, 1.0], [0.0, 0.0]]), torch.tensor([-0.5, 0.0]),
        torch.tensor([1.0, 0.0]), -0.5),
    "AND, not XOR": lambda: (torch.tensor([[1.0, 1.0], [1.0, 1.0]]),
                             torch.tensor([-1.5, -1.5]), torch.tensor([1.0, 1.0]), -1.5),
    "lines too close to the corners": lambda: (
        torch.tensor([[1.0, 1.0], [-1.0, -1.0]]), torch.tensor([-0.05, 1.95]),
        torch.tensor([1.0, 1.0]), -1.5),
    "W_hidden with one column per hidden unit (X @ W)": lambda: (
        torch.tensor([[1.0, -1.0], [1.0, -1.0]]), torch.tensor([-0.5, 1.5]),
        torch.tensor([1.0, 1.0]), -1.5),
    "output bias of the wrong sign": lambda: (*xor_or_nand_and()[:3], 1.5),
    "returns the outputs, not the weights": lambda: torch.tensor([0.0, 1.0, 1.0, 0.0]),
    "b_hidden as a (2, 1) column": lambda: (xor_or_nand_and()[0],
                                            torch.tensor([[-0.5], [1.5]]),
                                            *xor_or_nand_and()[2:]),
    "infinite weights": lambda: (torch.tensor([[1.0, 1.0], [-1.0, -1.0]]),
                                 torch.tensor([-0.5, 1.5]), torch.tensor([1.0, 1.0]),
                                 -float("inf")),
}


CORRECT = {
    "count_mistakes": {
        "vectorised int": lambda X, t, w, b: int((t * (X @ w + b) <= 0).sum()),
        "0-D integer tensor": lambda X, t, w, b: (t * (X @ w + b) <= 0).sum(),
        "float count": lambda X, t, w, b: (t * (X @ w + b) <= 0).float().sum(),
        "NumPy integer": lambda X, t, w, b: np.int64((t * (X @ w + b) <= 0).sum().item()),
        "count_nonzero": lambda X, t, w, b: torch.count_nonzero(t * (X @ w + b) <= 0).item(),
        "n minus the correct ones": lambda X, t, w, b: len(X) - int((t * (X @ w + b) > 0).sum()),
        "sign differs from the target": lambda X, t, w, b: int(
            (torch.sign(X @ w + b) != t).sum()),
        "a loop": count_loop,
    },
    "folded_margin": {
        "reference": lambda u, c, X, t: (t * (X @ u + c)).min() / torch.sqrt(u @ u + c**2),
        "folded vectors": folded_cat,
        "plane margin over sqrt(1 + d^2)": folded_plane_margin_formula,
        "a Python float": lambda u, c, X, t: float(
            (t * (X @ u + c)).min() / torch.sqrt(u @ u + c**2)),
        "float64 inside": lambda u, c, X, t: (t.double() * (X.double() @ u.double() + c)).min()
        / (u.double().norm() ** 2 + c**2) ** 0.5,
    },
    "train_folded": {
        "reference": folded,
        "torch.where targets, in-place update, NumPy count": folded_where,
        "only the two buggy lines changed": folded_minimal_fix,
        "float32 weights (the chapter's default)": lambda X, y, e: folded(
            X, y, e, dtype=torch.float32),
        "float64 weights only": lambda X, y, e: folded(X, y, e, dtype=torch.float64),
    },
    "train_shuffled": {
        "reference": shuffled,
        "index loop, tensor counts": shuffled_index_loop,
        "the chapter's float32 code, shuffled": shuffled_chapter_float32,
        "float64 weights only": lambda X, t, e, g: shuffled(X, t, e, g, dtype=torch.float64),
    },
    "xor_weights": CORRECT_XOR,
}

MUTANTS = {
    "count_mistakes": {
        "strict inequality": lambda X, t, w, b: int((t * (X @ w + b) < 0).sum()),
        "forgets the bias": lambda X, t, w, b: int((t * (X @ w) <= 0).sum()),
        "counts the correct points": lambda X, t, w, b: int((t * (X @ w + b) > 0).sum()),
        "a fraction": lambda X, t, w, b: (t * (X @ w + b) <= 0).float().mean(),
        "the step misses points on the boundary": lambda X, t, w, b: int(
            (step(X @ w + b) != (t + 1) / 2).sum()),
        "a boolean tensor": lambda X, t, w, b: t * (X @ w + b) <= 0,
    },
    "folded_margin": {
        "the plane margin (divides by ||u|| only)": lambda u, c, X, t: (
            (t * (X @ u + c)).min() / u.norm()),
        "ignores c": lambda u, c, X, t: (t * (X @ u)).min() / u.norm(),
        "not normalised": lambda u, c, X, t: (t * (X @ u + c)).min(),
        "largest instead of smallest": lambda u, c, X, t: (
            (t * (X @ u + c)).max() / torch.sqrt(u @ u + c**2)),
        "absolute distances": lambda u, c, X, t: (
            (X @ u + c).abs().min() / torch.sqrt(u @ u + c**2)),
        "divides by ||u|| + |c|": lambda u, c, X, t: (
            (t * (X @ u + c)).min() / (u.norm() + abs(c))),
    },
    "train_folded": {
        "the colleague's code, both bugs": lambda X, y, e: folded(
            X, y, e, targets="01", strict=True),
        "only the targets fixed": lambda X, y, e: folded(X, y, e, strict=True),
        "only the test fixed": lambda X, y, e: folded(X, y, e, targets="01"),
        "a column of zeros, no bias": lambda X, y, e: folded(X, y, e, ones=False),
        "counts epochs, not updates": folded_counts_epochs,
        "the bias folded in first": lambda X, y, e: folded(X, y, e, bias_first=True),
    },
    "train_shuffled": {
        "one order for every epoch": lambda X, t, e, g: shuffled(X, t, e, g, fresh=False),
        "global random numbers": lambda X, t, e, g: shuffled(X, t, e, g, source="global"),
        "seeds the global state": lambda X, t, e, g: shuffled(X, t, e, g, source="seed"),
        "no early stop": lambda X, t, e, g: shuffled(X, t, e, g, stop=False),
        "separate orders for X and t": lambda X, t, e, g: shuffled(X, t, e, g, pairs=False),
        "X shuffled, t in row order": lambda X, t, e, g: shuffled(X, t, e, g,
                                                                  row_targets=True),
        "stops before recording the epoch without mistakes": lambda X, t, e, g: shuffled(
            X, t, e, g, record_last=False),
        "row order": lambda X, t, e, g: shuffled(X, t, e, g, source="rows"),
        "weights that do not match": shuffled_wrong_weights,
    },
    "xor_weights": MUTANTS_XOR,
}
