"""The one training loop of the book: ``fit``, plus ``evaluate`` and ``predict``.

Chapter 6 writes this loop by hand first; from then on every chapter calls
``fit``. One epoch is one pass over the training set in shuffled mini-batches:

    for each batch: zero_grad -> forward -> loss -> backward -> step

What is reproducible: every random choice ``fit`` makes in epoch ``e`` (the order of
the batches, and dropout or any other randomness drawn from PyTorch's generators inside
the model or the loss) comes from generators seeded with ``epoch_seed(seed, e)``. So
the same model (same initial weights), data and arguments give the same weights,
whatever the global random state was, and different seeds share no epoch's order. A run
resumed from a checkpoint ends with exactly the weights of an uninterrupted run, on
the CPU and on CUDA. What is not: the same arguments on another device or PyTorch
version, or with another number of threads where a model's sums depend on it; CUDA
kernels that are not deterministic (``torch.use_deterministic_algorithms`` covers part
of that); randomness drawn from NumPy or Python's ``random`` inside the model; and the
initial weights, which the caller creates before ``fit``.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
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


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of epoch ``epoch`` (from 0) of a run with seed ``seed``: a 63-bit int.

    Derived from the pair with NumPy's ``SeedSequence``, so that runs with different seeds
    share no epoch (``seed + epoch`` would make seed 1 at epoch 0 equal seed 0 at epoch 1).
    """
    seed = _validate.positive_int(seed, "seed", minimum=0)
    epoch = _validate.positive_int(epoch, "epoch", minimum=0)
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1, np.uint64)[0] >> 1)


def _parameters_device(model: torch.nn.Module) -> torch.device:
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, received {type(model).__name__}")
    first = next(model.parameters(), None)
    if first is None:
        raise ValueError("model: expected a model with parameters to train, received one "
                         "with none (did you forget to add its layers?)")
    return first.device


@contextlib.contextmanager
def _evaluation(model: torch.nn.Module):
    """Evaluation mode and no gradients inside; the model's mode restored afterwards."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        model.train(was_training)


def predict(model: torch.nn.Module, X, *, batch_size: int = 1024) -> torch.Tensor:
    """Model outputs for ``X`` (n, ...) in evaluation mode, without gradients, on the CPU."""
    X = _validate.floating(X, "X")
    batch_size = _validate.positive_int(batch_size, "batch_size")
    device = _parameters_device(model)
    with _evaluation(model):
        out = torch.cat([model(X[i].to(device)).cpu() for i in _batches(len(X), batch_size, None)])
    return out


def evaluate(model, loss_fn, data, *, metrics: Mapping[str, Metric] | None = None,
             batch_size: int = 1024) -> dict[str, float]:
    """Loss and metrics of ``model`` on ``data = (X, y)``; returns ``{"loss": ..., name: ...}``.

    The loss is computed on the model's device, batch by batch, and averaged over the
    samples (exact for losses that average over the batch, PyTorch's default); the metrics
    on the CPU from all the outputs.
    """
    X, y = _check_pair(data, "data")
    batch_size = _validate.positive_int(batch_size, "batch_size")
    device = _parameters_device(model)
    total, outputs = 0.0, []
    with _evaluation(model):
        for idx in _batches(len(X), batch_size, None):
            logits = model(X[idx].to(device))
            total += loss_fn(logits, y[idx].to(device)).item() * len(idx)
            outputs.append(logits.cpu())
    logits = torch.cat(outputs)
    result = {"loss": total / len(X)}
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

    - Each epoch draws its batch order, and the randomness inside the model (dropout),
      from generators seeded with ``epoch_seed(seed, epoch)``; the global random state
      is neither used nor changed (see the module's docstring).
    - ``val = (X_val, y_val)`` adds ``val_loss`` and ``val_<metric>`` entries.
    - ``patience``: stop when ``val_loss`` has not improved for that many
      epochs, then restore the weights of the best epoch.
    - ``scheduler``: stepped once per epoch, so a schedule meant to be stepped every
      batch (``OneCycleLR``, a warm-up) must count in epochs here (e.g.
      ``total_steps=epochs``) or needs a loop of your own; a ``ReduceLROnPlateau`` is
      stepped with ``val_loss`` (``train_loss`` without ``val``).
    - ``checkpoint``: a file written (atomically) after every epoch with the model,
      optimiser, scheduler and history; its folder must exist. With ``resume=True``
      training continues from it, and ends with exactly the weights of an
      uninterrupted run; a run that had already stopped early trains no further.
    - ``progress``: a bar over epochs showing the latest losses; off by default when
      ``utils.is_static()``. Pass ``progress=False`` when a cell trains many models.

    Errors in the arguments (a model without parameters, inputs whose width does not
    fit the model, a checkpoint folder that does not exist, a last batch of one sample
    for a model with batch normalisation) are raised before training.

    Returns a dict of lists, one value per epoch: ``train_loss``,
    ``train_<metric>`` and, with ``val``, ``val_loss`` and ``val_<metric>``.
    """
    X, y = _check_pair(train, "train")
    val = _check_pair(val, "val") if val is not None else None
    epochs = _validate.positive_int(epochs, "epochs")
    batch_size = _validate.positive_int(batch_size, "batch_size")
    seed = _validate.positive_int(seed, "seed", minimum=0)
    device = _parameters_device(model)
    if patience is not None:
        patience = _validate.positive_int(patience, "patience")
        if val is None:
            raise ValueError("patience: early stopping needs val=(X_val, y_val), received None")
    if resume and checkpoint is None:
        raise ValueError("resume: expected a checkpoint path to resume from, received None")
    if checkpoint is not None and not Path(checkpoint).parent.is_dir():
        raise ValueError(f"checkpoint: expected a path in an existing folder, received "
                         f"{str(checkpoint)!r} (create {str(Path(checkpoint).parent)!r} first)")
    _check_fits(model, X, "train", device)
    _check_last_batch(model, len(X), batch_size)
    if val is not None:
        _check_fits(model, val[0], "val", device)
    metrics = dict(metrics or {})
    state = _State(history={}, epoch=0)
    if resume and Path(checkpoint).exists():
        state = _load(checkpoint, model, optimizer, scheduler, device)
    show = (not utils.is_static()) if progress is None else progress
    start = epochs if state.stopped else state.epoch
    with _Progress(state.epoch, epochs, show and not state.stopped) as bar:
        for epoch in range(start, epochs):
            with _seeded(epoch_seed(seed, epoch), device) as generator:
                row = _train_epoch(model, loss_fn, optimizer, X, y, batch_size, generator,
                                   metrics, device)
            if val is not None:
                scores = evaluate(model, loss_fn, val, metrics=metrics)
                row |= {f"val_{k}": v for k, v in scores.items()}
            _step_scheduler(scheduler, row)
            for key, value in row.items():
                state.history.setdefault(key, []).append(value)
            state.epoch = epoch + 1
            bar.update(row)
            stop = patience is not None and state.track(model, row["val_loss"], patience)
            state.stopped = stop
            if checkpoint is not None:
                _save(checkpoint, state, model, optimizer, scheduler)
            if stop:
                break
    if patience is not None and state.best_weights is not None:
        model.load_state_dict(state.best_weights)
    return state.history


def _check_fits(model, X, name: str, device) -> None:
    """Run one row of ``X`` through ``model``; a width that does not fit is a clear error."""
    try:
        with _evaluation(model):
            model(X[:1].to(device))
    except (RuntimeError, ValueError, IndexError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ValueError(f"{name}: the model cannot take these inputs of shape "
                         f"{tuple(X.shape)} (one row is {tuple(X.shape[1:])}): {first}") from None


def _check_last_batch(model, n: int, batch_size: int) -> None:
    norms = (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.BatchNorm3d)
    if n % batch_size == 1 and any(isinstance(m, norms) for m in model.modules()):
        raise ValueError(f"batch_size: {n} training rows in batches of {batch_size} leave a "
                         "last batch of one sample, which batch normalisation cannot "
                         "normalise; choose a batch_size for which n % batch_size != 1")


@contextlib.contextmanager
def _seeded(seed: int, device: torch.device):
    """A generator for the batch order, and the generators the model draws from (the
    CPU's, and the model's own CUDA or MPS device's) seeded alike; exactly those are
    forked, so the global state is as it was afterwards."""
    devices, device_type = [], "cuda"
    if device.type == "cuda":
        devices = [device.index if device.index is not None else torch.cuda.current_device()]
    elif device.type == "mps":
        devices, device_type = [0], "mps"
    with torch.random.fork_rng(devices=devices, device_type=device_type):
        torch.random.default_generator.manual_seed(seed)
        if device.type == "cuda":
            with torch.cuda.device(devices[0]):
                torch.cuda.manual_seed(seed)
        elif device.type == "mps":
            torch.mps.manual_seed(seed)
        yield torch.Generator().manual_seed(seed)


def _step_scheduler(scheduler, row) -> None:
    if scheduler is None:
        return
    if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
        scheduler.step(row.get("val_loss", row["train_loss"]))
    else:
        scheduler.step()


class _Progress:
    """A bar over epochs that shows the latest losses, and that ends where training
    ended: an early stop closes it as complete at the epoch it stopped."""

    def __init__(self, start: int, total: int, show: bool):
        self.bar = tqdm(total=total, initial=start, disable=not show, desc="epochs",
                        leave=True) if show else None

    def __enter__(self):
        return self

    def update(self, row) -> None:
        if self.bar is None:
            return
        self.bar.set_postfix({k: f"{v:.4f}" for k, v in row.items() if k.endswith("loss")},
                             refresh=False)
        self.bar.update(1)

    def __exit__(self, kind, error, traceback):
        if self.bar is None:
            return False
        if error is None and self.bar.n < self.bar.total:
            self.bar.total = self.bar.n  # stopped early: finished, not failed
            self.bar.refresh()
        self.bar.close()
        return False


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

    def __init__(self, history, epoch, best_loss=math.inf, wait=0, best_weights=None,
                 stopped=False):
        self.history, self.epoch, self.stopped = history, epoch, stopped
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
    """Everything a resumed run needs. No random state: each epoch reseeds its generators
    from ``epoch_seed``, so the state at an epoch's start is known without saving it.
    Written to a temporary file first and then renamed, so that an interruption never
    leaves a half-written checkpoint."""
    temporary = Path(f"{path}.tmp")
    torch.save({
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "history": state.history,
        "epoch": state.epoch,
        "best_loss": state.best_loss,
        "wait": state.wait,
        "best_weights": state.best_weights,
        "stopped": state.stopped,
    }, temporary)
    os.replace(temporary, path)


def _load(path, model, optimizer, scheduler, device) -> _State:
    saved = torch.load(path, weights_only=True, map_location=device)
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    if scheduler is not None and saved["scheduler"] is not None:
        scheduler.load_state_dict(saved["scheduler"])
    return _State(saved["history"], saved["epoch"], saved["best_loss"], saved["wait"],
                  saved["best_weights"], saved.get("stopped", False))
