"""Exercise checks: ``check.<exercise>(your_function)``.

Each check runs the learner's function on several cases, edge cases
included. It prints one line with a tick on success. On failure it stops
with a short verdict: the hint and the failing case, never the answer and
never a traceback into this package (see ``_common``).

The checks of chapter NN live in ``chNN.py`` and are listed in its
``__all__``; this package gathers them, each wrapped by ``_common.guard``,
so that notebooks call ``check.step`` rather than ``check.ch01.step``.
"""

import importlib
import pkgutil

from ._common import CheckFailed, ExerciseNotDone, guard

__all__: list[str] = ["CheckFailed", "ExerciseNotDone"]

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if not _info.name.startswith("ch"):
        continue
    _module = importlib.import_module(f"{__name__}.{_info.name}")
    for _name in _module.__all__:
        if _name in globals():
            raise ImportError(f"check.{_name} is defined twice (second time in {_info.name})")
        globals()[_name] = guard(getattr(_module, _name))
        __all__.append(_name)
