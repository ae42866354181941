"""What every exercise check shares: calling the learner's code, comparing, reporting."""

from __future__ import annotations

from collections.abc import Callable

import torch


def ok(message: str) -> None:
    """Report a passed check."""
    print(f"\u2714 {message}")


def require(condition: bool, hint: str) -> None:
    """Fail with ``hint`` unless ``condition`` holds."""
    if not condition:
        raise AssertionError(f"\u2718 Not yet. Hint: {hint}")


def callable_(fn, name: str = "your function") -> Callable:
    """Refuse anything that is not a function, with a TypeError."""
    if not callable(fn):
        raise TypeError(f"{name}: expected a function, received {type(fn).__name__}")
    return fn


def run(fn: Callable, *args, what: str):
    """Call the learner's ``fn``; turn a crash (other than a stub) into a hint."""
    try:
        return fn(*args)
    except NotImplementedError:
        raise
    except Exception as error:  # the learner's bug: report it as a hint
        raise AssertionError(
            f"\u2718 Not yet. Calling it on {what} raised {type(error).__name__}: {error}"
        ) from error


def tensor_like(value, expected: torch.Tensor, what: str) -> torch.Tensor:
    """Check that ``value`` is a tensor with ``expected``'s shape; return it as float64."""
    require(isinstance(value, torch.Tensor),
            f"{what} should be a torch.Tensor, but it is a {type(value).__name__}.")
    require(tuple(value.shape) == tuple(expected.shape),
            f"{what} should have shape {tuple(expected.shape)}, but it has {tuple(value.shape)}.")
    return value.detach().to(torch.float64)


def close(value, expected: torch.Tensor, what: str, hint: str, *, atol: float = 1e-6) -> None:
    """Require ``value`` to match ``expected`` (shape, then values within ``atol``)."""
    value = tensor_like(value, expected, what)
    require(torch.allclose(value, expected.to(torch.float64), atol=atol, rtol=0), hint)
