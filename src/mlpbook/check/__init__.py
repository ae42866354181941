"""Exercise checks: ``check.<exercise>(your_function)``.

Each check runs the learner's function on several cases, edge cases
included. It prints a tick on success. On failure it raises an
``AssertionError`` whose message is a hint; it never prints the answer.

The checks of chapter NN live in ``chNN.py`` and are listed in its
``__all__``; this package gathers them so that notebooks call
``check.step`` rather than ``check.ch01.step``.
"""

import importlib
import pkgutil

__all__: list[str] = []

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if not _info.name.startswith("ch"):
        continue
    _module = importlib.import_module(f"{__name__}.{_info.name}")
    for _name in _module.__all__:
        if _name in globals():
            raise ImportError(f"check.{_name} is defined twice (second time in {_info.name})")
        globals()[_name] = getattr(_module, _name)
        __all__.append(_name)
