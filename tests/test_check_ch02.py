"""Chapter 2: the correct variants each check must accept, and the known mistakes
(mutants) it must reject. tests/test_checks.py feeds them to the checks."""

import numpy as np
import torch
import torch.nn.functional as F

# --- Exercise 1: smoothed_cross_entropy --------------------------------------------------


def smoothed_targets(logits, y, alpha):
    K = logits.shape[1]
    q = torch.full_like(logits, alpha / K)  # (n, K)
    q[torch.arange(len(y)), y] += 1 - alpha
    return q


def lse_by_hand(logits):
    m = logits.amax(dim=1, keepdim=True)  # (n, 1)
    return m.squeeze(1) + torch.log(torch.exp(logits - m).sum(dim=1))  # (n,)


def sce_batch_max(logits, y, alpha):
    """Subtracts the largest logit of the whole batch, not of each row: a row far below
    it underflows to exp(...) = 0 and its log-sum-exp to -inf."""
    m = logits.max()
    lse = m + torch.log(torch.exp(logits - m).sum(dim=1))  # (n,)
    return (lse - (smoothed_targets(logits, y, alpha) * logits).sum(dim=1)).mean()


def sce_matrix(logits, y, alpha):
    q = smoothed_targets(logits, y, alpha)
    return (lse_by_hand(logits) - (q * logits).sum(dim=1)).mean()


def sce_mixture(logits, y, alpha):
    """(1 - alpha) times the cross-entropy plus alpha times the mean over the classes."""
    lse = lse_by_hand(logits)
    hard = lse - logits[torch.arange(len(y)), y]
    uniform = lse - logits.mean(dim=1)
    return ((1 - alpha) * hard + alpha * uniform).mean()


def sce_one_hot_log_probs(logits, y, alpha):
    """Log-probabilities s - lse, then minus the targets' weighted sum, with F.one_hot."""
    K = logits.shape[1]
    log_p = logits - lse_by_hand(logits)[:, None]  # (n, K)
    q = (1 - alpha) * F.one_hot(y, K).to(logits.dtype) + alpha / K
    return -(q * log_p).sum(dim=1).mean()


def sce_loop(logits, y, alpha):
    """One row at a time, a Python float out."""
    total = 0.0
    for s_i, y_i in zip(logits, y.tolist()):
        m = s_i.max()
        lse = m + torch.log(torch.exp(s_i - m).sum())
        q = torch.full_like(s_i, alpha / len(s_i))
        q[y_i] += 1 - alpha
        total += float(lse - (q * s_i).sum())
    return total / len(y)


def sce_forbidden(kind):
    def answer(logits, y, alpha):
        q = smoothed_targets(logits, y, alpha)
        if kind == "torch.logsumexp":
            return (torch.logsumexp(logits, 1) - (q * logits).sum(1)).mean()
        if kind == "Tensor.logsumexp":
            return (logits.logsumexp(dim=1) - (q * logits).sum(1)).mean()
        if kind == "torch.log_softmax":
            return -(q * torch.log_softmax(logits, dim=1)).sum(1).mean()
        if kind == "F.log_softmax":
            return -(q * F.log_softmax(logits, dim=1)).sum(1).mean()
        if kind == "Tensor.log_softmax":
            return -(q * logits.log_softmax(1)).sum(1).mean()
        if kind == "torch.special.logsumexp":
            return (torch.special.logsumexp(logits, 1) - (q * logits).sum(1)).mean()
        if kind == "F.cross_entropy":
            return F.cross_entropy(logits, y, label_smoothing=alpha)
        if kind == "F.nll_loss":
            log_p = logits - lse_by_hand(logits)[:, None]
            return (1 - alpha) * F.nll_loss(log_p, y) - alpha * log_p.mean(dim=1).mean()
        if kind == "nn.CrossEntropyLoss":
            return torch.nn.CrossEntropyLoss(label_smoothing=alpha)(logits, y)
        raise ValueError(kind)
    return answer


def sce_naive(logits, y, alpha):
    p = torch.exp(logits) / torch.exp(logits).sum(dim=1, keepdim=True)
    return -(smoothed_targets(logits, y, alpha) * torch.log(p)).sum(dim=1).mean()


def sce_others_only(logits, y, alpha):
    """alpha / (K - 1) on each wrong class: another convention than the exercise's."""
    K = logits.shape[1]
    q = torch.full_like(logits, alpha / (K - 1))
    q[torch.arange(len(y)), y] = 1 - alpha
    return (lse_by_hand(logits) - (q * logits).sum(dim=1)).mean()


def sce_without_uniform_part(logits, y, alpha):
    hard = lse_by_hand(logits) - logits[torch.arange(len(y)), y]
    return ((1 - alpha) * hard).mean()


def sce_over_batch(logits, y, alpha):
    m = logits.amax(dim=0, keepdim=True)
    lse = m + torch.log(torch.exp(logits - m).sum(dim=0, keepdim=True))  # (1, K)
    return (smoothed_targets(logits, y, alpha) * (lse - logits)).sum(dim=1).mean()


# --- Exercise 2: logistic_loss_grad ------------------------------------------------------


def logistic_ok(X, t, w, b):
    coef = -t * torch.sigmoid(-t * (X @ w + b))  # (n,)
    return X.T @ coef / len(t), coef.mean()


def logistic_via_labels(X, t, w, b):
    """The same gradient as binary cross-entropy with y = (t + 1) / 2."""
    error = torch.sigmoid(X @ w + b) - (t + 1) / 2
    return X.T @ error / len(t), error.mean()


def logistic_exp_form(X, t, w, b):
    """-t / (1 + exp(t z)): exp may overflow to inf, which gives the right limit 0."""
    coef = -t / (1 + torch.exp(t * (X @ w + b)))
    return (X * coef[:, None]).mean(dim=0), float(coef.mean())


def logistic_softplus_form(X, t, w, b):
    z = X @ w + b
    coef = -t * torch.exp(-F.softplus(t * z))  # sigma(-tz) = exp(-softplus(tz))
    return torch.einsum("nd,n->d", X, coef) / X.shape[0], coef.sum() / X.shape[0]


def logistic_float32_only(X, t, w, b):
    """Hard-codes float32 tensors: the check retries with float32 inputs."""
    out = torch.zeros(X.shape[1], dtype=torch.float32)
    bias = torch.zeros((), dtype=torch.float32)
    for x_i, t_i in zip(X, t):
        c = -t_i * torch.sigmoid(-t_i * (x_i @ w + b))
        out, bias = out + c * x_i, bias + c
    return out / len(t), bias / len(t)


def logistic_autograd(X, t, w, b):
    w = w.clone().requires_grad_()
    b = b.clone().requires_grad_()
    loss = F.softplus(-t * (X @ w + b)).mean()
    loss.backward()
    return w.grad, b.grad


def logistic_wrong_sign(X, t, w, b):
    gw, gb = logistic_ok(X, t, w, b)
    return -gw, -gb


def logistic_sigmoid_tz(X, t, w, b):
    coef = -t * torch.sigmoid(t * (X @ w + b))
    return X.T @ coef / len(t), coef.mean()


def logistic_sum(X, t, w, b):
    gw, gb = logistic_ok(X, t, w, b)
    return gw * len(t), gb * len(t)


def logistic_bias_mean_t(X, t, w, b):
    gw, _ = logistic_ok(X, t, w, b)
    return gw, -t.mean()


def logistic_overflow(X, t, w, b):
    """exp(-tz) / (1 + exp(-tz)): inf / inf = nan for large -tz."""
    e = torch.exp(-t * (X @ w + b))
    coef = -t * e / (1 + e)
    return X.T @ coef / len(t), coef.mean()


# --- Exercise 3: best_step ---------------------------------------------------------------


def best_eigvalsh(H):
    lam = torch.linalg.eigvalsh(H)
    lo, hi = lam[0], lam[-1]
    return 2 / (lo + hi), (hi - lo) / (hi + lo)


def best_numpy(H):
    lam = np.linalg.eigvalsh(H.numpy())
    kappa = lam.max() / lam.min()
    return 2 / (lam.min() + lam.max()), (kappa - 1) / (kappa + 1)


def best_complex_eigvals(H):
    lam = torch.linalg.eigvals(H).real
    eta = 2 / (lam.min() + lam.max())
    return eta.item(), (1 - eta * lam).abs().max().item()


def best_diagonal(H):
    d = torch.diagonal(H)
    return 2 / (d.min() + d.max()), (d.max() - d.min()) / (d.max() + d.min())


def best_stability_limit(H):
    lam = torch.linalg.eigvalsh(H)
    eta = 2 / lam[-1]
    return eta, (1 - eta * lam).abs().max()


def best_one_over_max(H):
    lam = torch.linalg.eigvalsh(H)
    return 1 / lam[-1], 1 - lam[0] / lam[-1]


def best_wrong_rate(H):
    lam = torch.linalg.eigvalsh(H)
    return 2 / (lam[0] + lam[-1]), (lam[-1] - lam[0]) / lam[-1]


# --- Exercise 4: train_logistic ----------------------------------------------------------


def train_ok(X, y, lr, steps):
    w, b = torch.zeros(X.shape[1], dtype=X.dtype), torch.zeros((), dtype=X.dtype)
    for _ in range(steps):
        error = torch.sigmoid(X @ w + b) - y  # (n,); int64 labels promote to float
        w = w - lr * (X * error[:, None]).mean(dim=0)
        b = b - lr * error.mean()
    return w, b


def train_folded(X, y, lr, steps):
    X_t = torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype)], dim=1)
    w_t = torch.zeros(X_t.shape[1], dtype=X.dtype)
    for _ in range(steps):
        w_t = w_t - lr * X_t.T @ (torch.sigmoid(X_t @ w_t) - y.double()).to(X.dtype) / len(y)
    return w_t[:-1], w_t[-1]


def train_float32_only(X, y, lr, steps):
    w, b = torch.zeros(X.shape[1]), torch.tensor(0.0)  # float32, like Chapter 1
    for _ in range(steps):
        error = torch.sigmoid(X @ w + b) - y.float()
        w, b = w - lr * X.T @ error / len(y), b - lr * error.mean()
    return w, b


def train_buggy(X, y, lr, steps, *, mean_all=True, bias_sign=-1.0, update_b=True,
                autograd=False, scale=1.0):
    """The exercise's code, with switches for each bug."""
    w, b = torch.zeros(X.shape[1], dtype=X.dtype), torch.zeros((), dtype=X.dtype)
    for _ in range(steps):
        if autograd:
            w, b = w.detach().requires_grad_(), b.detach().requires_grad_()
            z = X @ w + b
            F.binary_cross_entropy_with_logits(z, y.to(X.dtype)).backward()
            grad_w, grad_b = w.grad, b.grad
            w, b = w.detach(), b.detach()
        else:
            error = torch.sigmoid(X @ w + b) - y
            grad_w = (X * error[:, None]).mean() if mean_all else (
                X * error[:, None]).mean(dim=0) * scale
            grad_b = error.mean() * scale
        w = w - lr * grad_w
        if update_b:
            b = b - bias_sign * lr * grad_b
    return w, b


# --- Exercise 6: nesterov_descent --------------------------------------------------------


def nesterov_ok(grad, w0, lr, beta, steps):
    w, v, path = w0.clone(), torch.zeros_like(w0), [w0.clone()]
    for _ in range(steps):
        v = beta * v + grad(w - lr * beta * v)
        w = w - lr * v
        path.append(w)
    return torch.stack(path)


def nesterov_sutskever(grad, w0, lr, beta, steps):
    """u <- mu u - eps grad(w + mu u); w <- w + u (Sutskever et al., 2013)."""
    w, u, path = w0.clone(), torch.zeros_like(w0), [w0]
    for _ in range(steps):
        u = beta * u - lr * grad(w + beta * u)
        w = w + u
        path.append(w)
    return torch.stack(path)


def nesterov_original(grad, w0, lr, beta, steps):
    """Nesterov's own form: y = w + beta (w - w_prev); w <- y - lr grad(y), w_prev = w0."""
    w_prev, w, path = w0.clone(), w0.clone(), [w0.clone()]
    for _ in range(steps):
        y = w + beta * (w - w_prev)  # the look-ahead point
        w_prev, w = w, y - lr * grad(y)
        path.append(w)
    return torch.stack(path)


def nesterov_preallocated(grad, w0, lr, beta, steps):
    out = torch.empty(steps + 1, len(w0), dtype=w0.dtype)
    out[0] = w0
    v = torch.zeros_like(w0)
    for k in range(steps):
        v = beta * v + grad(out[k] - lr * beta * v)
        out[k + 1] = out[k] - lr * v
    return out


def nesterov_variant(grad, w0, lr, beta, steps, *, look=-1.0, at_lookahead=True,
                     dampen=False):
    w, v, path = w0.clone(), torch.zeros_like(w0), [w0.clone()]
    for _ in range(steps):
        point = w + look * lr * beta * v if at_lookahead else w
        g = grad(point)
        v = beta * v + ((1 - beta) * g if dampen else g)
        w = w - lr * v
        path.append(w)
    return torch.stack(path)


def nesterov_pytorch_form(grad, w0, lr, beta, steps):
    """torch.optim.SGD(nesterov=True): another sequence of points than the exercise's."""
    w, v, path = w0.clone(), torch.zeros_like(w0), [w0.clone()]
    for _ in range(steps):
        g = grad(w)
        v = beta * v + g
        w = w - lr * (g + beta * v)
        path.append(w)
    return torch.stack(path)


def nesterov_in_place(grad, w0, lr, beta, steps):
    w, v, path = w0.clone(), torch.zeros_like(w0), [w0.clone()]
    for _ in range(steps):
        v = beta * v + grad(w - lr * beta * v)
        w -= lr * v
        path.append(w)
    return torch.stack(path)


def nesterov_mutates_w0(grad, w0, lr, beta, steps):
    v, path = torch.zeros_like(w0), [w0.clone()]
    for _ in range(steps):
        v = beta * v + grad(w0 - lr * beta * v)
        w0 -= lr * v
        path.append(w0.clone())
    return torch.stack(path)


CORRECT = {
    "smoothed_cross_entropy": {
        "smoothed targets as a matrix": sce_matrix,
        "(1 - alpha) CE + alpha times the mean over the classes": sce_mixture,
        "log-probabilities and F.one_hot": sce_one_hot_log_probs,
        "a loop over the rows, a Python float": sce_loop,
    },
    "logistic_loss_grad": {
        "sigmoid(-t z)": logistic_ok,
        "through labels y = (t + 1) / 2": logistic_via_labels,
        "1 / (1 + exp(t z)), a Python float bias": logistic_exp_form,
        "exp(-softplus(t z)) and einsum": logistic_softplus_form,
        "float32 tensors, a loop over the points": logistic_float32_only,
    },
    "best_step": {
        "eigvalsh": best_eigvalsh,
        "NumPy, through the condition number": best_numpy,
        "complex eigvals, rate from the factors": best_complex_eigvals,
    },
    "train_logistic": {
        "the two bugs fixed": lambda X, y, lr, steps: train_buggy(
            X, y, lr, steps, mean_all=False, bias_sign=1.0),
        "mean over the rows": train_ok,
        "bias folded into the weights": train_folded,
        "float32 weights (Chapter 1's habit)": train_float32_only,
    },
    "nesterov_descent": {
        "look-ahead form": nesterov_ok,
        "Sutskever's form": nesterov_sutskever,
        "Nesterov's original form, y = w + beta (w - w_prev)": nesterov_original,
        "preallocated trajectory": nesterov_preallocated,
    },
}

MUTANTS = {
    "smoothed_cross_entropy": {
        **{f"uses {kind}, which the exercise forbids": sce_forbidden(kind)
           for kind in ("torch.logsumexp", "Tensor.logsumexp", "torch.log_softmax",
                        "F.log_softmax", "Tensor.log_softmax", "torch.special.logsumexp",
                        "F.cross_entropy", "F.nll_loss", "nn.CrossEntropyLoss")},
        "naive softmax": sce_naive,
        "the largest logit of the whole batch": sce_batch_max,
        "no smoothing": lambda logits, y, alpha: sce_matrix(logits, y, 0.0),
        "alpha / (K - 1) on the other classes": sce_others_only,
        "forgets the alpha / K part": sce_without_uniform_part,
        "sum instead of mean": lambda logits, y, alpha: sce_matrix(logits, y, alpha) * len(y),
        "mean over all n * K entries": lambda logits, y, alpha: (
            smoothed_targets(logits, y, alpha)
            * (lse_by_hand(logits)[:, None] - logits)).mean(),
        "forgets the log-sum-exp": lambda logits, y, alpha: -(
            smoothed_targets(logits, y, alpha) * logits).sum(dim=1).mean(),
        "normalises over the batch": sce_over_batch,
        "one loss per row, not the mean": lambda logits, y, alpha: lse_by_hand(logits)
        - (smoothed_targets(logits, y, alpha) * logits).sum(dim=1),
    },
    "logistic_loss_grad": {
        "uses autograd": logistic_autograd,
        "wrong sign": logistic_wrong_sign,
        "sigmoid(t z)": logistic_sigmoid_tz,
        "sum instead of mean": logistic_sum,
        "bias gradient -mean(t)": logistic_bias_mean_t,
        "overflows to nan": logistic_overflow,
        "forgets the bias in z": lambda X, t, w, b: logistic_ok(X, t, w, 0.0),
    },
    "best_step": {
        "diagonal entries": best_diagonal,
        "the stability limit 2 / lambda_max": best_stability_limit,
        "1 / lambda_max": best_one_over_max,
        "rate (lambda_max - lambda_min) / lambda_max": best_wrong_rate,
        "a single number": lambda H: 2 / torch.linalg.eigvalsh(H).sum(),
    },
    "train_logistic": {
        "the colleague's code, both bugs": train_buggy,
        "only the bias sign fixed": lambda X, y, lr, steps: train_buggy(
            X, y, lr, steps, bias_sign=1.0),
        "only the mean fixed": lambda X, y, lr, steps: train_buggy(
            X, y, lr, steps, mean_all=False),
        "bias never updated": lambda X, y, lr, steps: train_buggy(
            X, y, lr, steps, mean_all=False, update_b=False),
        "sum instead of mean": lambda X, y, lr, steps: train_buggy(
            X, y, lr, steps, mean_all=False, bias_sign=1.0, scale=len(y)),
        "uses autograd": lambda X, y, lr, steps: train_buggy(
            X, y, lr, steps, bias_sign=1.0, autograd=True),
    },
    "nesterov_descent": {
        "Polyak's momentum": lambda g, w0, lr, beta, s: nesterov_variant(
            g, w0, lr, beta, s, at_lookahead=False),
        "look-ahead with the wrong sign": lambda g, w0, lr, beta, s: nesterov_variant(
            g, w0, lr, beta, s, look=1.0),
        "dampened velocity": lambda g, w0, lr, beta, s: nesterov_variant(
            g, w0, lr, beta, s, dampen=True),
        "PyTorch's Nesterov form": nesterov_pytorch_form,
        "in-place update aliases the rows": nesterov_in_place,
        "changes w0": nesterov_mutates_w0,
        "leaves out w0": lambda g, w0, lr, beta, s: nesterov_ok(g, w0, lr, beta, s)[1:],
    },
}
