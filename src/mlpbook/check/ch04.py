"""Checks for Chapter 4, "From perceptrons to multilayer perceptrons".

Conventions of the chapter, those of ``torch.nn.Linear``: layer l has a weight matrix
``W`` of shape (d_out, d_in), one row per unit, and a bias ``b`` of shape (d_out,); for a
batch ``H`` of shape (n, d_in) it computes ``H @ W.T + b``. An MLP's parameters are a
list of such pairs; hidden layers use ReLU and the output layer has no activation, so
``H = relu(H @ W.T + b)`` for the hidden layers and ``logits = H @ W_L.T + b_L``.
``sizes`` lists the widths [d_0, d_1, ..., d_L], input first.
"""

from __future__ import annotations

import torch

from ._common import callable_, close, ok, require, run, tensor_like, whole_number

__all__ = ["mlp_parameter_count", "mlp_forward", "xor_relu_weights", "relu_mean_square",
           "distinct_hidden_units", "zigzag_weights"]

F64 = torch.float64


# --- Exercise 1: counting parameters -----------------------------------------------------

def _count(sizes) -> int:
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))


def mlp_parameter_count(fn) -> None:
    """Check ``mlp_parameter_count(sizes)``: weights and biases of all layers."""
    callable_(fn)
    hint = "sizes is a list of widths, input first; return the count as a whole number."
    for sizes in ([3, 5, 2], [2, 4, 4, 1], [4, 3], [2, 8, 6, 5, 3], [784, 256, 128, 10],
                  [1, 1], [10, 1, 10]):
        what = f"sizes {sizes}"
        count = whole_number(run(fn, list(sizes), what=what, hint=hint),
                             f"mlp_parameter_count({sizes})")
        pairs = list(zip(sizes[:-1], sizes[1:]))
        if count != _count(sizes):
            require(count != sum(a * b for a, b in pairs),
                    "you counted the weights only: every unit also has a bias.", what)
            require(count != sum(a * (b + 1) for a, b in pairs),
                    "a layer has one bias per unit, that is per output, not per input.",
                    what)
            require(count != _count(sizes[:-1]),
                    "one layer is missing from your count: the output layer counts too.",
                    what)
        require(count == _count(sizes),
                "the count is off: each layer has a weight for every pair (input, unit) "
                "and one bias per unit.", what)
    ok("mlp_parameter_count: right for 7 networks, from one layer to four.")


# --- Exercise 2: debugging a forward pass ------------------------------------------------

def _params(sizes, seed: int):
    gen = torch.Generator().manual_seed(seed)
    return [(torch.randn(b, a, generator=gen, dtype=F64),
             torch.randn(b, generator=gen, dtype=F64))
            for a, b in zip(sizes[:-1], sizes[1:])]


def _forward(X, params, transpose=True, hidden=torch.relu, last=None):
    H = X
    for k, (W, b) in enumerate(params):
        H = H @ (W.T if transpose else W) + b
        if k < len(params) - 1:
            H = hidden(H)
        elif last is not None:
            H = last(H)
    return H


def mlp_forward(fn) -> None:
    """Check ``mlp_forward(X, params)``: ReLU hidden layers, a linear output layer."""
    callable_(fn)
    hint = ("look at the shapes: each W has shape (d_out, d_in), one row per unit, and "
            "H has one row per input.")
    for k, sizes in enumerate(([4, 4, 4, 4], [3, 5, 2], [4, 3], [2, 8, 6, 5, 3])):
        params = _params(sizes, seed=k)
        X = torch.randn(7, sizes[0], generator=torch.Generator().manual_seed(10 + k),
                        dtype=F64)
        what = f"an MLP with sizes {sizes}"
        out = run(fn, X.clone(), [(W.clone(), b.clone()) for W, b in params], what=what,
                  hint=hint)
        out = tensor_like(out, torch.empty(7, sizes[-1]), f"the logits for sizes {sizes}")

        def same(out=out, X=X, params=params, **variant):
            """Does ``out`` equal the forward pass with ``variant``'s changes?"""
            try:
                reference = _forward(X, params, **variant)
            except RuntimeError:  # the variant's shapes do not fit
                return False
            return bool(torch.allclose(out, reference, atol=1e-9, rtol=1e-9))

        if len(params) > 1:
            require(not same(transpose=False, hidden=lambda H: H),
                    "two things are wrong: your layers multiply by W as if it had shape "
                    "(d_in, d_out), and your hidden layers stay linear.", what)
            require(not same(transpose=False),
                    "your layers multiply by W as if it had shape (d_in, d_out); in the "
                    "book's convention it has one row per unit.", what)
            require(not same(hidden=lambda H: H),
                    "your hidden layers are linear: the activation is never applied, so "
                    "the network collapses into one linear map (Chapter 3).", what)
            require(not same(last=torch.relu),
                    "the output layer gives the logits as they are, with no activation "
                    "after it.", what)
        require(same(),
                "the logits are wrong: follow one input through the network by hand "
                "and compare each layer's output with your code's.", what)
    ok("mlp_forward: right for 4 networks, square and not, 0 to 3 hidden layers.")


# --- Exercise 3: XOR with ReLU units -----------------------------------------------------

_CORNERS = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=F64)
_XOR = torch.tensor([0.0, 1.0, 1.0, 0.0], dtype=F64)


def _weights(out, shapes: dict, what: str) -> list[torch.Tensor]:
    """The learner's tuple of weights as float64 tensors, shapes checked."""
    names = list(shapes)
    require(isinstance(out, (tuple, list)) and len(out) == len(names),
            f"return a tuple ({', '.join(names)}).", what)
    tensors = []
    for name, value in zip(names, out):
        require(isinstance(value, torch.Tensor),
                f"{name} should be a torch.Tensor, not a {type(value).__name__}.", what)
        expected = shapes[name]
        shape = "(" + ", ".join("k" if e is None else str(e) for e in expected) + \
            ("," if len(expected) == 1 else "") + ")"
        require(value.ndim == len(expected) and all(
            e is None or s == e for s, e in zip(value.shape, expected)),
                f"{name} has shape {tuple(value.shape)}; it should have shape {shape}: "
                "W has one row per unit of its layer and one column per input.", what)
        tensors.append(value.detach().to(F64))
    return tensors


def xor_relu_weights(fn) -> None:
    """Check ``xor_relu_weights()``: a 2-2-1 ReLU network whose output is XOR exactly."""
    callable_(fn)
    what = "xor_relu_weights()"
    out = run(fn, what="no arguments", hint="return the four tensors W1, b1, W2, b2.")
    W1, b1, W2, b2 = _weights(out, {"W1": (2, 2), "b1": (2,), "W2": (1, 2), "b2": (1,)},
                              what)
    logits = (torch.relu(_CORNERS @ W1.T + b1) @ W2.T + b2).reshape(-1)
    for corner, value, target in zip(_CORNERS.tolist(), logits.tolist(), _XOR.tolist()):
        require(abs(value - target) < 1e-6,
                f"at {tuple(corner)} your network outputs {value:.3g}, and XOR is "
                f"{target:g}. The output itself must be XOR, with no threshold after it.",
                f"the corner {tuple(corner)}")
    ok("xor_relu_weights: the ReLU network outputs 0, 1, 1, 0 at the four corners.")


# --- Exercise 4: the mean square through ReLU layers ---------------------------------------

def _mean_square(depth, width, std, input_ms):
    return input_ms * (width * std**2 / 2) ** depth


def relu_mean_square(fn) -> None:
    """Check ``relu_mean_square(depth, width, std, input_mean_square)``."""
    callable_(fn)
    hint = "return one number: the expected mean of h^2 after depth layers."
    cases = [((0, 256, 0.1, 1.0), "after 0 layers nothing has happened yet: the mean "
              "square is the input's."),
             ((1, 1, 1.0, 1.0), "one layer of one unit, weights of variance 1: z has the "
              "mean square of the input; what does ReLU do to the mean of z^2 when z is "
              "symmetric about 0?"),
             ((1, 4, 1.0, 1.0), "a unit's weighted sum adds width terms, one per input; "
              "its mean square grows with their number."),
             ((1, 4, 0.5, 1.0), "the weights enter through their variance, std^2, once "
              "for each of the width inputs of a unit."),
             ((1, 4, 0.5, 3.0), "the answer is proportional to the input's mean square."),
             ((2, 64, 0.25, 1.0), "two layers multiply the mean square by the same factor "
              "twice."),
             ((10, 256, (2 / 256) ** 0.5, 2.0), "with variance 2 / width the factor per "
              "layer is 1."),
             ((3, 100, 0.3, 0.7), "compare your formula with a short simulation: push "
              "random inputs through random ReLU layers and average h^2.")]
    for args, case_hint in cases:
        depth, width, std, ms = args
        what = f"depth {depth}, width {width}, std {std:.4g}, input mean square {ms}"
        value = run(fn, *args, what=what, hint=hint)
        require(not isinstance(value, (str, bytes, bool)),
                f"return a number, not a {type(value).__name__}.", what)
        if isinstance(value, torch.Tensor):
            require(value.numel() == 1, "return one number, not a tensor of several.", what)
            value = value.item()
        try:
            value = float(value)
        except (TypeError, ValueError):
            require(False, f"return a number, not a {type(value).__name__}.", what)
        expected = _mean_square(*args)  # known mistakes are off by a factor of 2 or more
        require(abs(value - expected) <= 1e-6 * abs(expected), case_hint, what)
    ok("relu_mean_square: the expected mean square for 8 stacks, depth 0 to 10.")


# --- Exercise 5: symmetric units ------------------------------------------------------------

def distinct_hidden_units(fn) -> None:
    """Check ``distinct_hidden_units(W, b, tol)``: units that differ beyond ``tol``."""
    callable_(fn)
    hint = "W has shape (units, d_in) and b shape (units,); return a whole number."
    noise = 1e-9
    cases = [
        ("4 equal units", torch.ones(4, 2), torch.zeros(4), 1e-6, 1),
        ("3 different units", torch.tensor([[1.0, 2.0], [2.0, 1.0], [0.0, 3.0]]),
         torch.zeros(3), 1e-6, 3),
        ("units 1 and 2 equal up to 1e-9, units 3 and 4 different",
         torch.tensor([[0.5, -0.5], [0.5 + noise, -0.5 - noise], [1.0, 1.0], [2.0, 0.0]],
                      dtype=F64), torch.tensor([0.1, 0.1 - noise, 0.1, 0.1], dtype=F64),
         1e-6, 3),
        ("equal weights, different biases", torch.ones(3, 2),
         torch.tensor([0.0, 1.0, 2.0]), 1e-6, 3),
        ("3 units whose weight columns are equal",
         torch.tensor([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]), torch.zeros(3), 1e-6, 3),
        ("5 units, two pairs within tol = 0.1",
         torch.tensor([[0.0, 0.0, 0.0], [0.05, 0.0, 0.0], [1.0, 1.0, 1.0],
                       [1.0, 1.0, 1.04], [3.0, 0.0, 0.0]]), torch.zeros(5), 0.1, 3),
        ("units 1 and 3 equal, unit 2 between them",
         torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]), torch.zeros(3), 1e-6, 2),
        ("2 units 0.02 apart, tol = 0.1",
         torch.tensor([[0.04, 0.0], [0.06, 0.0]]), torch.zeros(2), 0.1, 1),
    ]
    for label, W, b, tol, expected in cases:
        what = f"{label} (W {tuple(W.shape)}, tol {tol:g})"
        value = whole_number(run(fn, W.clone(), b.clone(), tol, what=what, hint=hint),
                             "distinct_hidden_units(W, b, tol)")
        require(not (label.startswith("units 1 and 2") and value == 4 != expected),
                "units that agree to within tol count as one: rounding makes copies "
                "differ in the last digits.", what)
        require(not (label.startswith("equal weights") and value == 1),
                "two units with equal weights but different biases compute different "
                "functions: compare the biases too.", what)
        if value != expected:
            units = torch.cat([W, b.unsqueeze(1)], dim=1).double()  # (units, d_in + 1)
            steps = (units[1:] - units[:-1]).abs().amax(dim=1) > tol
            require(value != 1 + int(steps.sum()),
                    "compare each unit with every unit you have kept, not only with the "
                    "previous one.", what)
            on_grid = len(torch.unique(torch.round(units / tol), dim=0))
            require(value != on_grid,
                    "two units closer than tol can still fall on different sides of a "
                    "rounding boundary: compare the units' differences with tol instead "
                    "of rounding them.", what)
            columns = len({tuple(col.tolist()) for col in W.T})
            require(value != columns,
                    "a unit is a row of W (one row per unit), not a column.", what)
            require(value != W.shape[0],
                    "you counted every unit: units that are the same count once.", what)
        require(value == expected,
                f"for {label} the count is not right: two units are the same when every "
                "weight and the bias agree to within tol.", what)
    ok("distinct_hidden_units: right for 8 layers, with and without near-copies.")


# --- Exercise 6: the zigzag exactly --------------------------------------------------------

def _zigzag(x: torch.Tensor) -> torch.Tensor:
    return 1 - 2 * ((x.abs() - 0.5).abs())


def zigzag_weights(fn) -> None:
    """Check ``zigzag_weights()``: a 1-k-1 ReLU network equal to the zigzag on [-1, 1]."""
    callable_(fn)
    what = "zigzag_weights()"
    out = run(fn, what="no arguments", hint="return the four tensors W1, b1, W2, b2.")
    W1, b1, W2, b2 = _weights(out, {"W1": (None, 1), "b1": (None,), "W2": (1, None),
                                    "b2": (1,)}, what)
    require(W1.shape[0] == b1.shape[0] == W2.shape[1],
            f"W1 has {W1.shape[0]} rows, b1 {b1.shape[0]} entries and W2 {W2.shape[1]} "
            "columns: all three count the hidden units.", what)

    def net(x):
        return (torch.relu(x @ W1.T + b1) @ W2.T + b2).reshape(-1)

    for x0, x1, slope in [(-1.0, -0.5, 2.0), (-0.5, 0.0, -2.0), (0.0, 0.5, 2.0),
                          (0.5, 1.0, -2.0)]:
        x = torch.linspace(x0, x1, 11, dtype=F64).reshape(-1, 1)
        y = net(x)
        measured = ((y[1:] - y[:-1]) / (x[1:, 0] - x[:-1, 0])).mean().item()
        start, target = y[0].item(), _zigzag(torch.tensor(x0)).item()
        require(abs(measured - slope) < 1e-6 and abs(start - target) < 1e-6,
                f"on [{x0}, {x1}] the zigzag starts at {target:g} and has slope "
                f"{slope:g}; your network starts at {start:.3g} with slope "
                f"{measured:.3g}.", f"x from {x0} to {x1}")
    x = torch.linspace(-1, 1, 4001, dtype=F64).reshape(-1, 1)
    close(net(x), _zigzag(x).reshape(-1), "your network on [-1, 1]",
          "the network must follow the zigzag at every point of [-1, 1], including "
          "between the points where the slope changes.", atol=1e-6,
          case="4001 points of [-1, 1]")
    ok(f"zigzag_weights: exact on [-1, 1] with {W1.shape[0]} hidden ReLU units.")
