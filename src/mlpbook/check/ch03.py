"""Checks for Chapter 3, "Activation functions".

Conventions of the chapter: an activation function, or its derivative, acts element-wise
on a tensor ``z`` of any shape and returns a tensor of the same shape and dtype. A linear
layer is a pair ``(W, b)`` with ``W`` of shape (d_out, d_in) and ``b`` of shape
(d_out,); for a batch ``X`` of shape (n, d_in) it computes ``X @ W.T + b``, as
``torch.nn.Linear`` does. Derivatives are written as formulas: the checks call them
under ``torch.no_grad()``, so autograd cannot stand in for them.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from ._common import callable_, close, fail, ok, require, run, tensor_like

__all__ = ["gelu", "tanh_derivative", "hat_pieces", "compose_linear",
           "mish_derivative"]

F64 = torch.float64


def _grid(low: float, high: float, n: int) -> torch.Tensor:
    """float64 points on [low, high], points near 0 and 0 itself."""
    near = torch.tensor([1e-9, 1e-6, 1e-3], dtype=F64)
    return torch.cat([torch.linspace(low, high, n, dtype=F64), near, -near,
                      torch.zeros(1, dtype=F64)])


def _elementwise(fn, z: torch.Tensor, what: str, hint: str, name: str,
                 no_grad: bool = False) -> torch.Tensor:
    """Run ``fn(z)``; require a tensor of z's shape and dtype with finite values."""
    out = run(fn, z.clone(), what=what, hint=hint, no_grad=no_grad)
    tensor_like(out, z, f"{name} on {what}")
    require(out.dtype == z.dtype,
            f"{name} should return a tensor of z's dtype ({z.dtype}), not {out.dtype}.",
            what)
    require(bool(torch.isfinite(out).all()),
            f"{name} returned inf or nan: some step of your formula overflows. Rewrite "
            "it so that no intermediate value grows without bound (an exponential of a "
            "large positive number, or a large number squared).", what)
    return out


# --- Exercise 1: GELU ------------------------------------------------------------------

def _same_values(out: torch.Tensor, ref: torch.Tensor) -> bool:
    return bool(torch.allclose(out.to(F64), ref.to(F64), atol=1e-9, rtol=1e-9))


def _gelu(z: torch.Tensor) -> torch.Tensor:
    return z * 0.5 * torch.erfc(-z / math.sqrt(2))


class _Spy(TorchFunctionMode):
    """Record any call of the PyTorch functions ``watched``, under any name: a module
    such as ``nn.GELU`` or ``nn.Tanh`` is caught through the function it calls."""

    def __init__(self, watched):
        super().__init__()
        self.watched = watched
        self.called = False

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in self.watched:
            self.called = True
        return func(*args, **(kwargs or {}))


def _watched(fn, spy: _Spy):
    """``fn`` called with ``spy`` switched on."""

    def watched(*args):
        with spy:
            return fn(*args)

    return watched


def gelu(fn) -> None:
    """Check ``gelu(z)``: the exact GELU, ``z * Phi(z)`` with the normal CDF ``Phi``,
    written by hand: a call of ``F.gelu`` (or ``nn.GELU``) is refused."""
    callable_(fn)
    hint = "gelu(z) multiplies z by the normal distribution function, built from torch.erf."
    spy = _Spy({F.gelu})
    watched = _watched(fn, spy)
    z = _grid(-8, 8, 161)
    case = "a float64 grid on [-8, 8]"
    out = _elementwise(watched, z, case, hint, "gelu(z)")
    require(not spy.called,
            "your function calls PyTorch's own GELU (F.gelu or nn.GELU). The exercise asks "
            "you to write it: build Phi from torch.erf or torch.erfc.", case)
    ref = _gelu(z)
    require(not _same_values(out, z * torch.sigmoid(z)),
            "that is z times the sigmoid (SiLU): GELU weighs z by the normal "
            "distribution function Phi(z), built from torch.erf.", case)
    require(abs(out[160].item() - 8) < 0.1,
            "for large z, GELU behaves like z itself: it is z times Phi(z), not Phi(z) "
            "alone.", "z = 8")
    error = (out - ref).abs().max().item()
    require(error < 1e-7 or error > 0.05,
            "close, but not exact: this is an approximation. Use the exact normal "
            "distribution function, written with torch.erf.", case)
    close(out, ref, "gelu(z)",
          "check the argument of erf: Phi(z) = (1 + erf(z / sqrt(2))) / 2.",
          atol=1e-7, case=case)
    block = z[:12].reshape(3, 4).float()
    out = _elementwise(watched, block, "a (3, 4) float32 tensor", hint, "gelu(z)")
    require(not spy.called,
            "your function calls PyTorch's own GELU (F.gelu or nn.GELU). The exercise asks "
            "you to write it: build Phi from torch.erf or torch.erfc.",
            "a (3, 4) float32 tensor")
    close(out, _gelu(block.double()), "gelu(z) on a (3, 4) tensor",
          "work element by element on a tensor of any shape.", atol=1e-5)
    ok("gelu: matches the exact GELU to 1e-7 on 168 points, in float32 and float64.")


# --- Exercise 2: tanh' from sigma' -------------------------------------------------------

def _tanh_prime(z: torch.Tensor) -> torch.Tensor:
    """tanh'(z) = 4 e^{-2|z|} / (1 + e^{-2|z|})^2 in float64: accurate for every z."""
    e = torch.exp(-2 * z.to(F64).abs())
    return 4 * e / (1 + e) ** 2


def _ratio_is_constant(out: torch.Tensor, ref: torch.Tensor) -> bool:
    ratio = out.to(F64) / ref
    return bool((ratio - ratio[0]).abs().max() < 1e-6) and abs(ratio[0].item() - 1) > 1e-3


_TANH = {torch.tanh, torch.tanh_, torch.Tensor.tanh, torch.Tensor.tanh_, torch.cosh,
         torch.cosh_, torch.Tensor.cosh, torch.Tensor.cosh_}


def tanh_derivative(fn) -> None:
    """Check ``tanh_derivative(z)``: tanh'(z), accurate for |z| up to 100, written with
    the sigmoid: a call of tanh or cosh (``torch.tanh``, ``Tensor.tanh``, ``F.tanh``,
    ``nn.Tanh``, ``torch.cosh``) is refused."""
    callable_(fn)
    hint = ("build the derivative from tensor operations on z, as a formula: the check "
            "runs your function under torch.no_grad(), so autograd cannot compute it.")
    name = "tanh_derivative(z)"
    spy = _Spy(_TANH)
    fn = _watched(fn, spy)
    z = torch.linspace(-3, 3, 61, dtype=F64)
    out = _elementwise(fn, z, "a float64 grid on [-3, 3]", hint, name, no_grad=True)
    require(not spy.called,
            "your function calls tanh (or cosh) itself; write tanh' with the sigmoid, "
            "as the exercise asks.", "a float64 grid on [-3, 3]")
    ref = _tanh_prime(z)
    require(not _ratio_is_constant(out, ref),
            "your derivative is off by a constant factor everywhere: count every factor "
            "that the chain rule brings in when you differentiate through sigma(2z).",
            "a float64 grid on [-3, 3]")
    case = "a float64 grid on [-3, 3]"
    require(abs(out[30].item() - 1) < 1e-9,
            "at z = 0 the slope of tanh is 1, the steepest anywhere; yours differs. "
            "Check your formula at z = 0 by hand.", "z = 0")
    require(torch.allclose(out, out.flip(0), atol=1e-12, rtol=1e-9),
            "tanh is odd, tanh(-z) = -tanh(z), so its derivative is even: "
            "tanh'(-z) = tanh'(z). Yours is not.", case)
    require(torch.allclose(out, ref, atol=1e-12, rtol=1e-9),
            "right at z = 0 but not elsewhere: write tanh through the sigmoid, "
            "differentiate with the chain rule, and evaluate sigma' at the argument "
            "that the sigmoid receives.", case)
    wide = _grid(-100, 100, 201)
    out = _elementwise(fn, wide, "a float64 grid with |z| up to 100", hint, name,
                       no_grad=True)
    close(out, _tanh_prime(wide), name,
          "right near 0 but not far from it: far out the derivative is tiny but "
          "positive; avoid formulas that lose it or blow up.", atol=1e-12, rtol=1e-9,
          case="a float64 grid with |z| up to 100")
    block = torch.tensor([[-100.0, -30.0, -1.0], [0.5, 30.0, 100.0]])
    out = _elementwise(fn, block, "a (2, 3) float32 tensor with |z| up to 100", hint,
                       name, no_grad=True)
    close(out, _tanh_prime(block), name, "in float32 your formula loses accuracy.",
          atol=1e-6, case="a (2, 3) float32 tensor with |z| up to 100")
    ok("tanh_derivative: exact to 1e-12 for |z| up to 100, finite in float32 too.")


# --- Exercise 3: the hat from ReLUs ----------------------------------------------------

def _hat(z: torch.Tensor) -> torch.Tensor:
    return (1 - z.to(F64).abs()).clamp(min=0)


def _pieces(out, what: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The learner's switch points t and weights a as float64 tensors of shape (3,)."""
    require(isinstance(out, (tuple, list)) and len(out) == 2,
            "return a pair (t, a): the three switch points, then the three weights.",
            what)
    tensors = []
    for name, value in zip("ta", out):
        try:
            value = torch.as_tensor(value).detach().to(F64)
        except (TypeError, ValueError, RuntimeError):
            fail(f"{name} should be a tensor (or a list) of three numbers, not a "
                 f"{type(value).__name__}.", what)
        require(tuple(value.shape) == (3,),
                f"{name} has shape {tuple(value.shape)}; it should have shape (3,): one "
                "entry per ReLU, three ReLUs.", what)
        require(bool(torch.isfinite(value).all()), f"{name} holds inf or nan.", what)
        tensors.append(value)
    return tensors[0], tensors[1]


def hat_pieces(fn) -> None:
    """Check ``hat_pieces()`` -> ``(t, a)``: switch points t (3,) and weights a (3,) with
    sum_k a_k relu(z - t_k) = 1 - |z| on [-1, 1] and 0 outside. The check builds the
    sum itself, so any order of the three pieces is right."""
    callable_(fn)
    what = "hat_pieces()"
    out = run(fn, what="no arguments", hint="hat_pieces() takes no arguments and returns "
              "the pair (t, a) of switch points and weights.")
    t, a = _pieces(out, what)

    def hat(z):  # (n,) -> (n,): sum over the three ReLUs
        return (a * torch.relu(z.reshape(-1, 1) - t)).sum(dim=1)

    require(abs(hat(torch.zeros(1, dtype=F64)).item() - 1) < 1e-12,
            "at z = 0 the hat should reach its peak, 1. Check where your ReLUs switch "
            "on and how much each one weighs.", "z = 0")
    pieces = [(-5, -1, 0.0, "for z <= -1 the hat is 0; which of your ReLU terms are "
               "already switched on there?"),
              (-1, 0, 1.0, "between -1 and 0 the hat rises with slope 1"),
              (0, 1, -1.0, "between 0 and 1 the hat falls with slope -1"),
              (1, 5, 0.0, "for z >= 1 the hat is 0 and flat: add up the slopes that your "
               "ReLU terms contribute beyond z = 1")]
    for z0, z1, slope, where in pieces:
        z = torch.linspace(z0, z1, 11, dtype=F64)
        values = hat(z)
        measured = ((values[1:] - values[:-1]) / (z[1:] - z[:-1])).mean().item()
        start = values[0].item()
        expected_start = float(_hat(torch.tensor(float(z0))))
        require(abs(measured - slope) < 1e-9 and abs(start - expected_start) < 1e-12,
                f"{where}; yours has slope {measured:.3g} there and the value "
                f"{start:.3g} at z = {z0}.", f"z from {z0} to {z1}")
    z = _grid(-3, 3, 121)
    close(hat(z), _hat(z), "your sum of ReLUs", "the hat must be 1 - |z| on [-1, 1] and "
          "0 outside, at every point.", atol=1e-12, case="a float64 grid on [-3, 3]")
    ok("hat_pieces: the three ReLUs add up to 1 - |z| on [-1, 1] and 0 outside.")


# --- Exercise 4: fold a linear stack -----------------------------------------------------

def _stack(sizes: list[int], seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    gen = torch.Generator().manual_seed(seed)
    return [(torch.randn(d_out, d_in, generator=gen, dtype=F64),
             torch.randn(d_out, generator=gen, dtype=F64))
            for d_in, d_out in zip(sizes[:-1], sizes[1:])]


def _apply(X: torch.Tensor, layers) -> torch.Tensor:
    for W, b in layers:
        X = X @ W.T + b
    return X


def _product(matrices) -> torch.Tensor | None:
    """W1 @ W2 @ ... in the order given, or None when the shapes do not allow it."""
    out = matrices[0]
    for M in matrices[1:]:
        if out.shape[1] != M.shape[0]:
            return None
        out = out @ M
    return out


def _same(A: torch.Tensor, B: torch.Tensor | None) -> bool:
    return B is not None and A.shape == B.shape and bool(
        torch.allclose(A, B, atol=1e-9, rtol=1e-9))


def compose_linear(fn) -> None:
    """Check ``compose_linear(layers)``: one pair ``(W, b)`` equal to a linear stack."""
    callable_(fn)
    hint = ("look at the shapes: each W has shape (d_out, d_in), and the composed W has "
            "shape (d_out of the last layer, d_in of the first).")
    cases = [[5, 5, 5, 5], [3, 4], [3, 6, 2], [2, 7, 4, 3]]
    for k, sizes in enumerate(cases):
        layers = _stack(sizes, seed=k)
        what = f"a stack of layers with sizes {sizes}"
        out = run(fn, [(W.clone(), b.clone()) for W, b in layers], what=what, hint=hint)
        require(isinstance(out, (tuple, list)) and len(out) == 2,
                "return a pair (W, b).", what)
        W, b = out
        d_in, d_out = sizes[0], sizes[-1]
        transposed_shape = isinstance(W, torch.Tensor) and d_in != d_out and \
            tuple(W.shape) == (d_in, d_out)
        require(not transposed_shape, "W has the shape (d_in, d_out); the book's "
                "convention, that of nn.Linear, is (d_out, d_in).", what)
        W = tensor_like(W, torch.empty(d_out, d_in), f"W for sizes {sizes}")
        b = tensor_like(b, torch.empty(d_out), f"b for sizes {sizes}")
        zero = torch.zeros(1, d_in, dtype=F64)
        W_ref = (_apply(torch.eye(d_in, dtype=F64), layers) - _apply(zero, layers)).T
        if len(layers) > 1:
            require(not _same(W, W_ref.T), "your W is the transpose of the composed "
                    "weight: the convention is (d_out, d_in), one row per output.", what)
            require(not _same(W, _product([L[0] for L in layers])),
                    "your product has the right factors in the wrong order: which "
                    "layer acts on X first, and where does its W stand in X @ W.T?",
                    what)
            require(not _same(W, layers[0][0]), "your W is the first layer's alone: "
                    "every layer must be folded in.", what)
        require(torch.allclose(W, W_ref, atol=1e-9, rtol=1e-9),
                "your composed W does not map X as the stack does. Write out two layers, "
                "(X @ W1.T) @ W2.T, and read off the one matrix that multiplies X.", what)
        X = torch.randn(9, d_in, generator=torch.Generator().manual_seed(50 + k),
                        dtype=F64)
        require(torch.allclose(X @ W.T + b, _apply(X, layers), atol=1e-9, rtol=1e-9),
                "W is right, but b is not: a bias added by an early layer passes through "
                "the weights of every later layer.", what)
    ok("compose_linear: equal to the stack for 4 stacks of 1 to 3 layers.")


# --- Exercise 5: the derivative of Mish ----------------------------------------------------

def _softplus(z: torch.Tensor) -> torch.Tensor:
    return z.clamp(min=0) + torch.log1p(torch.exp(-z.abs()))


def _mish_parts(z: torch.Tensor):
    """tanh(softplus(z)), sigma(z) and 1 - tanh^2(softplus(z)), in float64."""
    z = z.to(F64)
    t = torch.tanh(_softplus(z))
    return z, t, torch.sigmoid(z), 1 - t**2


def _mish_prime(z: torch.Tensor) -> torch.Tensor:
    z, t, s, sech2 = _mish_parts(z)
    return t + z * s * sech2


def _near(out: torch.Tensor, guess: torch.Tensor) -> bool:
    return bool(torch.allclose(out.to(F64), guess, atol=1e-8, rtol=1e-6))


MISH_ATOL, MISH_RTOL = 1e-12, 1e-11  # a formula errs by ~4e-15, a central difference by
# 1e-10 to 1e-8


def _exact(out: torch.Tensor, ref: torch.Tensor, case: str) -> None:
    """Refuse values near m'(z) but outside the tolerance: a numerical derivative."""
    error = (out.to(F64) - ref).abs().max().item()
    require(torch.allclose(out.to(F64), ref, atol=MISH_ATOL, rtol=MISH_RTOL)
            or error >= 1e-6,
            "close to m'(z) but not exact, as a finite difference would be: derive the "
            "formula and write it.", case)


def mish_derivative(fn) -> None:
    """Check ``mish_derivative(z)``: the derivative of ``z * tanh(softplus(z))``."""
    callable_(fn)
    hint = ("build the derivative from tensor operations on z, as a formula: the check "
            "runs your function under torch.no_grad(), so autograd cannot compute it.")
    name = "mish_derivative(z)"
    z = _grid(-8, 8, 161)
    out = _elementwise(fn, z, "a float64 grid on [-8, 8]", hint, name, no_grad=True)
    zz, t, s, sech2 = _mish_parts(z)
    require(not _near(out, zz * s * sech2),
            "one of the two terms of the product rule is missing.",
            "a float64 grid on [-8, 8]")
    require(not _near(out, t + zz * sech2),
            "the chain rule inside tanh(softplus(z)) has two links: you have the "
            "derivative of tanh, but not yet that of softplus.", "a float64 grid on [-8, 8]")
    require(not _near(out, t + zz * s * (1 - torch.tanh(zz) ** 2)),
            "evaluate tanh' at the argument that tanh receives, softplus(z), not at z.",
            "a float64 grid on [-8, 8]")
    _exact(out, _mish_prime(z), "a float64 grid on [-8, 8]")
    close(out, _mish_prime(z), name,
          "compare your function with a central difference of mish at a few points, "
          "then check each factor of the product rule and of the chain rule.",
          atol=MISH_ATOL, rtol=MISH_RTOL, case="a float64 grid on [-8, 8]")
    wide = _grid(-50, 50, 101)
    out = _elementwise(fn, wide, "a float64 grid with |z| up to 50", hint, name,
                       no_grad=True)
    _exact(out, _mish_prime(wide), "a float64 grid with |z| up to 50")
    close(out, _mish_prime(wide), name,
          "right near 0 but not far from it: check how your formula behaves when "
          "softplus(z) is large or tiny.", atol=MISH_ATOL, rtol=MISH_RTOL,
          case="a float64 grid with |z| up to 50")
    block = torch.tensor([[-50.0, -20.0, -1.0], [0.5, 20.0, 50.0]])
    out = _elementwise(fn, block, "a (2, 3) float32 tensor with |z| up to 50", hint,
                       name, no_grad=True)
    close(out, _mish_prime(block), name, "in float32 your formula loses accuracy.",
          atol=1e-5, case="a (2, 3) float32 tensor with |z| up to 50")
    ok("mish_derivative: exact to 1e-12 for |z| up to 50, finite in float32 too.")
