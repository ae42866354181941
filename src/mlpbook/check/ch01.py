"""Checks for Chapter 1, "The perceptron".

Conventions of the chapter: inputs ``X`` (n, d), usually float32 as the data
loaders give them; weights ``w`` (d,); a bias ``b``; labels ``y`` (n,) int64 in
{0, 1} and targets ``t = 2 y - 1`` in {-1, +1}. A point is a mistake when
``t (w . x + b) <= 0``: a point on the boundary counts as a mistake.

The perceptron cases use inputs on a grid of 1/8, so that every sum the rule
computes is exact in float32 and float64 alike: any correct implementation makes
the same decisions as the reference, whatever its dtype or order of operations.
A learner's function that only works with float32 (or only float64) inputs is
accepted: the checks try float32 first, then float64.
"""

from __future__ import annotations

import torch

from .. import data
from ._common import (
    callable_,
    fail,
    number,
    ok,
    require,
    run,
    run_either_dtype,
    tensor_like,
    whole_number,
)

__all__ = ["count_mistakes", "folded_margin", "train_folded", "train_shuffled",
           "xor_weights"]


def _grid_blobs(n: int, seed: int, shift: float = 0.0):
    """Separable blobs on a 1/8 grid, shifted by (shift, shift): X (n, 2) float32, y int64."""
    X, y = data.blobs(n, margin=0.3, seed=seed)
    return torch.round((X + shift) * 8) / 8, y


def _targets(y: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    return 2 * y.to(dtype) - 1


def _either_dtype(fn, make_args, what: str, hint: str, no_grad: bool = False):
    """Run ``fn`` on float32 inputs; if that raises, on float64 ones.

    Returns the result and the dtype that worked; re-raises the float32 verdict when
    both fail.
    """
    return run_either_dtype(fn, make_args, (torch.float32, torch.float64), what=what, hint=hint,
                            no_grad=no_grad)


# --- Exercise 1: count the mistakes ------------------------------------------------------

def _mistakes(X, t, w, b) -> int:
    return int((t * (X @ w + b) <= 0).sum())


def count_mistakes(fn) -> None:
    """Check ``count_mistakes(X, t, w, b)``: how many points have ``t (x . w + b) <= 0``."""
    callable_(fn)
    X, y = _grid_blobs(40, seed=2)
    X = torch.cat([X, torch.tensor([[0.25, 0.25], [-0.75, -0.25]])])  # two points on z = 0
    y = torch.cat([y, torch.tensor([1, 0])])
    settings = [(torch.tensor([1.0, -2.0]), 0.25, "a line through two of the points"),
                (torch.tensor([1.0, 1.0]), 0.0, "a line that separates the classes"),
                (torch.tensor([0.0, 0.0]), 0.0, "w = 0 and b = 0"),
                (torch.tensor([1.0, 1.0]), 1.5, "a line shifted by the bias")]
    for w, b, what in settings:
        for dtype in (torch.float32, torch.float64):
            Xd, td, wd = X.to(dtype), _targets(y, dtype), w.to(dtype)
            bd = torch.tensor(b, dtype=dtype)
            out = run(fn, Xd, td, wd, bd, what=f"{what} ({dtype})",
                      hint="count the points whose t * (x . w + b) is not positive.")
            value = number(out, "the count")
            expected = _mistakes(Xd, td, wd, bd)
            case = f"{what}, {len(X)} points ({dtype})"
            if value == expected:
                continue
            sums = Xd @ wd + bd
            on_line = ("a point exactly on the boundary, where t (x . w + b) = 0, is a "
                       "mistake too.")
            known = [(expected / len(X), "return how many points are mistakes, not their "
                      "fraction."),
                     (int((td * sums < 0).sum()), on_line),
                     (int((td * (Xd @ wd) <= 0).sum()), "the bias belongs in each "
                      "point's sum."),
                     (len(X) - expected, "you count the points on their correct side.")]
            known.append((int(((sums >= 0).to(dtype) != (td + 1) / 2).sum()), on_line))
            for wrong, hint in known:
                require(abs(value - wrong) > 1e-6, hint, case)
            fail("count the points whose t * (x . w + b) is not positive.", case)
    ok("count_mistakes: right on 8 cases, points on the boundary included.")


# --- Exercise 2: the margin of the folded vector -----------------------------------------

def _folded(u, c, X, t):
    u64, X64, t64 = u.double(), X.double(), t.double()
    return (t64 * (X64 @ u64 + c)).min() / torch.sqrt(u64 @ u64 + c * c)


def folded_margin(fn) -> None:
    """Check ``folded_margin(u, c, X, t)``: ``min_i t_i (u . x_i + c) / ||(u, c)||``."""
    callable_(fn)
    X, y = data.blobs(30, margin=0.3, seed=4)
    cases = [(torch.tensor([1.0, 1.0]), 0.0, 0.0, "a line through the origin"),
             (torch.tensor([2.0, 2.0]), -8.0, 2.0, "data shifted by (2, 2), a line with c = -8"),
             (torch.tensor([0.5, 0.5]), -2.0, 2.0, "the same line, u and c halved"),
             (torch.tensor([1.0, -0.5]), 1.5, 0.0, "a line that misclassifies points")]
    for u, c, shift, what in cases:
        for dtype in (torch.float32, torch.float64):
            Xd, td, ud = (X + shift).to(dtype), _targets(y, dtype), u.to(dtype)
            out = run(fn, ud, c, Xd, td, what=f"{what} ({dtype})",
                      hint="work with the folded inputs (x, 1) and the folded vector (u, c).")
            value = number(out, "the margin")
            Xs, ts, us = (X + shift).double(), _targets(y, torch.float64), u.double()
            expected = _folded(us, c, Xs, ts).item()
            if abs(value - expected) <= 1e-5 * max(1.0, abs(expected)):
                continue
            signed = ts * (Xs @ us + c)  # (n,)
            length = torch.sqrt(us @ us + c * c).item()
            known = [(signed.min().item() / us.norm().item(),
                      "that is the margin in the plane of x; Novikoff's unit vector is the "
                      "folded one, and its length includes the bias c."),
                     ((ts * (Xs @ us)).min().item() / us.norm().item(),
                      "c is part of every point's sum, and of the folded vector."),
                     (signed.min().item(), "divide by the length of the folded vector "
                      "(u, c): the margin must not change when u and c are both doubled."),
                     (signed.max().item() / length, "the margin is the smallest value over "
                      "the points, not the largest."),
                     ((Xs @ us + c).abs().min().item() / length, "keep the sign: multiply "
                      "by t_i, so that a point on the wrong side gives a negative margin.")]
            case = f"{what} ({dtype})"
            for wrong, hint in known:
                if abs(wrong - expected) > 1e-4 * max(1.0, abs(expected)):
                    require(abs(value - wrong) > 1e-5 * max(1.0, abs(wrong)), hint, case)
            fail("the margin is the smallest t_i times the folded dot product, divided by "
                 "the length of the whole folded vector.", case)
    ok("folded_margin: right on 8 cases, scale-invariant, negative on a wrong line.")


# --- Exercise 3: the perceptron with the bias folded in ----------------------------------

def _train_folded(X, y, epochs):
    X_t = torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype)], dim=1)  # (n, d + 1)
    t = _targets(y, X.dtype)
    w, updates = torch.zeros(X_t.shape[1], dtype=X.dtype), 0
    for _ in range(epochs):
        before = updates
        for x_i, t_i in zip(X_t, t):
            if t_i * (x_i @ w) <= 0:
                w, updates = w + t_i * x_i, updates + 1
        if updates == before:
            break
    return w, updates


_FOLDED_HINT = ("compare each line of the loop with the rule of the chapter: which targets "
                "does the rule use, and which points count as mistakes?")


def train_folded(fn) -> None:
    """Check ``train_folded(X, y, epochs)`` -> ``(w_tilde, updates)``, labels y in {0, 1}."""
    callable_(fn)
    sets = [(*_grid_blobs(24, seed=1, shift=2.0), "24 points shifted by (2, 2)"),
            (*_grid_blobs(16, seed=5), "16 points around the origin"),
            (torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]),
             torch.tensor([0, 0, 0, 1]), "the AND gate")]
    for X, y, what in sets:
        out, dtype = _either_dtype(fn, lambda d, X=X, y=y: (X.to(d), y.clone(), 200),
                                   what, _FOLDED_HINT)
        require(isinstance(out, tuple) and len(out) == 2, "return a pair (w_tilde, updates).")
        w_ref, n_ref = _train_folded(X.to(dtype), y, 200)
        updates = whole_number(out[1], "the number of updates")
        w_out = tensor_like(out[0], w_ref, "w_tilde")
        require(updates > 0 or n_ref == 0,
                "your loop makes no update at all, starting from w = 0. Where is every point "
                "when w = 0, and does your test count it?", what)
        require(w_out[-1] != 0 or w_ref[-1] == 0,
                "the last weight, the bias, never changes: what is its input in every "
                "point?", what)
        require(updates < 200 or n_ref >= 200,
                "your loop never stops: some points seem to be mistakes forever. What does "
                "an update add for a point of class 0?", what)
        same_w = torch.allclose(w_out, w_ref.double(), atol=1e-6)
        bias_first = torch.allclose(w_out, torch.roll(w_ref, 1).double(), atol=1e-6)
        require(same_w or not bias_first, "your weights are right but in another order: "
                "w_tilde lists the weights first and the bias last, as the folded point "
                "x_tilde = (x, 1) does.", what)
        require(same_w or updates != n_ref, _FOLDED_HINT, what)
        require(same_w, "the number of updates is right but the weights are not: add "
                "t_i times the whole folded point.", what)
        require(updates == n_ref, "the weights are right but the count is not: count "
                "every update, in every epoch.", what)
    ok("train_folded: same weights and updates as the rule on 3 data sets.")


# --- Exercise 5: a fresh order every epoch -----------------------------------------------

class _RowOrder:
    """Stands in for a generator: ``_train_shuffled`` then visits the rows in order."""


def _train_shuffled(X, t, epochs, gen, *, fresh=True, stop=True, pairs=True,
                    row_targets=False):
    w, b = torch.zeros(X.shape[1], dtype=X.dtype), torch.zeros((), dtype=X.dtype)
    mistakes, order = [], None
    for _ in range(epochs):
        if isinstance(gen, _RowOrder):
            order = torch.arange(len(X))
        elif fresh or order is None:
            order = torch.randperm(len(X), generator=gen)
        labels = order if pairs else torch.randperm(len(X), generator=gen)
        if row_targets:  # X visited in the drawn order, t in row order
            labels = torch.arange(len(X))
        count = 0
        for i, j in zip(order.tolist(), labels.tolist()):
            if t[j] * (X[i] @ w + b) <= 0:
                w, b, count = w + t[j] * X[i], b + t[j], count + 1
        mistakes.append(count)
        if count == 0 and stop:
            break
    return w, b, mistakes


def train_shuffled(fn) -> None:
    """Check ``train_shuffled(X, t, epochs, gen)`` -> ``(w, b, mistakes_per_epoch)``."""
    callable_(fn)
    hint = ("at the start of every epoch draw a new order with "
            "torch.randperm(len(X), generator=gen), and visit the points in that order.")
    for seed, shift, n in [(0, 2.0, 30), (3, 1.5, 20), (7, 0.0, 12)]:
        X, y = _grid_blobs(n, seed=seed, shift=shift)
        what = f"{n} points shifted by ({shift}, {shift}), generator seed {seed}"
        state = torch.get_rng_state()
        out, dtype = _either_dtype(
            fn, lambda d, X=X, y=y, s=seed: (X.to(d), _targets(y, d), 100,
                                             torch.Generator().manual_seed(s)),
            what, hint)
        require(torch.equal(state, torch.get_rng_state()),
                "leave the global random state alone: draw every order from the generator "
                "gen you are given, and do not seed anything yourself.", what)
        require(isinstance(out, tuple) and len(out) == 3, "return (w, b, mistakes_per_epoch).")
        Xd, td = X.to(dtype), _targets(y, dtype)
        w_ref, b_ref, m_ref = _train_shuffled(Xd, td, 100, torch.Generator().manual_seed(seed))
        mistakes = [whole_number(m, "each count of mistakes") for m in out[2]]
        if mistakes != m_ref:
            _, _, m_once = _train_shuffled(Xd, td, 100, torch.Generator().manual_seed(seed),
                                           fresh=False)
            require(mistakes != m_once or m_once == m_ref,
                    "you visit the points in the same order in every epoch: draw a new "
                    "order at the start of each epoch.", what)
            require(mistakes[:len(m_ref)] != m_ref,
                    "stop after the first epoch without a mistake.", what)
            require(mistakes != m_ref[:-1], "your counts stop one epoch early: record the "
                    "epoch without a mistake too (its 0 ends the list), then stop.", what)
            rows = _train_shuffled(Xd, td, 100, _RowOrder())[2]
            require(mistakes != rows or rows == m_ref,
                    "you visit the points in row order: use the order you draw.", what)
            split = _train_shuffled(Xd, td, 100, torch.Generator().manual_seed(seed),
                                    pairs=False)[2]
            require(mistakes != split or split == m_ref,
                    "each point must keep its own target: visit X and t in the same "
                    "order.", what)
            fixed = _train_shuffled(Xd, td, 100, torch.Generator().manual_seed(seed),
                                    row_targets=True)[2]
            require(mistakes != fixed or fixed == m_ref,
                    "each point must keep its own target: you visit X in the drawn order "
                    "but t in row order.", what)
            require(False, hint, what)
        w_out = tensor_like(out[0], w_ref, "w")
        b_out = tensor_like(torch.as_tensor(out[1]).reshape(()), b_ref, "b")
        require(torch.allclose(w_out, w_ref.double(), atol=1e-6)
                and torch.allclose(b_out, b_ref.double(), atol=1e-6),
                "the mistakes per epoch are right but the final weights are not: update w "
                "and b with the point you are visiting.", what)
    ok("train_shuffled: same orders, mistakes and weights as the rule on 3 sets.")


# --- Exercise 6: XOR from three perceptrons ----------------------------------------------

_XOR_PARTS = [("W_hidden", [(2, 2)], "shape (2, 2), one row per hidden unit"),
              ("b_hidden", [(2,)], "shape (2,)"),
              ("w_out", [(2,), (1, 2)], "shape (2,)"),
              ("b_out", [(), (1,)], "one number")]


def _xor_parts(out):
    """The four weights as float64 tensors (W (2, 2), b (2,), w_out (2,), b_out ())."""
    require(isinstance(out, (tuple, list)) and len(out) == 4,
            "return the four weights (W_hidden, b_hidden, w_out, b_out); the check builds "
            "the network from them.")
    parts = []
    for value, (name, shapes, expected) in zip(out, _XOR_PARTS):
        try:
            tensor = torch.as_tensor(value).detach().to(torch.float64)
        except (TypeError, ValueError, RuntimeError):
            tensor = None
        require(tensor is not None, f"{name} should be numbers (a tensor, a list or a "
                f"float), not a {type(value).__name__}.")
        require(tuple(tensor.shape) in shapes, f"{name} has shape {tuple(tensor.shape)}: "
                f"expected {expected}.")
        parts.append(tensor.reshape(shapes[0]))
    return parts


def _step64(z: torch.Tensor) -> torch.Tensor:
    return (z >= 0).to(torch.float64)


def _network(X, W, b, w_out, b_out, transposed=False):
    """step(step(X @ W.T + b) @ w_out + b_out) for X (n, 2) -> (n,)."""
    h = _step64(X @ (W if transposed else W.T) + b)  # (n, 2) @ (2, 2) -> (n, 2)
    return _step64(h @ w_out + b_out)  # (n, 2) @ (2,) -> (n,)


def xor_weights(fn) -> None:
    """Check ``xor_weights()`` -> ``(W_hidden, b_hidden, w_out, b_out)``: the check builds
    the network step(step(X @ W_hidden.T + b_hidden) @ w_out + b_out) and tries it on the
    corners of the unit square and near them."""
    callable_(fn)
    out = run(fn, what="xor_weights()",
              hint="xor_weights() takes no argument and returns the four weights "
                   "(W_hidden, b_hidden, w_out, b_out); the check builds the network "
                   "from them.")
    W, b, w_out, b_out = _xor_parts(out)
    require(bool(torch.isfinite(torch.cat([W.ravel(), b, w_out, b_out.reshape(1)])).all()),
            "every weight must be a finite number.")
    corners = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]],
                           dtype=torch.float64)
    box = torch.tensor([[-0.1, -0.1], [-0.1, 0.1], [0.1, -0.1], [0.1, 0.1]],
                       dtype=torch.float64)
    gen = torch.Generator().manual_seed(0)
    inside = torch.rand(20, 2, generator=gen, dtype=torch.float64) * 0.2 - 0.1
    near = torch.cat([(corners[:, None, :] + box).reshape(16, 2),
                      corners.repeat(5, 1) + inside])
    for X, what in [(corners, "the four corners"),
                    (near, "36 points within 0.1 of a corner in each coordinate")]:
        expected = (X.round()[:, 0] != X.round()[:, 1]).to(torch.float64)  # XOR of the corner
        wrong = int((_network(X, W, b, w_out, b_out) != expected).sum())
        if wrong == 0:
            continue
        swapped = _network(X, W, b, w_out, b_out, transposed=True)
        require(not torch.equal(swapped, expected),
                "W_hidden has one row per hidden unit, as in torch.nn.Linear: the layer "
                "computes X @ W_hidden.T + b_hidden. Yours works only as X @ W_hidden.",
                what)
        verb = "gets" if wrong == 1 else "get"
        if X is corners:
            fail(f"{wrong} of the 4 corners {verb} the wrong output. Which two linearly "
                 "separable gates does XOR combine, and which gate combines them?", what)
        fail(f"{wrong} of {len(X)} points near the corners {verb} the wrong output: a line "
             "passes too close to a corner. Put each line midway between the corners it "
             "separates.", what)
    ok("xor_weights: XOR on the corners and on 36 points near them.")
