"""Checks for Chapter 6, "Training: epochs, mini-batches and the training loop".

Conventions of the chapter: epochs and their shuffles follow ``train.fit``
(a ``torch.Generator`` seeded with ``seed + epoch``, ``torch.randperm``, then
``.split(batch_size)``); epochs are counted from 1 when reported; a checkpoint
is a dict ``{"model": ..., "optimizer": ..., "epoch": ...}`` of state dicts.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import torch

from ._common import callable_, ok, require, run

__all__ = ["iterations_per_epoch", "epoch_batches", "train_one_epoch",
           "early_stopping_epochs", "restore_checkpoint"]


def iterations_per_epoch(fn) -> None:
    """Check ``iterations_per_epoch(n, batch_size, drop_last)`` -> an int."""
    callable_(fn)
    cases = [(540, 32, False), (540, 32, True), (64, 64, False), (64, 64, True), (10, 64, False),
             (10, 64, True), (1, 1, False), (1000, 7, True), (1000, 7, False)]
    for n, batch, drop_last in cases:
        expected = n // batch if drop_last else math.ceil(n / batch)
        out = run(fn, n, batch, drop_last, what=f"n = {n}, batch_size = {batch}, "
                                                f"drop_last = {drop_last}")
        require(isinstance(out, int) and not isinstance(out, bool),
                f"return a whole number (an int), not a {type(out).__name__}.")
        require(out == expected, f"for n = {n}, batch_size = {batch}, drop_last = {drop_last}: "
                "count the full batches, then decide what happens to the remainder.")
    ok("iterations_per_epoch: correct with and without drop_last, including n < batch_size.")


def _batches(n, batch_size, seed, epoch):
    generator = torch.Generator().manual_seed(seed + epoch)
    return list(torch.randperm(n, generator=generator).split(batch_size))


def epoch_batches(fn) -> None:
    """Check ``epoch_batches(n, batch_size, seed, epoch)`` -> a list of index tensors."""
    callable_(fn)
    for n, batch, seed, epoch in [(10, 4, 0, 0), (10, 4, 0, 1), (10, 4, 3, 1), (33, 8, 7, 5),
                                  (5, 5, 1, 2)]:
        torch.manual_seed(1234)  # the global state must not matter
        out = run(fn, n, batch, seed, epoch, what=f"n = {n}, batch_size = {batch}, "
                                                  f"seed = {seed}, epoch = {epoch}")
        require(isinstance(out, (list, tuple)) and all(isinstance(b, torch.Tensor) for b in out),
                "return a list of index tensors, one per batch.")
        expected = _batches(n, batch, seed, epoch)
        require([len(b) for b in out] == [len(b) for b in expected],
                f"cut the permutation into batches of {batch}; only the last may be smaller.")
        require(all(torch.equal(b.long(), e) for b, e in zip(out, expected)),
                "shuffle with your own torch.Generator seeded with seed + epoch, as train.fit "
                "does, so that the global random state and earlier epochs do not matter.")
    ok("epoch_batches: the same batches as train.fit for 5 settings.")


def _toy(seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
    gen = torch.Generator().manual_seed(seed + 100)
    X = torch.randn(23, 3, generator=gen)  # 23 rows: the last batch is smaller
    y = torch.randint(0, 2, (23,), generator=gen)
    return model, X, y


def _reference_epoch(model, loss_fn, optimizer, X, y, batch_size, generator):
    model.train()
    total = 0.0
    for idx in torch.randperm(len(X), generator=generator).split(batch_size):
        optimizer.zero_grad()
        loss = loss_fn(model(X[idx]), y[idx])
        loss.backward()
        optimizer.step()
        total += loss.item() * len(idx)
    return total / len(X)


def train_one_epoch(fn) -> None:
    """Check ``train_one_epoch(model, loss_fn, optimizer, X, y, batch_size, generator)``.

    It runs one epoch of the training loop and returns the mean training loss.
    """
    callable_(fn)
    loss_fn = torch.nn.CrossEntropyLoss()
    for batch, momentum in [(5, 0.0), (8, 0.9), (23, 0.0)]:
        model, X, y = _toy()
        ref, _, _ = _toy()
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=momentum)
        ref_opt = torch.optim.SGD(ref.parameters(), lr=0.1, momentum=momentum)
        expected = _reference_epoch(ref, loss_fn, ref_opt, X, y, batch,
                                    torch.Generator().manual_seed(3))
        out = run(fn, model, loss_fn, opt, X, y, batch, torch.Generator().manual_seed(3),
                  what=f"23 samples in batches of {batch}")
        same = all(torch.allclose(p, q, atol=1e-6) for p, q in zip(model.parameters(),
                                                                   ref.parameters()))
        require(same, f"after one epoch in batches of {batch} the weights differ from the "
                "reference: shuffle with the generator given, then for each batch clear the "
                "gradients, forward, loss, backward and step, in that order.")
        number = isinstance(out, (float, int)) or (isinstance(out, torch.Tensor)
                                                    and out.numel() == 1)
        require(number, f"return the mean loss as a float, not a {type(out).__name__}.")
        require(math.isclose(float(out), expected, rel_tol=1e-5),
                "return the mean loss over all samples: weight each batch's loss by the "
                "batch's size, since the last batch may be smaller.")
    ok("train_one_epoch: same weights and mean loss as the reference, with and without momentum.")


def _stopping(val_losses, patience):
    best, best_epoch, wait = math.inf, 0, 0
    for epoch, loss in enumerate(val_losses, start=1):
        if loss < best:
            best, best_epoch, wait = loss, epoch, 0
        else:
            wait += 1
            if wait >= patience:
                return epoch, best_epoch
    return len(val_losses), best_epoch


def early_stopping_epochs(fn) -> None:
    """Check ``early_stopping_epochs(val_losses, patience)`` -> ``(stop_epoch, best_epoch)``.

    Epochs count from 1; the rule is ``train.fit``'s: stop when ``patience`` epochs in a row
    have not improved strictly on the best loss so far.
    """
    callable_(fn)
    cases = [([1.0, 0.8, 0.6, 0.5], 2), ([1.0, 0.5, 0.6, 0.7, 0.8, 0.9], 3),
             ([1.0, 0.5, 0.5, 0.5, 0.4], 2), ([0.9, 0.7, 0.8, 0.6, 0.65, 0.7, 0.75, 0.5], 3),
             ([0.3, 0.4], 1), ([0.5], 4)]
    for losses, patience in cases:
        out = run(fn, list(losses), patience, what=f"val_losses = {losses}, patience = {patience}")
        require(isinstance(out, tuple) and len(out) == 2, "return a pair (stop_epoch, best_epoch).")
        expected = _stopping(losses, patience)
        require(tuple(int(v) for v in out) == expected,
                f"for val_losses = {losses} and patience = {patience}: count epochs from 1, "
                "count only strict improvements, and stop as soon as the epochs without "
                "improvement reach the patience.")
    ok("early_stopping_epochs: correct on 6 cases, including ties and runs that never stop.")


def _checkpoint_setup(folder):
    model, X, y = _toy(seed=1)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    loss_fn = torch.nn.CrossEntropyLoss()
    for _ in range(3):
        opt.zero_grad()
        loss_fn(model(X), y).backward()
        opt.step()
    path = Path(folder) / "checkpoint.pt"
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, path)
    return model, opt, path, X, y, loss_fn


def restore_checkpoint(fn) -> None:
    """Check ``restore_checkpoint(path, model, optimizer)`` -> the saved epoch.

    The file holds ``{"model": state_dict, "optimizer": state_dict, "epoch": int}``.
    """
    callable_(fn)
    with tempfile.TemporaryDirectory() as folder:
        saved, saved_opt, path, X, y, loss_fn = _checkpoint_setup(folder)
        fresh, _, _ = _toy(seed=2)  # other initial weights
        fresh_opt = torch.optim.Adam(fresh.parameters(), lr=0.05)
        out = run(fn, path, fresh, fresh_opt, what="a checkpoint saved after 3 Adam steps")
        require(isinstance(out, int) and out == 3, "return the epoch stored in the checkpoint.")
        require(all(torch.equal(p, q) for p, q in zip(saved.parameters(), fresh.parameters())),
                "load the saved model state into the model.")
        for model, opt in ((saved, saved_opt), (fresh, fresh_opt)):
            opt.zero_grad()
            loss_fn(model(X), y).backward()
            opt.step()
        require(all(torch.equal(p, q) for p, q in zip(saved.parameters(), fresh.parameters())),
                "the next step differs from the uninterrupted run's: restore the optimiser's "
                "state too (Adam keeps running averages for every parameter).")
    ok("restore_checkpoint: model, optimiser and epoch restored; the next step is identical.")
