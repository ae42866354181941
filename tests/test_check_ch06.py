"""Chapter 6 checks: the correct answers each accepts and the mistakes each rejects."""

import math
import warnings

import numpy as np
import torch
from torch.utils.data import DataLoader, RandomSampler

from mlpbook import train

# --- Exercise 1: iterations per epoch ------------------------------------------------


def iterations_ok(n, batch_size, drop_last):
    return n // batch_size if drop_last else math.ceil(n / batch_size)


def iterations_numpy(n, batch_size, drop_last):
    """NumPy's ceil and floor: a NumPy integer, which is a whole number too."""
    count = np.floor(n / batch_size) if drop_last else np.ceil(n / batch_size)
    return np.int64(count)


def iterations_remainder(n, batch_size, drop_last):
    full, rest = divmod(n, batch_size)
    return full + (1 if rest and not drop_last else 0)


def iterations_loader(n, batch_size, drop_last):
    """A DataLoader counts its own batches (it refuses NumPy integers as batch_size)."""
    return len(DataLoader(range(n), batch_size=batch_size, drop_last=drop_last))


# --- Exercise 2: the batches of an epoch ---------------------------------------------


def batches_ok(n, batch_size, seed, epoch, *, rule=train.epoch_seed):
    generator = torch.Generator().manual_seed(rule(seed, epoch))
    return list(torch.randperm(n, generator=generator).split(batch_size))


def batches_loader(n, batch_size, seed, epoch):
    """A DataLoader shuffling with its own seeded generator."""
    generator = torch.Generator().manual_seed(train.epoch_seed(seed, epoch))
    return list(DataLoader(range(n), batch_size=batch_size, shuffle=True,
                           generator=generator))


def batches_loader_sampler(n, batch_size, seed, epoch):
    """A DataLoader whose sampler (and worker seed) draw from seeded generators."""
    generator = torch.Generator().manual_seed(train.epoch_seed(seed, epoch))
    sampler = RandomSampler(range(n), generator=generator)
    loader = DataLoader(range(n), batch_size=batch_size, sampler=sampler,
                        generator=torch.Generator())
    return [b.tolist() for b in loader]


def batches_forked(n, batch_size, seed, epoch):
    """The global generator, seeded inside fork_rng, which restores its state."""
    with torch.random.fork_rng():
        torch.manual_seed(train.epoch_seed(seed, epoch))
        order = torch.randperm(n)
    return [order[k:k + batch_size] for k in range(0, n, batch_size)]


def batches_one_generator(n, batch_size, seed, epoch):
    """One generator seeded with the run's seed, advanced epoch by epoch: at epoch 0 the
    order of seed + epoch, so run 1 at epoch 0 repeats run 0 at epoch 1."""
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epoch):
        torch.randperm(n, generator=generator)
    return list(torch.randperm(n, generator=generator).split(batch_size))


def batches_seeding_global(n, batch_size, seed, epoch):
    torch.manual_seed(train.epoch_seed(seed, epoch))  # forbidden: the global state
    return list(torch.randperm(n).split(batch_size))


def batches_loader_global_worker_seed(n, batch_size, seed, epoch):
    """A sampler with its own generator, but the loader draws its worker seed from the
    global generator, which it changes."""
    generator = torch.Generator().manual_seed(train.epoch_seed(seed, epoch))
    sampler = RandomSampler(range(n), generator=generator)
    return list(DataLoader(range(n), batch_size=batch_size, sampler=sampler))


# --- Exercise 3: the error of a mini-batch gradient -----------------------------------


def error_ok(G, batch_size, *, correction="exact", root=True, relative=True):
    G = G.double()
    n = len(G)
    g = G.mean(0)  # (P,)
    spread = (G - g).pow(2).sum(1).mean()  # mean ||g_i - g||^2
    factor = {"exact": (n - batch_size) / (n - 1), "none": 1.0,
              "over n": (n - batch_size) / n}[correction]
    squared = spread / batch_size * factor
    value = squared.sqrt() if root else squared
    return (value / g.norm() if relative else value).item()


def error_sample_variance(G, batch_size):
    """The same formula written with the sample variance S^2 (divisor N - 1)."""
    n = G.shape[0]
    g = G.double().mean(0)
    s2 = ((G.double() - g) ** 2).sum() / (n - 1)
    return torch.sqrt(s2 / batch_size * (1 - batch_size / n)) / torch.linalg.norm(g)


def error_by_enumeration(G, batch_size):
    """Exact too: the average over every possible batch (only for small N)."""
    import itertools

    G = G.double()
    g = G.mean(0)
    errors = [((G[list(i)].mean(0) - g) ** 2).sum()
              for i in itertools.combinations(range(len(G)), batch_size)]
    return float(torch.stack(errors).mean().sqrt() / g.norm())


# --- Exercise 4: evaluation over a loader ---------------------------------------------


def evaluate_ok(model, loss_fn, loader, *, eval_mode=True, no_grad=True, restore=True,
                weighted=True, dim=1, as_tensor=False):
    was_training = model.training
    if eval_mode:
        model.eval()
    context = torch.no_grad() if no_grad else torch.enable_grad()
    total, correct, count, batch_losses = 0.0, 0, 0, []
    with context:
        for xb, yb in loader:
            logits = model(xb)  # (batch, C)
            loss = loss_fn(logits, yb)
            batch_losses.append(loss)
            total += loss.item() * len(yb)
            if dim == 1:
                correct += (logits.argmax(dim=1) == yb).sum().item()
            else:
                correct += (logits.argmax(dim=0)[: len(yb)] == yb[: logits.shape[1]]
                            ).sum().item()
            count += len(yb)
    if restore:
        model.train(was_training)
    mean = total / count if weighted else sum(v.item() for v in batch_losses) / len(
        batch_losses)
    if as_tensor:
        return sum(v * len(b) for v, (_, b) in zip(batch_losses, loader)) / count, \
            torch.tensor(correct / count)
    return mean, correct / count


def evaluate_inference_mode(model, loss_fn, loader):
    was_training = model.training
    model.eval()
    losses, hits, n = [], [], 0
    with torch.inference_mode():
        for xb, yb in loader:
            logits = model(xb)
            losses.append(loss_fn(logits, yb) * len(yb))
            hits.append((logits.argmax(1) == yb).sum())
            n += len(yb)
    model.train(mode=was_training)
    return (torch.stack(losses).sum() / n).item(), (torch.stack(hits).sum() / n).item()


def evaluate_joined_logits(model, loss_fn, loader):
    """The model on one batch at a time, the logits joined afterwards: fine."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(xb) for xb, _ in loader])  # (n, C)
        y = torch.cat([yb for _, yb in loader])  # (n,)
        out = loss_fn(logits, y).item(), (logits.argmax(dim=1) == y).float().mean().item()
    model.train(was_training)
    return out


def evaluate_joined_batches(model, loss_fn, loader):
    """Joins the batches into one tensor and hands it to train.evaluate: the model sees
    all the data at once, which the exercise is there to avoid."""
    X = torch.cat([xb for xb, _ in loader])
    y = torch.cat([yb for _, yb in loader])
    scores = train.evaluate(model, loss_fn, (X, y), metrics={"acc": train.accuracy})
    return scores["loss"], scores["acc"]


def evaluate_always_train_after(model, loss_fn, loader):
    out = evaluate_ok(model, loss_fn, loader)
    model.train()  # wrong when the model was in evaluation mode
    return out


def evaluate_grad_left_off(model, loss_fn, loader):
    """Switches autograd off for good: every later backward() in the session fails."""
    torch.set_grad_enabled(False)
    was_training = model.training
    model.eval()
    total, correct, count = 0.0, 0, 0
    for xb, yb in loader:
        logits = model(xb)
        total += loss_fn(logits, yb).item() * len(yb)
        correct += (logits.argmax(dim=1) == yb).sum().item()
        count += len(yb)
    model.train(was_training)
    return total / count, correct / count


# --- Exercise 5: the debugged training epoch -----------------------------------------


def epoch_ok(model, loss_fn, optimizer, loader, *, train_mode=True, zero_grad=True,
             softmax_dim=None, item=True, weighted=True, zero_after_backward=False,
             to_number=None):
    if train_mode:
        model.train()
    total, count, losses = 0.0, 0, []
    for xb, yb in loader:
        if zero_grad and not zero_after_backward:
            optimizer.zero_grad()
        logits = model(xb)  # (batch, C)
        if softmax_dim is not None:
            logits = torch.log(torch.softmax(logits, dim=softmax_dim))
        loss = loss_fn(logits, yb)
        loss.backward()
        if zero_after_backward:
            optimizer.zero_grad()
        optimizer.step()
        losses.append(loss.item())
        total = total + (loss.item() if item else loss) * len(yb)
        count += len(yb)
    mean = total / count if weighted else sum(losses) / len(losses)
    return to_number(mean) if to_number is not None else mean


def epoch_model_zero_grad_and_log_softmax(model, loss_fn, optimizer, loader):
    """model.zero_grad() instead of the optimiser's, and log-probabilities over the
    classes, which cross-entropy accepts unchanged: both are fine."""
    model.train()
    total = 0.0
    for xb, yb in loader:
        model.zero_grad(set_to_none=False)
        loss = loss_fn(torch.log_softmax(model(xb), dim=1), yb)
        loss.backward()
        optimizer.step()
        total += loss.detach().item() * xb.shape[0]
    return total / len(loader.dataset)


def quietly(convert):
    """``convert`` without PyTorch's warning about a tensor that requires a gradient
    (the tests turn warnings into errors; the check must name the mistake itself)."""
    def converted(value):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return convert(value)
    return converted


def epoch_zero_after_step(model, loss_fn, optimizer, loader):
    """Clears the gradients after each step instead of before each backward: the same
    steps when the gradients start cleared."""
    model.train()
    total = 0.0
    for xb, yb in loader:
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        total += loss.item() * len(yb)
    return total / len(loader.dataset)


def epoch_detached(model, loss_fn, optimizer, loader):
    """Adds up detached loss tensors (no graph), a number at the end: also fine."""
    model.train()
    total = torch.zeros(())
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.detach() * len(yb)
    return (total / len(loader.dataset)).item()


def epoch_counts_first(model, loss_fn, optimizer, loader):
    """Reads the loader once to count the samples, then trains."""
    n = sum(len(yb) for _, yb in loader)
    model.train()
    total = 0.0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(yb)
    return total / n


CORRECT = {
    "iterations_per_epoch": {"reference": iterations_ok, "numpy integers": iterations_numpy,
                             "divmod": iterations_remainder,
                             "len of a DataLoader": iterations_loader},
    "epoch_batches": {"reference": batches_ok, "seeded DataLoader": batches_loader,
                      "DataLoader with a seeded sampler": batches_loader_sampler,
                      "fork_rng": batches_forked},
    "batch_gradient_error": {"reference": error_ok, "sample variance": error_sample_variance,
                             "enumeration": error_by_enumeration},
    "evaluate_loader": {"reference": evaluate_ok, "inference_mode": evaluate_inference_mode,
                        "logits of each batch, joined": evaluate_joined_logits},
    "train_one_epoch": {"reference": epoch_ok,
                        "model.zero_grad and log_softmax": epoch_model_zero_grad_and_log_softmax,
                        "detached loss tensors": epoch_detached,
                        "log of the softmax over dim=1 (the minimal fix)": lambda *a: epoch_ok(
                            *a, softmax_dim=1),
                        "zero_grad after step": epoch_zero_after_step,
                        "counts the samples first": epoch_counts_first},
}

MUTANTS = {
    "iterations_per_epoch": {
        "always floor": lambda n, b, drop_last: n // b,
        "ignores drop_last": lambda n, b, drop_last: math.ceil(n / b),
        "a float": lambda n, b, drop_last: n / b,
        "one too many": lambda n, b, drop_last: n // b + 1,
        "a bool for n < batch_size": lambda n, b, drop_last: (
            n >= b if n < b else iterations_ok(n, b, drop_last)),
    },
    "epoch_batches": {
        "seed + epoch, the first edition's rule": lambda n, b, seed, epoch: batches_ok(
            n, b, seed, epoch, rule=lambda s, e: s + e),
        "ignores the epoch": lambda n, b, seed, epoch: batches_ok(n, b, seed, 0),
        "one generator seeded with seed, advanced each epoch": batches_one_generator,
        "no shuffle": lambda n, b, seed, epoch: list(torch.arange(n).split(b)),
        "global random state": lambda n, b, seed, epoch: list(torch.randperm(n).split(b)),
        "seeds the global random state": batches_seeding_global,
        "loader drawing its worker seed from the global state":
            batches_loader_global_worker_seed,
        "one sample per batch": lambda n, b, seed, epoch: batches_ok(n, 1, seed, epoch),
        "drops the last batch": lambda n, b, seed, epoch: [
            x for x in batches_ok(n, b, seed, epoch) if len(x) == b] or
            batches_ok(n, b, seed, epoch)[:1],
    },
    "batch_gradient_error": {
        "with replacement (no correction)": lambda G, b: error_ok(G, b, correction="none"),
        "correction (N - B) / N": lambda G, b: error_ok(G, b, correction="over n"),
        "squared error": lambda G, b: error_ok(G, b, root=False),
        "not relative": lambda G, b: error_ok(G, b, relative=False),
    },
    "evaluate_loader": {
        "forgets eval()": lambda *a: evaluate_ok(*a, eval_mode=False),
        "joins the batches, then train.evaluate": evaluate_joined_batches,
        "records a graph": lambda *a: evaluate_ok(*a, no_grad=False),
        "leaves the model in evaluation mode": lambda *a: evaluate_ok(*a, restore=False),
        "always switches to training mode after": evaluate_always_train_after,
        "unweighted mean of batch losses": lambda *a: evaluate_ok(*a, weighted=False),
        "argmax over the batch": lambda *a: evaluate_ok(*a, dim=0),
        "returns tensors": lambda *a: evaluate_ok(*a, as_tensor=True),
        "leaves autograd switched off": evaluate_grad_left_off,
    },
    "train_one_epoch": {
        "forgets model.train()": lambda *a: epoch_ok(*a, train_mode=False),
        "forgets zero_grad": lambda *a: epoch_ok(*a, zero_grad=False),
        "softmax over the batch": lambda *a: epoch_ok(*a, softmax_dim=0),
        "accumulates the loss tensor": lambda *a: epoch_ok(*a, item=False),
        "accumulates the loss tensor, .item() at the end": lambda *a: epoch_ok(
            *a, item=False, to_number=quietly(lambda t: t.item())),
        "accumulates the loss tensor, float() at the end": lambda *a: epoch_ok(
            *a, item=False, to_number=quietly(float)),
        "unweighted mean of batch losses": lambda *a: epoch_ok(*a, weighted=False),
        "zero_grad between backward and step": lambda *a: epoch_ok(
            *a, zero_after_backward=True),
        "the buggy loop as given": lambda *a: epoch_ok(
            *a, train_mode=False, zero_grad=False, softmax_dim=0, item=False),
    },
}
