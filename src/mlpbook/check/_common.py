"""What every exercise check shares: calling the learner's code, comparing, reporting.

A check never shows the learner its own code. In Jupyter a failed check shows only its
verdict: the three exception classes below define ``_render_traceback_``, which IPython
uses instead of a traceback, so no line of a check (where the reference answers are
computed) is ever printed. ``guard`` wraps every public check (``check/__init__.py``
applies it), so that even an unexpected error inside a check ends as a short verdict.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import textwrap
import types
from collections.abc import Callable

import torch
from torch.overrides import TorchFunctionMode

CROSS = "\u2718"
TICK = "\u2714"
WIDTH = 80  # a verdict wraps like the notebooks' own output


def _wrapped(message: str) -> str:
    """Each line of ``message`` wrapped at ``WIDTH``, continuation lines indented."""
    lines = []
    for line in message.splitlines():
        indent = " " * (len(line) - len(line.lstrip()))
        lines += textwrap.wrap(line, WIDTH, subsequent_indent=indent + "  ",
                               break_on_hyphens=False) or [""]
    return "\n".join(lines)


class _Verdict:
    """Mixin: IPython shows the message's lines instead of a traceback."""

    def _render_traceback_(self) -> list[str]:
        return str(self).splitlines()


class CheckFailed(_Verdict, AssertionError):
    """The learner's answer is not right yet; the message is the hint."""


class ExerciseNotDone(_Verdict, NotImplementedError):
    """The function checked still raises its exercise's ``NotImplementedError`` stub."""


class NotAFunction(_Verdict, TypeError):
    """The check was given something it cannot call."""


def ok(message: str) -> None:
    """Report a passed check: one line, the verdict first."""
    print(f"{TICK} {message}")


def fail(hint: str, case: str | None = None) -> None:
    """Stop the check with ``hint`` and, when given, the failing ``case``."""
    message = f"{CROSS} Not yet. Hint: {hint}"
    if case:
        message += f"\n  Failing case: {case}"
    raise CheckFailed(_wrapped(message))


def require(condition: bool, hint: str, case: str | None = None) -> None:
    """Fail with ``hint`` (and the failing ``case``) unless ``condition`` holds."""
    if not condition:
        fail(hint, case)


def callable_(fn, name: str = "your function") -> Callable:
    """Refuse anything that is not a function (or a model), with a TypeError."""
    if not callable(fn):
        raise NotAFunction(f"{CROSS} {name}: expected a function, received {type(fn).__name__}. "
                           "Pass the function itself, without calling it: check.name(name).")
    return fn


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(error).__name__}: {first[:200]}"


class _NoAutograd(TorchFunctionMode):
    """Refuse every PyTorch call made while autograd is switched back on, which
    ``torch.enable_grad()`` or ``torch.func.grad`` inside the learner's code would do."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if torch.is_grad_enabled():
            raise RuntimeError("autograd is not allowed in this exercise: compute the "
                               "gradient with your own formula")
        return func(*args, **(kwargs or {}))


@contextlib.contextmanager
def _without_autograd():
    with torch.no_grad(), _NoAutograd():
        yield


def run(fn: Callable, *args, what: str, hint: str | None = None, no_grad: bool = False):
    """Call the learner's ``fn(*args)``.

    A stub's ``NotImplementedError`` becomes ``ExerciseNotDone``; any other error in the
    learner's code becomes a verdict naming the case (``what``), the error's one-line
    message and the exercise's ``hint``. With ``no_grad=True`` the call runs without
    autograd (``torch.no_grad()``, and any attempt to switch it back on fails), for
    exercises that ask for gradients computed by hand.
    """
    context = _without_autograd() if no_grad else contextlib.nullcontext()
    try:
        with context:
            return fn(*args)
    except NotImplementedError as error:
        raise not_done(error) from None
    except Exception as error:  # the learner's bug: report it as a hint
        message = (f"{CROSS} Not yet. Calling your code on {what} raised "
                   f"{_one_line(error)}")
        message += "\n  Hint: " + (hint or "compare the shapes and dtypes in your code with "
                                    "the ones the exercise describes.")
        if "dtype" in str(error) or "Double and Float" in str(error):
            message += ("\n  Note: the check's tensors may be float64: create new tensors "
                        "with the dtype of the ones you are given (dtype=x.dtype).")
        raise CheckFailed(_wrapped(message)) from None


def not_done(error: NotImplementedError) -> ExerciseNotDone:
    """The verdict for an exercise whose stub is still in place."""
    if isinstance(error, ExerciseNotDone):
        return error
    task = str(error).strip() or "this exercise"
    return ExerciseNotDone(_wrapped(
        f"{CROSS} Not done yet: {task}\n"
        "  Replace the line `raise NotImplementedError(...)` in the cell above with your "
        "code, run that cell, then run this check again."))


def guard(check: Callable) -> Callable:
    """Wrap a check so that whatever goes wrong ends as a short verdict, never a traceback."""

    @functools.wraps(check)
    def guarded(*args, **kwargs):
        try:
            return check(*args, **kwargs)
        except (CheckFailed, ExerciseNotDone, NotAFunction):
            raise
        except NotImplementedError as error:
            raise not_done(error) from None
        except Exception as error:
            raise CheckFailed(_wrapped(
                f"{CROSS} Not yet. The check could not use what your code returned: "
                f"{_one_line(error)}")) from None

    guarded.__wrapped_check__ = check
    return guarded


def tensor_like(value, expected: torch.Tensor, what: str) -> torch.Tensor:
    """Check that ``value`` is a tensor with ``expected``'s shape; return it as float64."""
    require(isinstance(value, torch.Tensor),
            f"{what} should be a torch.Tensor, but it is a {type(value).__name__}.")
    require(tuple(value.shape) == tuple(expected.shape),
            f"{what} should have shape {tuple(expected.shape)}, but it has {tuple(value.shape)}.")
    return value.detach().to(torch.float64)


def close(value, expected: torch.Tensor, what: str, hint: str, *, atol: float = 1e-6,
          rtol: float = 0.0, case: str | None = None) -> None:
    """Require ``value`` to match ``expected`` (shape, then values within the tolerances)."""
    value = tensor_like(value, expected, what)
    require(torch.allclose(value, expected.to(torch.float64), atol=atol, rtol=rtol), hint,
            case)


def whole_number(value, what: str) -> int:
    """Accept a Python or NumPy integer, or a one-element integer tensor; return an int."""
    import numpy as np

    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_floating_point():
        value = value.item()
    require(isinstance(value, (int, np.integer)) and not isinstance(value, bool),
            f"{what} should be a whole number (an int), not a {type(value).__name__}.")
    return int(value)


def number(value, what: str) -> float:
    """Accept a Python or NumPy real number, or a one-element tensor; return a float."""
    import numbers

    if isinstance(value, torch.Tensor):
        require(value.numel() == 1, f"{what} should be one number, not a tensor of "
                f"shape {tuple(value.shape)}.")
        value = value.item()
    real = isinstance(value, numbers.Real) or (
        hasattr(value, "__float__") and getattr(value, "ndim", 0) == 0)
    require(real and not isinstance(value, (bool, str, bytes)),
            f"{what} should be a number, not a {type(value).__name__}.")
    return float(value)


def run_either_dtype(fn: Callable, make_args: Callable, dtypes: tuple, *, what: str,
                     hint: str | None = None, no_grad: bool = False):
    """``run(fn, *make_args(dtype))`` with the first dtype in ``dtypes`` that works.

    Returns ``(result, dtype)``. When every dtype fails, the verdict is the first one's,
    so that a learner whose code breaks sees the failure on the exercise's own dtype.
    """
    first = None
    for dtype in dtypes:
        try:
            return run(fn, *make_args(dtype), what=what, hint=hint,
                       no_grad=no_grad), dtype
        except CheckFailed as failure:
            first = first or failure
    raise first from None


@contextlib.contextmanager
def patched(patches):
    """While the block runs, each ``(module, name, replacement)`` in ``patches`` replaces
    ``module.name``; the originals come back afterwards, even after an error. Names that
    a module lacks are skipped."""
    saved = [(module, name, getattr(module, name)) for module, name, _ in patches
             if hasattr(module, name)]
    try:
        for module, name, replacement in patches:
            if hasattr(module, name):
                setattr(module, name, replacement)
        yield
    finally:
        for module, name, original in saved:
            setattr(module, name, original)


def refused(targets, message: str):
    """While the block runs, each ``(module, name)`` in ``targets`` raises
    ``RuntimeError(message)`` when called (a context manager, built on ``patched``)."""

    def refuse(*args, **kwargs):
        raise RuntimeError(message)

    return patched([(module, name, refuse) for module, name in targets])


LOADERS_OFF = ("the data loaders are switched off while the check runs your code: "
               "train only on the data you are given")


def _code_names(code: types.CodeType) -> set[str]:
    """The global names read by ``code`` and by the functions defined inside it."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def values_read(fn, depth: int = 3) -> list[tuple[str, object]]:
    """(name, value) of every global, closure cell and default argument that ``fn`` reads,
    and of those read by the functions and classes of its own module that it uses,
    ``depth`` calls deep."""
    found, seen, todo = [], set(), [(fn, depth)]
    module = getattr(inspect.unwrap(fn), "__module__", None) if callable(fn) else None
    while todo:
        item, level = todo.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, type):
            todo += [(v, level) for v in vars(item).values()
                     if isinstance(v, types.FunctionType)]
            continue
        item = inspect.unwrap(item)
        code = getattr(item, "__code__", None)
        if code is None:  # an object, such as a model: what it stores, and its class
            found += list(getattr(item, "__dict__", {}).items())
            if type(item).__module__ == module:
                todo.append((type(item), level))
            continue
        names = getattr(item, "__globals__", {})
        pairs = [(n, names[n]) for n in _code_names(code) if n in names]
        cells = zip(code.co_freevars, item.__closure__ or ())
        with contextlib.suppress(ValueError):  # an empty cell
            pairs += [(n, c.cell_contents) for n, c in cells]
        defaults, n_args = item.__defaults__ or (), code.co_argcount
        pairs += list(zip(code.co_varnames[n_args - len(defaults):n_args], defaults))
        pairs += [(n, v) for n, v in (item.__kwdefaults__ or {}).items()]
        for name, value in pairs:
            own = getattr(value, "__module__", None) == module
            if level > 0 and own and isinstance(value, (types.FunctionType, type)):
                todo.append((value, level - 1))
            else:
                found.append((name, value))
    return found
