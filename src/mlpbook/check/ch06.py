"""Checks for Chapter 6, "Training: epochs, mini-batches and the training loop".

Conventions of the chapter: epoch ``e`` (from 0) of a run with seed ``seed`` is shuffled
by a ``torch.Generator`` seeded with ``train.epoch_seed(seed, e)``, as ``train.fit``
does; a mean loss over an epoch or a data set weights each batch's loss by its size; a
model is trained in training mode and evaluated in evaluation mode without a graph, and an
evaluation leaves the model in the mode it found it in.

The test models of the last two checks hold a dropout layer (Chapter 7), whose output
differs between the two modes, and a probe that records the mode and whether a graph is
being recorded at each forward pass. The last check also ties a token to each batch's loss
in the graph, so it sees whether a batch's graph outlives the batch (a sum of loss
tensors keeps them all alive), whatever the function returns.
"""

from __future__ import annotations

import itertools
import math
import numbers
import weakref

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from .. import train
from ._common import callable_, ok, require, run, whole_number

__all__ = ["iterations_per_epoch", "epoch_batches", "batch_gradient_error",
           "evaluate_loader", "train_one_epoch"]

F64 = torch.float64


# --- Exercise 1 -----------------------------------------------------------------------

def iterations_per_epoch(fn) -> None:
    """Check ``iterations_per_epoch(n, batch_size, drop_last)`` -> a whole number.

    The inputs are Python ints, so that ``len(DataLoader(range(n), ...))``, which refuses
    NumPy integers, is accepted like a formula; the answer may be a NumPy integer.
    """
    callable_(fn)
    cases = [(540, 32, False, 17), (540, 32, True, 16), (64, 64, False, 1),
             (64, 64, True, 1), (10, 64, False, 1), (10, 64, True, 0), (1, 1, False, 1),
             (1000, 7, True, 142), (1000, 7, False, 143), (100, 30, False, 4)]
    for n, batch, drop_last, expected in cases:
        case = f"n = {n}, batch_size = {batch}, drop_last = {drop_last}"
        out = run(fn, n, batch, drop_last, what=case,
                  hint="n and batch_size are whole numbers, drop_last a bool.")
        value = whole_number(out, "the number of iterations")
        if drop_last:
            require(value == expected, "with drop_last=True the last batch is skipped "
                    "when it is incomplete: count only the batches that are full.", case)
        else:
            require(value == expected, "without drop_last every sample is used: the "
                    "remainder, if there is one, makes one more, smaller batch.", case)
    ok("iterations_per_epoch: right with and without drop_last, n < batch_size too.")


# --- Exercise 2 -----------------------------------------------------------------------

def _index_batches(out) -> list[list[int]] | None:
    """``out`` as a list of lists of ints, or None when it is not a list of batches."""
    if not isinstance(out, (list, tuple)):
        return None
    batches = []
    for batch in out:
        if isinstance(batch, torch.Tensor) and batch.ndim == 1 and \
                not batch.is_floating_point():
            batches.append([int(i) for i in batch.tolist()])
        elif isinstance(batch, (list, tuple)) and all(
                isinstance(i, numbers.Integral) and not isinstance(i, bool) for i in batch):
            batches.append([int(i) for i in batch])
        else:
            return None
    return batches


def _permutation_batches(n, batch, seed) -> list[list[int]]:
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return [b.tolist() for b in order.split(batch)]


def _loader_batches(n, batch, seed) -> list[list[int]]:
    loader = DataLoader(range(n), batch_size=batch, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    return [b.tolist() for b in loader]


def _shuffles(n, batch, seed) -> list[list[list[int]]]:
    """The two accepted ways to shuffle with a generator seeded with ``seed``."""
    return [_permutation_batches(n, batch, seed), _loader_batches(n, batch, seed)]


def epoch_batches(fn) -> None:
    """Check ``epoch_batches(n, batch_size, seed, epoch)`` -> a list of index batches."""
    callable_(fn)
    cases = [(10, 4, 0, 0), (10, 4, 0, 1), (10, 4, 3, 1), (33, 8, 7, 5), (5, 5, 1, 2),
             (12, 5, 2, 3)]
    for n, batch, seed, epoch in cases:
        case = f"n = {n}, batch_size = {batch}, seed = {seed}, epoch = {epoch}"
        torch.manual_seed(1234)
        state = torch.get_rng_state()
        out = run(fn, n, batch, seed, epoch, what=case,
                  hint="n, batch_size, seed and epoch are whole numbers.")
        require(torch.equal(torch.get_rng_state(), state),
                "your function changed the global random state. Draw from a "
                "torch.Generator of your own (a DataLoader given generator=... does too) "
                "and leave the global state as you found it: train.fit neither uses nor "
                "changes it.", case)
        batches = _index_batches(out)
        require(batches is not None, "return a list of batches, each a 1-D tensor (or a "
                "list) of sample indices.", case)
        sizes = [len(b) for b in batches]
        require(sizes and all(s == batch for s in sizes[:-1]) and 0 < sizes[-1] <= batch,
                f"cut the epoch into batches of {batch}; only the last may be smaller.",
                case)
        flat = [i for b in batches for i in b]
        require(sorted(flat) == list(range(n)), "an epoch uses every sample exactly once: "
                "the batches together must hold each index 0 to n - 1 once.", case)
        if batches in _shuffles(n, batch, train.epoch_seed(seed, epoch)):
            continue
        require(flat != list(range(n)), "shuffle the indices: fit draws a fresh random "
                "order every epoch.", case)
        require(batches not in _shuffles(n, batch, seed + epoch),
                "your order is the one of a generator seeded with seed + epoch (at epoch "
                "0, with seed itself); under that rule run 1 at epoch 0 would repeat run 0 "
                "at epoch 1. Seed each epoch's generator with "
                "train.epoch_seed(seed, epoch).", case)
        require(epoch == 0 or batches not in _shuffles(n, batch, train.epoch_seed(seed, 0)),
                "every epoch of a run gets its own order: the generator's seed must depend "
                "on the epoch as well as on the run's seed.", case)
        require(False, "seed a torch.Generator with train.epoch_seed(seed, epoch), then "
                "draw the order with torch.randperm(n, generator=...) as fit does, or let "
                "a DataLoader given that generator shuffle.", case)
    ok("epoch_batches: fit's shuffles in 6 settings, the global state untouched.")


# --- Exercise 3 -----------------------------------------------------------------------

def _exact_error(G: torch.Tensor, batch: int) -> float:
    """The relative RMS error of a batch mean, averaged over every possible batch."""
    g = G.mean(0)
    squared = [(G[list(idx)].mean(0) - g).pow(2).sum().item()
               for idx in itertools.combinations(range(len(G)), batch)]
    return math.sqrt(sum(squared) / len(squared)) / g.norm().item()


def _float(value, what: str) -> float:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    require(isinstance(value, numbers.Real) and not isinstance(value, bool),
            f"{what} should be one number (a float), not a {type(value).__name__}.")
    return float(value)


def batch_gradient_error(fn) -> None:
    """Check ``batch_gradient_error(G, batch_size)`` -> the relative RMS error.

    ``G`` (N, P) holds one gradient per sample; a batch of ``batch_size`` distinct samples
    is drawn uniformly at random (without replacement); the answer is
    ``sqrt(E ||mean of the batch - mean of all||^2) / ||mean of all||``, exact, checked
    against the average over every possible batch.
    """
    callable_(fn)
    g = torch.Generator().manual_seed(6)
    cases = []
    for n, p in [(6, 3), (9, 4)]:
        G = torch.randn(n, p, generator=g, dtype=F64) + 0.3  # (n, p), mean not zero
        cases += [(G, n, "the whole set")] + [(G, 1, "one sample")] + \
                 [(G, b, "") for b in range(2, n)]
    G32 = (torch.randn(7, 5, generator=g) + 0.5).float()
    cases.append((G32, 3, "float32 gradients"))
    for G, batch, note in cases:
        n = len(G)
        case = f"N = {n} samples, P = {G.shape[1]} parameters, batch_size = {batch}"
        out = run(fn, G.clone(), batch, what=case,
                  hint="G is a tensor (N, P), one gradient per row; batch_size an int.")
        value = _float(out, "the relative error")
        expected = _exact_error(G.to(F64), batch)
        tolerance = 1e-4 if G.dtype == torch.float32 else 1e-8
        if note == "the whole set":
            require(abs(value) <= 1e-6, "a batch of all N samples, drawn without "
                    "replacement, is the whole set: its gradient has no error at all. "
                    "Your formula should say so.", case)
        elif note == "one sample":
            require(abs(value - expected) <= tolerance * max(1.0, expected),
                    "a batch of one sample: its squared error, averaged over the samples, "
                    "is the mean of ||g_i - g||^2; the relative error is the root of that "
                    "over ||g||.", case)
        else:
            require(abs(value - expected) <= tolerance * max(1.0, expected),
                    "between one sample and the whole set the error must fall as the "
                    "samples of a batch are drawn without replacement: write the variance "
                    "of the mean of B distinct samples out of N.", case)
    ok("batch_gradient_error: exact for every batch size, in float64 and float32.")


# --- Exercises 4 and 5: test models that show their mode ------------------------------

class _Probe(nn.Module):
    """Records, at each forward pass, the mode and whether autograd records a graph."""

    def __init__(self):
        super().__init__()
        self.calls: list[tuple[bool, bool]] = []
        self.rows: list[int] = []  # the batch size of each forward pass

    def forward(self, x):
        self.calls.append((self.training, torch.is_grad_enabled()))
        self.rows.append(len(x))
        return x


def _test_model(seed: int) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(_Probe(), nn.Linear(3, 16), nn.ReLU(), nn.Dropout(0.3),
                         nn.Linear(16, 4))  # (batch, 3) -> (batch, 4) logits


def _data(seed: int, n: int):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 3, generator=g)  # (n, 3)
    y = torch.randint(0, 4, (n,), generator=g)  # (n,) int64 labels
    return X, y


def evaluate_loader(fn) -> None:
    """Check ``evaluate_loader(model, loss_fn, loader)`` -> ``(mean loss, accuracy)``."""
    callable_(fn)
    X, y = _data(8, 30)
    loss_fn = nn.CrossEntropyLoss()
    for start_training in (True, False):
        model = _test_model(3)
        model.train(start_training)
        loader = DataLoader(TensorDataset(X, y), batch_size=7)  # 7, 7, 7, 7 and 2
        case = (f"a model with dropout, in {'training' if start_training else 'evaluation'}"
                " mode, 30 samples in batches of 7")
        grad_before = torch.is_grad_enabled()
        try:
            out = run(fn, model, loss_fn, loader, what=case,
                      hint="iterate over the loader: each item is a pair (xb, yb).")
        finally:
            grad_after = torch.is_grad_enabled()
            torch.set_grad_enabled(grad_before)  # whatever the learner's code left
        calls = model[0].calls
        require(bool(calls), "run the model on the batches of the loader.", case)
        require(max(model[0].rows) <= 7, "the model ran on more samples at once than a "
                "batch of the loader holds (7): for data too large to go through the "
                "model at once, run it on one batch (xb, yb) at a time, without joining "
                "the batches first.", case)
        require(not any(training for training, _ in calls), "the model ran in training "
                "mode, so its dropout layer was active: switch to evaluation mode first.",
                case)
        require(not any(recording for _, recording in calls), "autograd recorded a graph "
                "during your evaluation: run the forward passes under torch.no_grad() or "
                "torch.inference_mode().", case)
        require(grad_after == grad_before, "autograd is still off after your function: "
                "switch it off only for the forward passes, in a with block such as "
                "torch.no_grad(), which switches it back on when the block ends.", case)
        require(model.training == start_training, "leave the model in the mode it was in "
                "when your function was called: note model.training first, then restore "
                "it.", case)
        require(isinstance(out, tuple) and len(out) == 2,
                "return a pair (mean loss, accuracy).", case)
        require(not any(isinstance(v, torch.Tensor) for v in out),
                "return Python numbers, not tensors: .item() turns a one-element tensor "
                "into a float.", case)
        loss, accuracy = (_float(v, name) for v, name in zip(out, ("the loss",
                                                                   "the accuracy")))
        model.eval()
        with torch.no_grad():
            logits = model(X)  # (30, 4)
            expected_loss = loss_fn(logits, y).item()
            expected_accuracy = (logits.argmax(dim=1) == y).double().mean().item()
            batch_losses = [loss_fn(logits[k:k + 7], y[k:k + 7]).item()
                            for k in range(0, 30, 7)]
        unweighted = sum(batch_losses) / len(batch_losses)
        require(abs(loss - unweighted) > 1e-6 or abs(unweighted - expected_loss) < 1e-6,
                "the last batch holds 2 samples, the others 7: weight each batch's mean "
                "loss by its number of samples.", case)
        require(abs(loss - expected_loss) < 1e-5, "the mean loss over the samples is not "
                "right: add up each batch's loss times its size, then divide by the number "
                "of samples.", case)
        require(abs(accuracy - expected_accuracy) < 1e-6, "the accuracy is the fraction of "
                "samples whose largest logit (over the classes, dim=1) is at the label.",
                case)
    ok("evaluate_loader: eval mode, no graph, mode restored, right loss and accuracy.")


class _Token:
    """An object that lives exactly as long as the graph of the loss it is tied to."""


class _Tag(torch.autograd.Function):
    """The identity on a loss; its node in the graph holds a token, so that a weak
    reference to the token tells whether that loss's graph is still alive."""

    @staticmethod
    def forward(ctx, loss, token):
        ctx.token = token
        return loss.view_as(loss)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


def _reference_epoch(model, loss_fn, optimizer, loader) -> None:
    model.train()
    for xb, yb in loader:
        optimizer.zero_grad()
        loss_fn(model(xb), yb).backward()
        optimizer.step()


def train_one_epoch(fn) -> None:
    """Check ``train_one_epoch(model, loss_fn, optimizer, loader)`` -> the mean loss."""
    callable_(fn)
    X, y = _data(9, 40)
    loss_fn = nn.CrossEntropyLoss()
    # In order, so that a correct epoch that first reads the loader (to count the
    # samples, say) sees the same batches; its own generator gives the loader its worker
    # seed without drawing from the global state, which draws the dropout masks.
    generator = torch.Generator()
    loader = DataLoader(TensorDataset(X, y), batch_size=12, shuffle=False,
                        generator=generator)  # batches of 12, 12, 12 and 4
    case = "a model with dropout, left in evaluation mode, 40 samples in batches of 12"
    model = _test_model(4).eval()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.2)
    record = {"accumulates": False, "loss_input": True, "losses": [], "output": None,
              "keeps_graphs": False}
    tokens = []  # weak references, one per batch's loss

    def keep_output(module, args, output):
        record["output"] = output

    model.register_forward_hook(keep_output)
    for p in model.parameters():
        p.register_hook(lambda grad, p=p: record.__setitem__(
            "accumulates", record["accumulates"] or (p.grad is not None and
                                                     bool(p.grad.abs().sum() > 0))))

    def watched_loss(logits, target):
        loss = loss_fn(logits, target)
        logits_of_model = record["output"]
        if logits_of_model is not None and logits_of_model.shape == logits.shape:
            expected = loss_fn(logits_of_model.detach(), target).item()
            record["loss_input"] &= abs(loss.item() - expected) < 1e-5
        else:
            record["loss_input"] = False
        record["losses"].append((loss.item(), len(target)))
        token = _Token()
        tokens.append(weakref.ref(token))
        if len(tokens) >= 3 and tokens[-3]() is not None:  # two batches ago: still alive
            record["keeps_graphs"] = True
        return _Tag.apply(loss, token)

    generator.manual_seed(5)
    torch.manual_seed(11)  # the dropout masks
    out = run(fn, model, watched_loss, optimizer, loader, what=case,
              hint="iterate over the loader; each item is a pair (xb, yb).")
    calls = model[0].calls
    require(bool(calls) and bool(record["losses"]), "run the model and the loss on every "
            "batch of the loader.", case)
    require(all(training for training, _ in calls), "the model was in evaluation mode "
            "during training (it had just been evaluated), so its dropout was off: put it "
            "in training mode at the start of the epoch.", case)
    require(not record["accumulates"], "each backward() added its gradient to the one "
            "left by the previous batch: clear the gradients before every backward pass.",
            case)
    require(record["loss_input"], "the loss function must receive the model's logits, "
            "one row per sample: nn.CrossEntropyLoss applies the softmax over the classes "
            "itself, so any softmax before it changes the loss.", case)
    require(not isinstance(out, torch.Tensor), "your function returns a tensor: adding up "
            "the loss tensors keeps every batch's graph alive. Add up Python numbers.",
            case)
    require(not record["keeps_graphs"], "adding up the loss tensors keeps every batch's "
            "graph alive until the epoch ends: add up Python numbers.", case)
    value = _float(out, "the mean training loss")
    seen = record["losses"]
    expected = sum(v * k for v, k in seen) / sum(k for _, k in seen)
    unweighted = sum(v for v, _ in seen) / len(seen)
    require(abs(value - unweighted) > 1e-7 or abs(value - expected) < 1e-7,
            "the last batch holds 4 samples, the others 12: weight each batch's loss by "
            "its size.", case)
    require(abs(value - expected) < 1e-6, "return the mean of the batch losses over the "
            "samples of the epoch, each batch weighted by its size.", case)
    reference = _test_model(4).eval()
    reference_optimizer = torch.optim.SGD(reference.parameters(), lr=0.2)
    generator.manual_seed(5)
    torch.manual_seed(11)
    _reference_epoch(reference, loss_fn, reference_optimizer, loader)
    same = all(torch.allclose(p, q, atol=1e-5, rtol=0)
               for p, q in zip(model.parameters(), reference.parameters()))
    require(same, "after one epoch the weights differ from those of a correct epoch: "
            "one step per batch, in the order zero_grad, forward, loss, backward, step.",
            case)
    ok("train_one_epoch: all four bugs fixed; the loss and the weights are right.")
