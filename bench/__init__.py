"""``make bench``: how long each chapter takes, what it finds, and whether it meets its targets.

- ``targets.yaml``: the targets, the one place for them;
- ``run``: runs the chapters and writes ``results.json`` and ``book/results.md``;
- ``execute``: runs one notebook in a fresh process and measures its kernel;
- ``micro``: times the chapters' from-scratch code against PyTorch;
- ``report``: the pure part (glue values, checks, statistics, the page), which the tests use.

Benchmarks are not tests: ``make test`` never asserts a time. It checks that
``results.json`` is well-formed and that ``book/results.md`` agrees with it.
"""
