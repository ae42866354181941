"""Every exercise check accepts each correct answer and rejects each known wrong one,
and a failed check shows a short verdict, never a line of the check's own code.

Each ``tests/test_check_chNN.py`` holds, for its chapter:

- ``CORRECT``: check name -> {label: a correct answer}; every correct variant the check
  must accept (for example a float32 version, an exact formula, a NumPy integer);
- ``MUTANTS``: check name -> {label: a wrong answer}; every known mistake it must reject.

An answer is what the learner passes to the check: usually a function, or a trained
model for the Experiment exercises. Wrap an answer that is costly to build in ``Lazy``
(tests/conftest.py) so that it is built only by the tests that use it.
"""

import importlib
from pathlib import Path

import pytest
from conftest import Lazy, check_code_lines

from mlpbook import check
from mlpbook.check import _common

MODULES = [importlib.import_module(p.stem)
           for p in sorted(Path(__file__).parent.glob("test_check_ch*.py"))]
CORRECT = [(m.__name__, name, label, fn) for m in MODULES
           for name, variants in sorted(m.CORRECT.items()) for label, fn in variants.items()]
MUTANTS = [(m.__name__, name, label, fn) for m in MODULES
           for name, wrong in m.MUTANTS.items() for label, fn in wrong.items()]
NAMES = sorted({(m.__name__, name) for m in MODULES for name in m.CORRECT})


def answer(fn):
    return fn() if isinstance(fn, Lazy) else fn


def rendered(error: BaseException) -> str:
    """What Jupyter shows for ``error``: IPython prints ``_render_traceback_()`` instead of
    a traceback when the exception defines it."""
    assert hasattr(error, "_render_traceback_"), (
        f"{type(error).__name__} would show a traceback into mlpbook.check")
    return "\n".join(error._render_traceback_())


def assert_shows_no_check_code(text: str) -> None:
    for line in check_code_lines():
        assert line not in text, f"the verdict shows a line of a check: {line!r}"


@pytest.mark.parametrize("module, name, variant, fn", CORRECT,
                         ids=[f"{m}-{n}-{v}" for m, n, v, _ in CORRECT])
def test_check_accepts_every_correct_answer(module, name, variant, fn, capsys):
    getattr(check, name)(answer(fn))
    out = capsys.readouterr().out
    assert out.startswith("\u2714") and out.count("\n") == 1, "one line, the verdict first"


@pytest.mark.parametrize("module, name, mutant, fn", MUTANTS,
                         ids=[f"{m}-{n}-{label}" for m, n, label, _ in MUTANTS])
def test_check_rejects_every_known_mistake_with_a_short_verdict(module, name, mutant, fn,
                                                               capsys):
    with pytest.raises(_common.CheckFailed) as failure:
        getattr(check, name)(answer(fn))
    assert "\u2714" not in capsys.readouterr().out
    text = rendered(failure.value)
    assert text.startswith("\u2718 Not yet."), "the verdict comes first"
    assert "Hint:" in text
    assert_shows_no_check_code(text)


@pytest.mark.parametrize("module, name", NAMES, ids=[f"{m}-{n}" for m, n in NAMES])
def test_a_stub_ends_as_not_done_and_a_non_function_is_refused(module, name):
    def stub(*args, **kwargs):
        raise NotImplementedError("Exercise 9: the task")

    with pytest.raises(NotImplementedError) as failure:
        getattr(check, name)(stub)
    assert isinstance(failure.value, check.ExerciseNotDone)
    text = " ".join(rendered(failure.value).split())
    assert "Exercise 9: the task" in text and "Replace the line" in text
    assert_shows_no_check_code(text)
    with pytest.raises(TypeError, match="expected a function") as refused:
        getattr(check, name)(42)
    rendered(refused.value)


@pytest.mark.parametrize("module, name", NAMES, ids=[f"{m}-{n}" for m, n in NAMES])
def test_an_error_in_the_learners_code_shows_its_message_not_a_traceback(module, name):
    def buggy(*args, **kwargs):
        raise ValueError("shapes (3, 4) and (5, 6) do not match")

    with pytest.raises(check.CheckFailed) as failure:
        getattr(check, name)(buggy)
    text = rendered(failure.value)
    assert text.startswith("\u2718 Not yet.")
    assert max(len(line) for line in text.splitlines()) <= 80, "a verdict wraps at 80"
    assert "ValueError: shapes (3, 4) and (5, 6) do not match" in " ".join(text.split())
    assert_shows_no_check_code(text)


def test_each_chapter_lists_correct_variants_and_mutants_for_every_check():
    covered_correct, covered_mutants = set(), set()
    for module in MODULES:
        for name, variants in module.CORRECT.items():
            assert isinstance(variants, dict) and variants, (
                f"{module.__name__}: CORRECT[{name!r}] maps labels to correct answers")
        assert set(module.MUTANTS) <= set(module.CORRECT)
        assert all(module.MUTANTS[name] for name in module.MUTANTS)
        covered_correct |= set(module.CORRECT)
        covered_mutants |= set(module.MUTANTS)
    public = set(check.__all__) - {"CheckFailed", "ExerciseNotDone"}
    assert public <= covered_correct, f"checks without correct answers: {public - covered_correct}"
    assert public <= covered_mutants, f"checks without mutants: {public - covered_mutants}"


def test_an_unexpected_error_inside_a_check_is_still_a_short_verdict():
    def broken_check(fn):
        expected = sum(range(10))  # a reference computation the learner must not see
        return fn() + expected

    guarded = _common.guard(broken_check)
    with pytest.raises(check.CheckFailed) as failure:
        guarded(lambda: "text")
    text = rendered(failure.value)
    assert "expected = sum(range(10))" not in text and text.startswith("\u2718")


@pytest.mark.parametrize("sneak", ["enable_grad", "func_grad", "backward"])
def test_no_grad_runs_refuse_every_way_back_to_autograd(sneak):
    import torch

    def by_autograd(x):
        if sneak == "func_grad":
            return torch.func.grad(lambda v: (v ** 2).sum())(x)
        with torch.enable_grad() if sneak == "enable_grad" else torch.no_grad():
            x = x.clone().requires_grad_(True)
            (x ** 2).sum().backward()
            return x.grad

    x = torch.arange(3.0)
    assert torch.equal(_common.run(lambda v: 2 * v, x, what="x", no_grad=True), 2 * x)
    with pytest.raises(check.CheckFailed, match="RuntimeError"):
        _common.run(by_autograd, x, what="x", no_grad=True)


def test_number_accepts_python_numpy_and_one_element_tensors_only():
    import numpy as np
    import torch

    for value in (2, 2.0, np.float32(2.0), np.int64(2), torch.tensor(2.0)):
        assert _common.number(value, "the answer") == 2.0
    for value, words in ((torch.ones(2), "shape (2,)"), (True, "not a bool"),
                         ("2", "not a str")):
        with pytest.raises(check.CheckFailed) as failure:
            _common.number(value, "the answer")
        assert words in " ".join(str(failure.value).split())


def test_run_either_dtype_tries_each_dtype_and_reports_the_first_failure():
    import torch

    def float32_only(x):
        if x.dtype != torch.float32:
            raise TypeError(f"wants float32, got {x.dtype}")
        return x

    def make(dtype):
        return (torch.zeros(2, dtype=dtype),)

    result, dtype = _common.run_either_dtype(
        float32_only, make, (torch.float64, torch.float32), what="a vector")
    assert dtype == torch.float32 and result.dtype == torch.float32
    def never(x):
        raise TypeError(f"refuses {x.dtype}")

    with pytest.raises(check.CheckFailed, match="refuses torch.float64"):
        _common.run_either_dtype(never, make, (torch.float64, torch.float32),
                                 what="a vector")


def test_refused_blocks_each_target_and_restores_it_even_after_an_error():
    import math

    original = math.sqrt
    with pytest.raises(ZeroDivisionError), _common.refused([(math, "sqrt")], "no sqrt"):
        with pytest.raises(RuntimeError, match="no sqrt"):
            math.sqrt(4)
        raise ZeroDivisionError
    assert math.sqrt is original and math.sqrt(4) == 2
