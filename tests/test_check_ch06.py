"""Chapter 6 checks: each accepts a correct answer and rejects plausible wrong ones."""

import math

import torch


def iterations_ok(n, batch_size, drop_last):
    return n // batch_size if drop_last else math.ceil(n / batch_size)


def batches_ok(n, batch_size, seed, epoch):
    generator = torch.Generator().manual_seed(seed + epoch)
    return list(torch.randperm(n, generator=generator).split(batch_size))


def epoch_ok(model, loss_fn, optimizer, X, y, batch_size, generator, *, zero_grad=True,
             weighted=True, shuffle=True, step_first=False):
    model.train()
    order = torch.randperm(len(X), generator=generator) if shuffle else torch.arange(len(X))
    losses, sizes = [], []
    for idx in order.split(batch_size):
        if zero_grad:
            optimizer.zero_grad()
        loss = loss_fn(model(X[idx]), y[idx])
        if step_first:
            optimizer.step()
        loss.backward()
        if not step_first:
            optimizer.step()
        losses.append(loss.item())
        sizes.append(len(idx))
    if weighted:
        return sum(v * s for v, s in zip(losses, sizes)) / len(X)
    return sum(losses) / len(losses)


def stopping_ok(val_losses, patience, *, strict=True, offset=0, one_based=True):
    best, best_epoch, wait = math.inf, 0, 0
    for epoch, loss in enumerate(val_losses, start=1 if one_based else 0):
        if loss < best or (not strict and loss <= best):
            best, best_epoch, wait = loss, epoch, 0
        else:
            wait += 1
            if wait >= patience + offset:
                return epoch, best_epoch
    return len(val_losses) - (0 if one_based else 1), best_epoch


def restore_ok(path, model, optimizer, *, load_model=True, load_optimizer=True, shift=0):
    saved = torch.load(path, weights_only=True)
    if load_model:
        model.load_state_dict(saved["model"])
    if load_optimizer:
        optimizer.load_state_dict(saved["optimizer"])
    return saved["epoch"] + shift


CORRECT = {
    "iterations_per_epoch": iterations_ok,
    "epoch_batches": batches_ok,
    "train_one_epoch": epoch_ok,
    "early_stopping_epochs": stopping_ok,
    "restore_checkpoint": restore_ok,
}

MUTANTS = {
    "iterations_per_epoch": {
        "always floor": lambda n, b, drop_last: n // b,
        "ignores drop_last": lambda n, b, drop_last: math.ceil(n / b),
        "a float": lambda n, b, drop_last: n / b,
        "one too many": lambda n, b, drop_last: n // b + 1,
    },
    "epoch_batches": {
        "ignores the epoch": lambda n, b, seed, epoch: batches_ok(n, b, seed, 0),
        "no shuffle": lambda n, b, seed, epoch: list(torch.arange(n).split(b)),
        "global random state": lambda n, b, seed, epoch: list(torch.randperm(n).split(b)),
        "one sample per batch": lambda n, b, seed, epoch: batches_ok(n, 1, seed, epoch),
    },
    "train_one_epoch": {
        "forgets zero_grad": lambda *a: epoch_ok(*a, zero_grad=False),
        "unweighted mean of batch losses": lambda *a: epoch_ok(*a, weighted=False),
        "no shuffle": lambda *a: epoch_ok(*a, shuffle=False),
        "steps before backward": lambda *a: epoch_ok(*a, step_first=True),
    },
    "early_stopping_epochs": {
        "ties count as improvements": lambda v, p: stopping_ok(v, p, strict=False),
        "stops one epoch late": lambda v, p: stopping_ok(v, p, offset=1),
        "counts epochs from 0": lambda v, p: stopping_ok(v, p, one_based=False),
        "never stops early": lambda v, p: (len(v), v.index(min(v)) + 1),
    },
    "restore_checkpoint": {
        "forgets the optimiser": lambda *a: restore_ok(*a, load_optimizer=False),
        "forgets the model": lambda *a: restore_ok(*a, load_model=False),
        "returns the next epoch": lambda *a: restore_ok(*a, shift=1),
    },
}

# Each correct answer as its only variant, until the chapter lists its variants.
CORRECT = {name: {"reference": fn} for name, fn in CORRECT.items()}
