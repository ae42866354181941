"""Checks for Chapter 2, "One neuron trained by gradient descent".

Conventions of the chapter: a sigmoid neuron computes ``z = X @ w + b`` for inputs
``X`` (n, d), weights ``w`` (d,) and a bias ``b``; labels ``y`` (n,) are int64 class
indices in {0, 1} (as the data loaders return them), targets ``t = 2 y - 1`` are in
{-1, +1}. Losses take logits and return the mean over the batch. Optimisers take a
gradient function ``grad(w)`` and a start ``w0`` (d,) and return the trajectory, a
tensor (steps + 1, d) whose first row is ``w0``.

Chapter 2 computes every gradient by hand: the checks of its gradients and training
loops run the learner's code with autograd switched off (``run(..., no_grad=True)``),
and compare with exact formulas evaluated in float64.
"""

from __future__ import annotations

import contextlib
import math

import torch
import torch.nn.functional as F

from ._common import callable_, fail, number, ok, require, run, run_either_dtype, tensor_like

__all__ = ["smoothed_cross_entropy", "logistic_loss_grad", "best_step",
           "train_logistic", "nesterov_descent"]

_NO_AUTOGRAD = ("write the formula out with tensor operations: this exercise runs your "
                "code with autograd switched off.")


def _either_dtype(fn, make_args, what: str, hint: str):
    """Run ``fn`` (autograd off) on float64 inputs; if that raises, on float32 ones."""
    return run_either_dtype(fn, make_args, (torch.float64, torch.float32), what=what, hint=hint,
                            no_grad=True)


def _close(value, expected, rel: float) -> bool:
    return abs(value - expected) <= rel * max(1.0, abs(expected))


# --- Exercise 1: cross-entropy with smoothed labels -------------------------------------

def _stub(name: str):
    def forbidden(*args, **kwargs):
        raise RuntimeError(f"{name} is not allowed in this exercise: build the "
                           "log-sum-exp yourself from max, exp and log")
    return forbidden


def _forbidden_functions():
    """(owner, attribute, name) of each library function that Exercise 1 forbids."""
    return [(torch, "logsumexp", "torch.logsumexp"),
            (torch, "log_softmax", "torch.log_softmax"),
            (torch.special, "logsumexp", "torch.special.logsumexp"),
            (torch.special, "log_softmax", "torch.special.log_softmax"),
            (torch.Tensor, "logsumexp", "Tensor.logsumexp"),
            (torch.Tensor, "log_softmax", "Tensor.log_softmax"),
            (F, "log_softmax", "F.log_softmax"),
            (F, "cross_entropy", "F.cross_entropy"),
            (F, "nll_loss", "F.nll_loss")]


_MISSING = object()


@contextlib.contextmanager
def _forbidding(targets):
    """Replace each (owner, attribute) by a stub that fails with a hint; restore after."""
    saved = [(owner, attr, vars(owner).get(attr, _MISSING)) for owner, attr, _ in targets]
    try:
        for owner, attr, name in targets:
            setattr(owner, attr, _stub(name))
        yield
    finally:
        for owner, attr, original in reversed(saved):
            if original is _MISSING:
                delattr(owner, attr)
            else:
                setattr(owner, attr, original)


def _smoothed_rows(logits, y, alpha, spread_over_others=False):
    """float64 per-row loss sum_k q_k (lse - s_k) for smoothed targets q (n, K)."""
    s = logits.double()
    n, classes = s.shape
    one_hot = torch.zeros_like(s)
    one_hot[torch.arange(n), y] = 1.0
    if spread_over_others:  # alpha / (K - 1) on each wrong class, 1 - alpha on the true one
        q = (1 - alpha) * one_hot + alpha / max(classes - 1, 1) * (1 - one_hot)
    else:
        q = (1 - alpha) * one_hot + alpha / classes
    lse = torch.logsumexp(s, dim=1, keepdim=True)  # (n, 1)
    return (q * (lse - s)).sum(dim=1)  # (n,)


def smoothed_cross_entropy(fn) -> None:
    """Check ``smoothed_cross_entropy(logits, y, alpha)``: mean cross-entropy of the
    logits (n, K) against the smoothed targets (1 - alpha) one_hot(y) + alpha / K, with
    the library's log-sum-exp, log-softmax and cross-entropy functions switched off."""
    callable_(fn)
    gen = torch.Generator().manual_seed(5)
    cases = [
        (torch.randn(40, 5, generator=gen, dtype=torch.float64) * 3,
         torch.randint(0, 5, (40,), generator=gen), 0.1, "40 random rows of 5 logits, alpha = 0.1"),
        (torch.tensor([[2.0, 1.0, 0.1]]), torch.tensor([0]), 0.2,
         "one float32 row, alpha = 0.2"),
        (torch.tensor([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 0.0]], dtype=torch.float64),
         torch.tensor([2, 1]), 0.1, "logits of +-1000, alpha = 0.1"),
        # One largest logit for the whole batch leaves the second row at exp(-2000) = 0.
        (torch.tensor([[1000.0, 999.0, 998.0], [-1000.0, -999.0, -1001.0]],
                      dtype=torch.float64),
         torch.tensor([0, 1]), 0.1, "one row near +1000, one near -1000, alpha = 0.1"),
        (torch.tensor([[0.5, -0.5], [3.0, 3.0], [-2.0, 4.0]]), torch.tensor([1, 0, 0]), 0.0,
         "two classes, alpha = 0 (no smoothing)"),
        (torch.randn(6, 4, generator=gen, dtype=torch.float64), torch.tensor([0, 1, 2, 3, 0, 1]),
         0.5, "6 rows of 4 logits, alpha = 0.5"),
    ]
    for logits, y, alpha, what in cases:
        with _forbidding(_forbidden_functions()):
            out = run(fn, logits.clone(), y.clone(), alpha, what=what,
                      hint="logits has shape (n, K), y holds n class indices and alpha is a "
                           "number; return one number, the mean over the rows. Build the "
                           "log-sum-exp yourself, as the chapter does.")
        value = number(out, f"the loss on {what}")
        expected = F.cross_entropy(logits.double(), y, label_smoothing=alpha).item()
        require(math.isfinite(value),
                f"the loss on {what} is inf or nan: do not take the logarithm of a softmax "
                "that has rounded to 0; subtract each row's largest logit first.", what)
        rel = 1e-9 if logits.dtype == torch.float64 else 1e-5
        if _close(value, expected, rel):
            continue
        rows = _smoothed_rows(logits, y, alpha)  # (n,)
        s = logits.double()
        K = s.shape[1]
        q = (1 - alpha) * F.one_hot(y, K).double() + alpha / K  # (n, K)
        lse_batch = torch.logsumexp(s, dim=0, keepdim=True)  # over the batch: wrong
        plain = F.cross_entropy(s, y).item()
        known = [(rows.sum().item(), "average over the rows: divide the sum by n."),
                 (rows.mean().item() / K, "sum over the K classes, then average over the n "
                  "rows (not over all n * K entries)."),
                 (plain, "the targets are smoothed: the true class gets 1 - alpha + "
                  "alpha / K and every other class alpha / K."),
                 (_smoothed_rows(logits, y, alpha, spread_over_others=True).mean().item(),
                  "spread alpha evenly over all K classes, the true class included: every "
                  "class gets alpha / K on top of (1 - alpha) for the true one."),
                 ((1 - alpha) * plain, "the smoothing takes alpha from the true class and "
                  "spreads it over all K classes: include the alpha / K part of the "
                  "target."),
                 (-(q * s).sum(dim=1).mean().item(), "each row's loss is the "
                  "log-sum-exp of its logits minus the target-weighted sum of its logits: "
                  "the log-sum-exp is missing."),
                 ((q * (lse_batch - s)).sum(dim=1).mean().item(), "normalise each row "
                  "over its K classes, not each class over the batch.")]
        for wrong, hint in known:
            if not _close(wrong, expected, 1e-6):
                require(not _close(value, wrong, rel), hint, what)
        fail(f"on {what} your loss differs from the cross-entropy with smoothed targets: "
             "for each row, sum the targets times minus the log-probabilities, then average "
             "over the rows.", what)
    ok("smoothed_cross_entropy: matches PyTorch on 6 cases, logits of 1000 included.")


# --- Exercise 2: the logistic loss with targets +-1 and its gradient ---------------------

def _logistic_grads(X, t, w, b):
    """Exact float64 gradient of mean log(1 + exp(-t z)), z = X w + b."""
    X, t, w = X.double(), t.double(), w.double()
    z = X @ w + float(b)
    coef = -t * torch.sigmoid(-t * z)  # (n,): d loss_i / d z_i
    return X.T @ coef / len(t), coef.mean()


def _logistic_cases():
    gen = torch.Generator().manual_seed(7)
    X = torch.randn(30, 3, generator=gen, dtype=torch.float64)
    t = torch.where(torch.rand(30, generator=gen) < 0.5, -1.0, 1.0).double()
    return [(X, t, torch.tensor([0.5, -1.0, 0.25], dtype=torch.float64), 0.3,
             "30 points, moderate logits"),
            (X, t, torch.zeros(3, dtype=torch.float64), 0.0, "w = 0 and b = 0"),
            (X * 40, t, torch.tensor([1.0, -0.5, 0.8], dtype=torch.float64), -2.0,
             "logits up to about +-100"),
            (X[:1], -t[:1], torch.tensor([0.2, 0.2, 0.2], dtype=torch.float64), 1.0,
             "a single point"),
            (X * 400, t, torch.tensor([1.0, -0.5, 0.8], dtype=torch.float64), 0.0,
             "logits up to about +-1000")]


def logistic_loss_grad(fn) -> None:
    """Check ``logistic_loss_grad(X, t, w, b)`` -> ``(grad_w, grad_b)``, autograd off."""
    callable_(fn)
    hint = _NO_AUTOGRAD
    for X, t, w, b, what in _logistic_cases():
        out, dtype = _either_dtype(
            fn, lambda d, X=X, t=t, w=w, b=b: (X.to(d), t.to(d), w.to(d),
                                               torch.tensor(b, dtype=d)), what, hint)
        require(isinstance(out, tuple) and len(out) == 2, "return a pair (grad_w, grad_b).")
        gw_ref, gb_ref = _logistic_grads(X.to(dtype), t, w.to(dtype), b)
        gw = tensor_like(out[0], gw_ref, "grad_w")
        gb = number(out[1], "grad_b")
        require(bool(torch.isfinite(gw).all()) and math.isfinite(gb),
                "the gradient is inf or nan for large logits: write it with sigmoid(-t z) "
                "rather than with exp(t z) divided by something.", what)
        rel = 1e-9 if dtype == torch.float64 else 2e-5
        good_w = bool((gw - gw_ref).abs().max() <= rel * max(1.0, gw_ref.abs().max().item()))
        good_b = _close(gb, gb_ref.item(), rel)
        if good_w and good_b:
            continue
        Xd, td = X.double(), t.double()
        z = Xd @ w.double() + b
        wrong = {
            "the gradient points uphill: check the sign of d loss / d z.":
                (-gw_ref, -gb_ref.item()),
            "d loss / d z is -t sigmoid(-t z): the sigmoid's argument has the wrong sign.":
                (-(Xd.T @ (td * torch.sigmoid(td * z))) / len(td),
                 -(td * torch.sigmoid(td * z)).mean().item()),
            "the loss is a mean over the points: divide by n.":
                (gw_ref * len(td), gb_ref.item() * len(td)),
        }
        for message, (w_wrong, b_wrong) in wrong.items():
            require(not (torch.allclose(gw, w_wrong, rtol=rel, atol=rel)
                         and _close(gb, b_wrong, rel)), message, what)
        require(good_w, "grad_w is wrong: chain d loss_i / d z_i with d z_i / d w = x_i, "
                "then average over the points.", what)
        fail("grad_w is right but grad_b is not: the bias is a weight whose input is "
             "always 1.", what)
    ok("logistic_loss_grad: exact on 5 cases, logits of 1000 included, no autograd.")


# --- Exercise 3: the best step for a Hessian ---------------------------------------------

def _rotation(angle: float, d: int = 2) -> torch.Tensor:
    c, s = math.cos(angle), math.sin(angle)
    Q = torch.eye(d, dtype=torch.float64)
    Q[:2, :2] = torch.tensor([[c, -s], [s, c]], dtype=torch.float64)
    return Q


def _hessians():
    gen = torch.Generator().manual_seed(3)
    A = torch.randn(4, 4, generator=gen, dtype=torch.float64)
    Q2 = _rotation(0.6)
    Q3 = _rotation(1.1, 3)
    return [(torch.diag(torch.tensor([1.0, 25.0], dtype=torch.float64)), "diag(1, 25)"),
            (Q2 @ torch.diag(torch.tensor([0.5, 8.0], dtype=torch.float64)) @ Q2.T,
             "a rotated 2 x 2 Hessian with eigenvalues 0.5 and 8"),
            (Q3 @ torch.diag(torch.tensor([0.2, 1.0, 3.0], dtype=torch.float64)) @ Q3.T,
             "a 3 x 3 Hessian, not diagonal"),
            (A @ A.T + 0.5 * torch.eye(4, dtype=torch.float64), "a random 4 x 4 Hessian"),
            (torch.tensor([[4.0]], dtype=torch.float64), "the 1 x 1 Hessian [[4]]"),
            (3 * torch.eye(2, dtype=torch.float64), "3 times the identity")]


def best_step(fn) -> None:
    """Check ``best_step(H)`` -> ``(eta_star, rate)`` for a symmetric positive-definite H."""
    callable_(fn)
    for H, what in _hessians():
        out = run(fn, H.clone(), what=what, no_grad=True,
                  hint="H is a symmetric (d, d) tensor; return two numbers.")
        require(isinstance(out, (tuple, list)) and len(out) == 2,
                "return a pair (eta_star, rate).")
        eta, rate = number(out[0], "eta_star"), number(out[1], "the rate")
        lam = torch.linalg.eigvalsh(H)
        lo, hi = lam[0].item(), lam[-1].item()
        eta_ref, rate_ref = 2 / (lo + hi), (hi - lo) / (hi + lo)
        if _close(eta, eta_ref, 1e-9) and _close(rate, rate_ref, 1e-9):
            continue
        diag = torch.diagonal(H)
        known = [(2 / (diag.min() + diag.max()).item(), "use the eigenvalues of H, the "
                  "curvatures along its eigenvectors, not its diagonal entries."),
                 (2 / hi, "2 / lambda_max is the largest stable step, where the error stops "
                  "shrinking in the steepest direction; the fastest one balances two "
                  "directions."),
                 (1 / hi, "1 / lambda_max removes the steepest direction in one step, but "
                  "leaves the flattest one slow: balance the two extreme factors."),
                 (1 / lo, "1 / lambda_min is past the stable limit when the curvatures "
                  "differ: balance the two extreme factors.")]
        for wrong, hint in known:
            if not _close(wrong, eta_ref, 1e-6):
                require(not _close(eta, wrong, 1e-9), hint, what)
        require(_close(eta, eta_ref, 1e-9),
                "eta_star makes the factors of the flattest and the steepest directions "
                "equal in size and opposite in sign.", what)
        diag_rate = ((diag.max() - diag.min()) / (diag.max() + diag.min())).item()
        if not _close(diag_rate, rate_ref, 1e-6):
            require(not _close(rate, diag_rate, 1e-9), known[0][1], what)
        fail("eta_star is right; the rate is the size of those two factors at eta_star, "
             "written with lambda_min and lambda_max.", what)
    ok("best_step: right on 6 Hessians, rotated and 1 x 1 included.")


# --- Exercise 4: the training loop, debugged ---------------------------------------------

def _two_clouds(n: int, seed: int):
    gen = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=gen)
    centres = torch.tensor([[-1.0, -0.5], [1.0, 0.5]], dtype=torch.float64)
    X = centres[y] + torch.randn(n, 2, generator=gen, dtype=torch.float64) * torch.tensor(
        [1.0, 1.5], dtype=torch.float64)
    return X, y


def _train_logistic(X, y, lr, steps, *, bias_sign=1.0, update_b=True):
    w, b = torch.zeros(X.shape[1], dtype=X.dtype), torch.zeros((), dtype=X.dtype)
    for _ in range(steps):
        error = torch.sigmoid(X @ w + b) - y.to(X.dtype)  # (n,)
        w, b = w - lr * X.T @ error / len(y), (
            b - bias_sign * lr * error.mean() if update_b else b)
    return w, b


def train_logistic(fn) -> None:
    """Check ``train_logistic(X, y, lr, steps)`` -> ``(w, b)``, autograd off."""
    callable_(fn)
    hint = ("compare each line with the gradient of the chapter, shapes first: " +
            _NO_AUTOGRAD)
    X1, y1 = _two_clouds(60, 1)
    X2, y2 = _two_clouds(25, 2)
    X3 = torch.cat([X2, X2[:, :1] * 0.5 + 1.0], dim=1)  # three features
    for X, y, lr, steps, what in [(X1, y1, 0.5, 40, "60 points, lr = 0.5, 40 steps"),
                                  (X2, y2, 1.0, 25, "25 points, lr = 1, 25 steps"),
                                  (X3, y2, 0.3, 30, "3 features, lr = 0.3, 30 steps")]:
        out, dtype = _either_dtype(
            fn, lambda d, X=X, y=y, lr=lr, steps=steps: (X.to(d), y.clone(), lr, steps),
            what, hint)
        require(isinstance(out, tuple) and len(out) == 2, "return a pair (w, b).")
        Xd = X.to(dtype)
        w_ref, b_ref = _train_logistic(Xd, y, lr, steps)
        w = tensor_like(out[0], w_ref, "w")
        b = number(out[1], "b")
        tol = 1e-9 if dtype == torch.float64 else 1e-4
        good_w = torch.allclose(w, w_ref.double(), atol=tol, rtol=tol)
        good_b = _close(b, b_ref.item(), tol)
        if good_w and good_b:
            continue
        require(good_w or bool((w - w[0]).abs().max() > 1e-12),
                "every weight receives the same update: what shape does your gradient for "
                "w have, and over which dimension should the mean run?", what)
        require(good_b or b != 0.0, "the bias never changes.", what)
        w_up, b_up = _train_logistic(Xd, y, lr, steps, bias_sign=-1.0)
        require(good_b or not _close(b, b_up.item(), tol),
                "the bias moves uphill: check the sign of its update.", what)
        require(good_w, "the weights differ from gradient descent on the mean "
                "cross-entropy: each step subtracts lr * X^T (p - y) / n.", what)
        fail("the weights are right but the bias is not: its gradient is the mean of "
             "p - y.", what)
    ok("train_logistic: same weights and bias as gradient descent on 3 data sets.")


# --- Exercise 6: Nesterov momentum -------------------------------------------------------

_LAMBDAS = torch.tensor([1.0, 25.0], dtype=torch.float64)


def _grad_quad(w):
    return _LAMBDAS * w


def _grad_wells(w):
    """Gradient of (w1^2 - 1)^2 + w2^2 + 0.3 w1, written out."""
    return torch.stack([4 * w[0] * (w[0] ** 2 - 1) + 0.3, 2 * w[1]])


def _nesterov(grad, w0, lr, beta, steps, *, look=-1.0, at_lookahead=True):
    w, v, out = w0.clone(), torch.zeros_like(w0), [w0.clone()]
    for _ in range(steps):
        point = w + look * lr * beta * v if at_lookahead else w
        v = beta * v + grad(point)
        w = w - lr * v
        out.append(w)
    return torch.stack(out)


def nesterov_descent(fn) -> None:
    """Check ``nesterov_descent(grad, w0, lr, beta, steps)``: the trajectory."""
    callable_(fn)
    cases = [(_grad_quad, torch.tensor([-4.0, 1.5], dtype=torch.float64), 0.07, 0.5, 30,
              "the quadratic with curvatures 1 and 25, beta = 0.5"),
             (_grad_quad, torch.tensor([-4.0, 1.5], dtype=torch.float64), 0.02, 0.9, 40,
              "the same quadratic, beta = 0.9"),
             (_grad_wells, torch.tensor([0.5, 1.0], dtype=torch.float64), 0.05, 0.0, 10,
              "a non-convex function, beta = 0"),
             (_grad_wells, torch.tensor([-0.2, 0.3], dtype=torch.float64), 0.03, 0.7, 25,
              "a non-convex function, beta = 0.7"),
             (_grad_quad, torch.tensor([1.0, -1.0], dtype=torch.float64), 0.1, 0.5, 0,
              "steps = 0")]
    for grad, w0, lr, beta, steps, what in cases:
        start = w0.clone()
        out = run(fn, grad, w0, lr, beta, steps, what=what, no_grad=True,
                  hint="grad(w) returns a tensor like w; return a (steps + 1, d) tensor "
                       "whose first row is w0.")
        require(torch.equal(w0, start), "do not change w0 in place; work on a copy.", what)
        expected = _nesterov(grad, w0, lr, beta, steps)
        value = tensor_like(out, expected, f"the trajectory for {what}")
        if torch.allclose(value, expected, atol=1e-9, rtol=1e-9):
            continue
        require(bool(torch.isfinite(value).all()),
                f"the trajectory for {what} contains inf or nan.", what)
        known = [(_nesterov(grad, w0, lr, beta, steps, at_lookahead=False),
                  "that is Polyak's momentum: evaluate the gradient at the look-ahead point "
                  "w - lr * beta * v, not at w."),
                 (_nesterov(grad, w0, lr, beta, steps, look=1.0),
                  "the look-ahead point is where the velocity is taking you: check the "
                  "sign in front of lr * beta * v."),
                 (torch.cat([expected[:1], expected[-1:].expand(steps, -1)]),
                  "each row must be a new tensor: an in-place update changes the rows "
                  "you stored earlier.")]
        for wrong, hint in known:
            if not torch.allclose(wrong, expected, atol=1e-9, rtol=1e-9):
                require(not torch.allclose(value, wrong, atol=1e-9, rtol=1e-9), hint, what)
        fail(f"on {what} your trajectory differs: start with v = 0; at each step, take the "
             "gradient at the look-ahead point, update v, then step along v.", what)
    ok("nesterov_descent: same steps as the formula on 5 cases, including 0 steps.")
