"""The chapters' from-scratch code against its PyTorch counterpart, timed in one process.

Each from-scratch function is read from its chapter notebook, not copied: the
notebook's top-level imports and its ``parameters`` cell run first, then every
top-level ``def`` and ``class`` of the notebook (later ones replace earlier ones, as
when the notebook runs). The rest of the notebook does not run. A chapter or function
that does not exist yet is reported as missing.

Both sides get the same inputs and must give the same result; the agreement is
reported next to the times. Times are the best of ``repeats`` runs after one warm-up.
"""

from __future__ import annotations

import ast
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch

from mlpbook import data, train

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def load_functions(notebook: Path) -> dict[str, Callable]:
    """The top-level functions and classes of ``notebook``, by name (see the docstring)."""
    import nbformat

    cells = [c for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]
    namespace = {"__name__": f"bench_{notebook.stem}", "torch": torch}
    trees = []
    for cell in cells:
        try:
            trees.append(ast.parse(cell.source))
        except SyntaxError:  # IPython magics: not plain Python
            continue
    for tree in trees:
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                _exec([node], namespace)
    for cell in cells:
        if "parameters" in cell.metadata.get("tags", []):
            _exec(ast.parse(cell.source).body, namespace)
    for tree in trees:
        _exec([n for n in tree.body
               if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))],
              namespace)
    return {k: v for k, v in namespace.items() if callable(v)}


def _exec(nodes: list[ast.stmt], namespace: dict) -> None:
    for node in nodes:
        try:
            exec(compile(ast.Module([node], []), "<notebook>", "exec"), namespace)
        except Exception:  # an import that is not available here; the functions may not need it
            continue


def best_time(setup: Callable[[], tuple], run: Callable, repeats: int) -> dict:
    """Best and median seconds of ``run(*setup())`` over ``repeats`` runs; setup is not timed."""
    run(*setup())  # warm-up
    times = []
    for _ in range(repeats):
        args = setup()
        start = time.perf_counter()
        run(*args)
        times.append(time.perf_counter() - start)
    return {"best": min(times), "median": statistics.median(times)}


# ---------------------------------------------------------------------------------------
# Chapter 1: the perceptron update

PERCEPTRON = {
    "name": "Chapter 1: perceptron update",
    "chapter": "01", "function": "perceptron_update",
    "description": (
        "`perceptron_update` applied point by point, against `torch.nn.Linear(2, 1)` "
        "trained by `torch.optim.SGD` (learning rate 1) on the perceptron criterion "
        "max(0, -t z), with a point on the boundary counted as a mistake. The gradient of "
        "that criterion is -t x for a mistake and 0 otherwise, so each SGD step is the "
        "perceptron rule, and both end with the same weights. The PyTorch side pays for "
        "autograd and the optimiser on every single point."),
}


def perceptron(fns: dict, repeats: int, passes: int = 3) -> dict:
    update = fns["perceptron_update"]
    X, y = data.blobs(100, margin=0.3, seed=0)  # (100, 2), (100,)
    t = (2 * y - 1).float()  # {0, 1} -> {-1, +1}
    points = list(zip(X, t)) * passes

    def scratch():
        w, b = torch.zeros(2), torch.tensor(0.0)
        for x_i, t_i in points:
            w, b = update(w, b, x_i, t_i)
        return torch.cat([w.reshape(-1), b.reshape(1)])

    def pytorch():
        linear = torch.nn.Linear(2, 1)
        torch.nn.init.zeros_(linear.weight)
        torch.nn.init.zeros_(linear.bias)
        optimizer = torch.optim.SGD(linear.parameters(), lr=1.0)
        for x_i, t_i in points:
            optimizer.zero_grad()
            margin = t_i * linear(x_i).squeeze()  # (2,) -> (1,) -> scalar
            loss = torch.where(margin <= 0, -margin, torch.zeros(()))  # mistake: -t z
            loss.backward()
            optimizer.step()
        return torch.cat([linear.weight.detach().reshape(-1), linear.bias.detach()])

    diff = (scratch() - pytorch()).abs().max().item()
    return _timed(PERCEPTRON, scratch, pytorch, repeats, diff,
                  f"{len(points)} points ({passes} passes over 100)")


# ---------------------------------------------------------------------------------------
# Chapter 5: the manual backward pass

BACKWARD = {
    "name": "Chapter 5: manual backward pass",
    "chapter": "05", "function": "manual_backward",
    "description": (
        "`manual_backward` (the gradients of the mean cross-entropy of a one-hidden-layer "
        "tanh network, written out by the chain rule, with the weights in `nn.Linear`'s "
        "(d_out, d_in) layout) against the same network built from two `torch.nn.Linear` "
        "layers holding the same weights, followed by `loss.backward()` "
        "(`torch.autograd`), in float64."),
}


def backward(fns: dict, repeats: int, n: int = 1000, d: int = 2, hidden: int = 32,
             classes: int = 3) -> dict:
    manual = fns["manual_backward"]
    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, d, generator=g, dtype=torch.float64)  # (n, d)
    y = torch.randint(0, classes, (n,), generator=g)  # (n,) class indices
    params = {"W1": torch.randn(hidden, d, generator=g, dtype=torch.float64) * 0.5,
              "b1": torch.zeros(hidden, dtype=torch.float64),
              "W2": torch.randn(classes, hidden, generator=g, dtype=torch.float64) * 0.5,
              "b2": torch.zeros(classes, dtype=torch.float64)}  # nn.Linear's layout
    model = torch.nn.Sequential(torch.nn.Linear(d, hidden), torch.nn.Tanh(),
                                torch.nn.Linear(hidden, classes)).double()
    layers = {"W1": model[0].weight, "b1": model[0].bias,
              "W2": model[2].weight, "b2": model[2].bias}
    with torch.no_grad():
        for k, p in layers.items():
            p.copy_(params[k])

    def scratch():
        return manual(X, y, params["W1"], params["b1"], params["W2"], params["b2"])

    def pytorch():
        for p in layers.values():
            p.grad = None
        logits = model(X)  # (n, d) -> (n, hidden) -> (n, classes), X @ W.T + b each
        loss = torch.nn.functional.cross_entropy(logits, y)
        loss.backward()
        return loss, {k: p.grad for k, p in layers.items()}

    (loss_a, grads_a), (loss_b, grads_b) = scratch(), pytorch()
    diff = max([abs(float(loss_a) - loss_b.item())]
               + [(torch.as_tensor(grads_a[k]) - grads_b[k]).abs().max().item() for k in params])
    return _timed(BACKWARD, scratch, pytorch, repeats, diff,
                  f"{n} points, {d} inputs, {hidden} hidden units, {classes} classes")


# ---------------------------------------------------------------------------------------
# Chapter 6: the hand-written training loop

LOOP = {
    "name": "Chapter 6: hand-written training loop",
    "chapter": "06", "function": "train_by_hand",
    "description": (
        "`train_by_hand` against `mlpbook.train.fit` with the same model, optimiser, data, "
        "epochs, batch size and seed. Both shuffle epoch `e` with a generator seeded with "
        "`train.epoch_seed(seed, e)`, so they see the same mini-batches and must give the "
        "same losses; both run the same PyTorch operations, so the ratio shows what "
        "`fit`'s bookkeeping costs: checking its arguments, seeding each epoch's "
        "generators inside a fork that restores them, and checking that each batch's "
        "loss is finite."),
}


def training_loop(fns: dict, repeats: int, n: int = 2000, d: int = 10, epochs: int = 5,
                  batch_size: int = 64) -> dict:
    by_hand = fns["train_by_hand"]
    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, d, generator=g)  # (n, d)
    y = (X[:, 0] + X[:, 1] > 0).long() + (X[:, 2] > 1).long()  # (n,) classes 0, 1, 2

    def setup():
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(d, 32), torch.nn.ReLU(),
                                    torch.nn.Linear(32, 3))
        return model, torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1)

    def scratch(model, loss_fn, optimizer):
        return [float(v) for v in by_hand(model, loss_fn, optimizer, X, y, epochs, batch_size,
                                          0)]

    def pytorch(model, loss_fn, optimizer):
        return train.fit(model, loss_fn, optimizer, (X, y), epochs=epochs,
                         batch_size=batch_size, seed=0, progress=False)["train_loss"]

    a, b = scratch(*setup()), pytorch(*setup())
    diff = max(abs(u - v) for u, v in zip(a, b)) if len(a) == len(b) else float("inf")
    return _timed(LOOP, scratch, pytorch, repeats, diff,
                  f"{n} points, {epochs} epochs of mini-batches of {batch_size}", setup=setup)


# ---------------------------------------------------------------------------------------


def _timed(about: dict, scratch, pytorch, repeats: int, diff: float, workload: str,
           setup=tuple) -> dict:
    a = best_time(setup, scratch, repeats)
    b = best_time(setup, pytorch, repeats)
    return about | {"status": "ok", "detail": "", "workload": workload, "repeats": repeats,
                    "scratch_s": a["best"], "pytorch_s": b["best"],
                    "scratch_median_s": a["median"], "pytorch_median_s": b["median"],
                    "ratio": a["best"] / b["best"], "max_abs_diff": diff,
                    "agreement": f"{'yes' if diff <= 1e-6 else 'NO'} (max difference {diff:.2g})"}


COMPARISONS = [(PERCEPTRON, perceptron), (BACKWARD, backward), (LOOP, training_loop)]


def run_all(repeats: int = 7, notebooks: Path = NOTEBOOKS) -> list[dict]:
    """Every comparison whose chapter exists; missing ones say what is missing."""
    results = []
    for about, compare in COMPARISONS:
        found = sorted(notebooks.glob(f"{about['chapter']}_*.ipynb"))
        blank = about | {"detail": "", "workload": "", "repeats": repeats, "scratch_s": None,
                         "pytorch_s": None, "ratio": None, "agreement": ""}
        if not found:
            results.append(blank | {"status": "missing",
                                    "detail": f"no notebook {about['chapter']}_*.ipynb"})
            continue
        fns = load_functions(found[0])
        if about["function"] not in fns:
            results.append(blank | {"status": "missing",
                                    "detail": f"{found[0].name} defines no "
                                              f"`{about['function']}`"})
            continue
        try:
            results.append(compare(fns, repeats))
        except Exception as exc:  # the chapter's function does not fit: report, go on
            results.append(blank | {"status": "error",
                                    "detail": f"{type(exc).__name__}: {exc}"[:200]})
    return results
