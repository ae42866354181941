"""The one training loop of the book: ``fit``, plus ``evaluate`` and ``predict``.

Chapter 6 writes this loop by hand first; from then on every chapter calls
``fit``. One epoch is one pass over the training set in shuffled mini-batches:

    for each batch: zero_grad -> forward -> loss -> backward -> step
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping
from pathlib import Path

import torch
from tqdm.auto import tqdm

from . import _validate, utils

Metric = Callable[[torch.Tensor, torch.Tensor], float]


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of correct predictions.

    ``logits`` (n,) or (n, 1) is read as binary (positive when > 0);
    ``logits`` (n, C) with C > 1 as multi-class (argmax). ``y`` (n,) holds
    class indices.
    """
    logits = _validate.tensor(logits, "logits")
    y = _validate.tensor(y, "y", ndim=1)
    _validate.same_length(logits=logits, y=y)
    if logits.ndim == 2 and logits.shape[1] > 1:
        predicted = logits.argmax(dim=1)
    else:
        predicted = (logits.reshape(-1) > 0).long()
    return (predicted == y.long()).float().mean().item()


def _check_pair(data, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise TypeError(f"{name}: expected a pair (X, y), received {type(data).__name__}")
    X = _validate.floating(data[0], f"{name}[0] (X)")
    y = _validate.tensor(data[1], f"{name}[1] (y)")
    _validate.same_length(X=X, y=y)
    return X, y


def _batches(n: int, batch_size: int, generator: torch.Generator | None):
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    return order.split(batch_size)


def predict(model: torch.nn.Module, X, *, batch_size: int = 1024) -> torch.Tensor:
    """Model outputs for ``X`` (n, ...) in evaluation mode, without gradients, on the CPU."""
    X = _validate.floating(X, "X")
    batch_size = _validate.positive_int(batch_size, "batch_size")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    with torch.no_grad():
        out = torch.cat([model(X[i].to(device)).cpu() for i in _batches(len(X), batch_size, None)])
    model.train(was_training)
    return out


def evaluate(model, loss_fn, data, *, metrics: Mapping[str, Metric] | None = None,
             batch_size: int = 1024) -> dict[str, float]:
    """Loss and metrics of ``model`` on ``data = (X, y)``; returns ``{"loss": ..., name: ...}``."""
    X, y = _check_pair(data, "data")
    logits = predict(model, X, batch_size=batch_size)
    result = {"loss": loss_fn(logits, y).item()}
    for name, metric in (metrics or {}).items():
        result[name] = float(metric(logits, y))
    return result


def fit(model: torch.nn.Module, loss_fn: Callable, optimizer: torch.optim.Optimizer, train,
        val=None, *, epochs: int = 10, batch_size: int = 32, seed: int = 0,
        metrics: Mapping[str, Metric] | None = None, patience: int | None = None,
        scheduler=None, checkpoint: str | Path | None = None, resume: bool = False,
        progress: bool | None = None) -> dict[str, list[float]]:
    """Train ``model`` on ``train = (X, y)`` and return the history of each epoch.

    Shapes: ``X`` (n, d) float, ``y`` (n,) as ``loss_fn`` expects it
    (class indices for cross-entropy, floats for MSE or BCE).

    - Mini-batches are reshuffled each epoch with a generator seeded by
      ``seed + epoch``, so a run depends only on its arguments.
    - ``val = (X_val, y_val)`` adds ``val_loss`` and ``val_<metric>`` entries.
    - ``patience``: stop when ``val_loss`` has not improved for that many
      epochs, then restore the weights of the best epoch.
    - ``scheduler``: stepped once per epoch.
    - ``checkpoint``: a file written after every epoch with the model,
      optimiser, scheduler, history and random state. With ``resume=True``
      training continues from it, and ends with exactly the weights of an
      uninterrupted run.
    - ``progress``: a tqdm bar over epochs; off by default when
      ``utils.is_static()``.

    Returns a dict of lists, one value per epoch: ``train_loss``,
    ``train_<metric>`` and, with ``val``, ``val_loss`` and ``val_<metric>``.
    """
    X, y = _check_pair(train, "train")
    val = _check_pair(val, "val") if val is not None else None
    epochs = _validate.positive_int(epochs, "epochs")
    batch_size = _validate.positive_int(batch_size, "batch_size")
    if patience is not None:
        patience = _validate.positive_int(patience, "patience")
        if val is None:
            raise ValueError("patience: early stopping needs val=(X_val, y_val), received None")
    if resume and checkpoint is None:
        raise ValueError("resume: expected a checkpoint path to resume from, received None")
    metrics = dict(metrics or {})
    state = _State(history={}, epoch=0)
    if resume and Path(checkpoint).exists():
        state = _load(checkpoint, model, optimizer, scheduler)
    show = (not utils.is_static()) if progress is None else progress
    device = next(model.parameters()).device
    for epoch in tqdm(range(state.epoch, epochs), initial=state.epoch, total=epochs,
                      disable=not show, desc="epochs"):
        generator = torch.Generator().manual_seed(seed + epoch)
        row = _train_epoch(model, loss_fn, optimizer, X, y, batch_size, generator, metrics, device)
        if val is not None:
            scores = evaluate(model, loss_fn, val, metrics=metrics)
            row |= {f"val_{k}": v for k, v in scores.items()}
        if scheduler is not None:
            scheduler.step()
        for key, value in row.items():
            state.history.setdefault(key, []).append(value)
        state.epoch = epoch + 1
        stop = patience is not None and state.track(model, row["val_loss"], patience)
        if checkpoint is not None:
            _save(checkpoint, state, model, optimizer, scheduler)
        if stop:
            break
    if patience is not None and state.best_weights is not None:
        model.load_state_dict(state.best_weights)
    return state.history


def _train_epoch(model, loss_fn, optimizer, X, y, batch_size, generator, metrics, device):
    model.train()
    totals = {"loss": 0.0} | {name: 0.0 for name in metrics}
    for idx in _batches(len(X), batch_size, generator):
        xb, yb = X[idx].to(device), y[idx].to(device)
        optimizer.zero_grad()
        logits = model(xb)
        loss = loss_fn(logits, yb)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"loss became {loss.item()}: lower the learning rate")
        loss.backward()
        optimizer.step()
        totals["loss"] += loss.item() * len(idx)
        for name, metric in metrics.items():
            totals[name] += float(metric(logits.detach().cpu(), yb.cpu())) * len(idx)
    return {f"train_{k}": v / len(X) for k, v in totals.items()}


class _State:
    """What a checkpoint holds besides the model and optimiser."""

    def __init__(self, history, epoch, best_loss=math.inf, wait=0, best_weights=None):
        self.history, self.epoch = history, epoch
        self.best_loss, self.wait, self.best_weights = best_loss, wait, best_weights

    def track(self, model, val_loss: float, patience: int) -> bool:
        """Record ``val_loss``; return True when patience has run out."""
        if val_loss < self.best_loss:
            self.best_loss, self.wait = val_loss, 0
            self.best_weights = copy.deepcopy(model.state_dict())
            return False
        self.wait += 1
        return self.wait >= patience


def _save(path, state, model, optimizer, scheduler):
    torch.save({
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "history": state.history,
        "epoch": state.epoch,
        "best_loss": state.best_loss,
        "wait": state.wait,
        "best_weights": state.best_weights,
        "rng": torch.get_rng_state(),
    }, path)


def _load(path, model, optimizer, scheduler) -> _State:
    saved = torch.load(path, weights_only=True)
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    if scheduler is not None and saved["scheduler"] is not None:
        scheduler.load_state_dict(saved["scheduler"])
    torch.set_rng_state(saved["rng"])
    return _State(saved["history"], saved["epoch"], saved["best_loss"], saved["wait"],
                  saved["best_weights"])
