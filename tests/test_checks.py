"""Every exercise check accepts a correct answer and rejects each plausible wrong one.

Each ``tests/test_check_chNN.py`` holds, for its chapter, ``CORRECT`` (check name ->
a correct function) and ``MUTANTS`` (check name -> {description: wrong function});
the tests below feed them to ``mlpbook.check``.
"""

import importlib
from pathlib import Path

import pytest

from mlpbook import check

MODULES = [importlib.import_module(p.stem)
           for p in sorted(Path(__file__).parent.glob("test_check_ch*.py"))]
CORRECT = [(m.__name__, name, fn) for m in MODULES for name, fn in sorted(m.CORRECT.items())]
MUTANTS = [(m.__name__, name, label, fn) for m in MODULES
           for name, wrong in m.MUTANTS.items() for label, fn in wrong.items()]


@pytest.mark.parametrize("module, name, fn", CORRECT, ids=[f"{m}-{n}" for m, n, _ in CORRECT])
def test_check_accepts_a_correct_answer(module, name, fn, capsys):
    getattr(check, name)(fn)
    assert capsys.readouterr().out.startswith("\u2714")


@pytest.mark.parametrize("module, name, mutant, fn", MUTANTS,
                         ids=[f"{m}-{n}-{label}" for m, n, label, _ in MUTANTS])
def test_check_rejects_a_wrong_answer_with_a_hint(module, name, mutant, fn, capsys):
    with pytest.raises(AssertionError, match="Hint|raised"):
        getattr(check, name)(fn)
    assert "\u2714" not in capsys.readouterr().out


@pytest.mark.parametrize("module, name, fn", CORRECT, ids=[f"{m}-{n}" for m, n, _ in CORRECT])
def test_check_passes_a_stub_through_and_refuses_non_functions(module, name, fn):
    def stub(*args):
        raise NotImplementedError("Exercise: stub")

    with pytest.raises(NotImplementedError):
        getattr(check, name)(stub)
    with pytest.raises(TypeError, match="expected a function"):
        getattr(check, name)(42)
