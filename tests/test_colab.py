"""The notebooks as Colab runs them, simulated offline.

Colab opens a notebook of the Jupyter edition in Python 3.12 with its own packages
preinstalled; the notebook's first cell then pip-installs the course's helper package from
the repository (and, for the chapters whose data sets come from the ``apps`` extra,
``mlpbook[apps]``). The slow test repeats that for two chapters, one of Part I and one
that needs the extra:

1. a fresh environment over the "Colab image" that `make colab-image` prepares once
   (tools/colab_image.py: Python 3.12 with Colab's preinstalled packages, and the wheels
   the first cell installs), in which ``google.colab`` is imported at kernel start, as on
   Colab, so that the first cell's condition holds;
2. the first cell, untouched but for its git address, which points at this clone of the
   repository (``git+file://``: pip installs its committed HEAD), with pip offline
   (``--no-index``, the image's wheels);
3. the chapter at its smoke settings, in an empty working directory, as Colab's /content.

The static test says which chapters need the extra: exactly those whose code uses a
package of ``apps`` that Colab does not preinstall, directly or through a function of
``mlpbook`` that imports it.
"""

from __future__ import annotations

import ast
import functools
import json
import os
import re
from pathlib import Path

import nbformat
import pytest
import tomllib
import yaml
from conftest import CHAPTERS, EXERCISES, ROOT, SOLUTIONS, parameters_cell, read, smoke_parameters

from tools import colab_image, jupyter_edition

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
REPOSITORY = CONFIG["repository"]["url"].rstrip("/")
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
PREINSTALLED = {colab_image.canonical(p) for p in colab_image.PREINSTALLED}
# The packages of the apps extra that Colab lacks: a notebook that uses one needs the extra.
APPS_ONLY = {colab_image.canonical(p) for p in PROJECT["optional-dependencies"]["apps"]
             } - PREINSTALLED
PACKAGE = ROOT / "src" / "mlpbook"


def first_code_cell(nb) -> nbformat.NotebookNode:
    return next(c for c in nb.cells if c.cell_type == "code")


def install_requirement(nb) -> str:
    """The requirement the first cell passes to pip ("mlpbook[apps] @ git+...")."""
    strings = [n.value for n in ast.walk(ast.parse(first_code_cell(nb).source))
               if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    found = [s for s in strings if s.startswith("mlpbook")]
    assert len(found) == 1, f"the first cell should install mlpbook once: {strings}"
    return found[0]


def installs_apps(nb) -> bool:
    return re.match(r"mlpbook\s*\[apps\]\s*@", install_requirement(nb)) is not None


# --- which notebooks need the apps extra -------------------------------------------------------

def _used_packages(node: ast.AST) -> set[str]:
    """Top-level packages that ``node`` imports, or names in a string (find_spec("x"))."""
    found = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Import):
            found |= {a.name.split(".")[0] for a in sub.names}
        elif isinstance(sub, ast.ImportFrom) and sub.module and not sub.level:
            found.add(sub.module.split(".")[0])
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            found.add(sub.value)
    return {colab_image.canonical(f) for f in found}


@functools.cache
def helper_functions_needing_apps() -> frozenset[str]:
    """``module.function`` of every mlpbook function that needs an apps-only package,
    directly or through another function of its module."""
    needing = set()
    for path in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}
        calls = {name: {n.id for n in ast.walk(f) if isinstance(n, ast.Name)} & set(functions)
                 for name, f in functions.items()}
        direct = {name for name, f in functions.items() if _used_packages(f) & APPS_ONLY}
        closure = set(direct)
        while True:
            more = {name for name in functions if calls[name] & closure} - closure
            if not more:
                break
            closure |= more
        needing |= {f"{path.stem}.{name}" for name in closure}
    return frozenset(needing)


def needs_apps(nb) -> bool:
    code = [c.source for c in nb.cells if c.cell_type == "code"][1:]  # after the install cell
    helpers = helper_functions_needing_apps()
    for source in code:
        if _used_packages(ast.parse(_python(source))) & APPS_ONLY:
            return True
        calls = {".".join(m) for m in re.findall(r"\b([a-z_]+)\.([A-Za-z_]\w*)\s*\(", source)}
        if calls & helpers:
            return True
    return False


def _python(source: str) -> str:
    """The cell without IPython's magics and shell escapes."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())


def test_the_helper_functions_that_need_the_apps_extra_are_found():
    helpers = helper_functions_needing_apps()
    assert APPS_ONLY, "pyproject.toml's apps extra has nothing Colab lacks"
    assert helpers, "no function of mlpbook uses the apps extra: is the analysis blind?"
    assert not {h for h in helpers if h.split(".")[1] in ("blobs", "xor", "split")}


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_a_chapter_installs_the_apps_extra_exactly_when_its_code_needs_it(path):
    nb = read(path)
    needed = needs_apps(nb)
    assert installs_apps(nb) == needed, (
        f"the code {'uses' if needed else 'does not use'} a package of the apps extra that "
        f"Colab lacks ({sorted(APPS_ONLY)}), so the first cell should install "
        f"{'mlpbook[apps]' if needed else 'mlpbook without [apps]'}")


@pytest.mark.parametrize("path", EXERCISES + SOLUTIONS, ids=str)
def test_exercises_that_need_the_apps_extra_install_it(path):
    # An exercise notebook may install what its chapter installs, even when its own
    # code does not need it; it must install the extra when it does.
    nb = read(path)
    assert installs_apps(nb) or not needs_apps(nb), (
        f"the code uses a package of the apps extra that Colab lacks ({sorted(APPS_ONLY)}): "
        "the first cell should install mlpbook[apps]")


# --- the simulation --------------------------------------------------------------------------

PART_ONE = CHAPTERS[0]
WITH_APPS = next((p for p in CHAPTERS if installs_apps(read(p))), None)
SIMULATED = [PART_ONE] + ([WITH_APPS] if WITH_APPS else [])


def test_the_simulation_covers_part_one_and_the_apps_extra():
    assert not installs_apps(read(PART_ONE)) and WITH_APPS is not None


def colab_kernel(tmp_path: Path) -> tuple[str, Path]:
    """A fresh environment over the image, with a kernel named "colab"; its site-packages."""
    venv = tmp_path / "venv"
    python = colab_image.layered_venv(venv)
    site = colab_image.site_packages(venv)
    (site / "google" / "colab").mkdir(parents=True)
    (site / "google" / "colab" / "__init__.py").write_text(
        '"""Stands for Colab\'s own module, which Colab imports when a kernel starts."""\n')
    startup = tmp_path / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-colab.py").write_text("import google.colab  # noqa: F401\n")
    spec = tmp_path / "jupyter" / "kernels" / "colab"
    spec.mkdir(parents=True)
    env = {"IPYTHONDIR": str(tmp_path / "ipython"),
           # pip offline, from the image's wheels only, with no configuration file.
           "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(colab_image.WHEELS),
           "PIP_CONFIG_FILE": os.devnull, "PIP_NO_CACHE_DIR": "1",
           "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONNOUSERSITE": "1"}
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab (simulated)", "language": "python", "env": env}))
    return str(tmp_path / "jupyter"), site


def distributions(site) -> dict[str, dict]:
    """{name: direct_url.json or {}} of the packages installed in ``site``."""
    found = {}
    for info in site.glob("*.dist-info"):
        name = colab_image.canonical(info.name.removesuffix(".dist-info").rsplit("-", 1)[0])
        direct = info / "direct_url.json"
        found[name] = json.loads(direct.read_text()) if direct.exists() else {}
    return found


@pytest.mark.slow
@pytest.mark.parametrize("path", SIMULATED, ids=lambda p: p.name)
def test_chapter_runs_on_simulated_colab_after_its_first_cell_installs_the_helper(
        path, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    if not colab_image.MANIFEST.exists():
        pytest.fail("the Colab image is missing: run `make colab-image` "
                    "(tools/colab_image.py; make test does it first)")
    jupyter_path, site = colab_kernel(tmp_path)
    monkeypatch.setenv("JUPYTER_PATH", jupyter_path)
    monkeypatch.setenv("MLPBOOK_STATIC", "0")  # Colab: live widgets, even under CI

    config = jupyter_edition.load_config()
    nb = jupyter_edition.convert(path, jupyter_edition.online_base(config),
                                 jupyter_edition.citations(ROOT / "book" / "references.bib"),
                                 jupyter_edition.chapter_stems())
    install = first_code_cell(nb)
    assert install.source.count(f"git+{REPOSITORY}") == 1
    install.source = install.source.replace(f"git+{REPOSITORY}", f"git+{ROOT.as_uri()}")
    parameters = smoke_parameters(read(path))
    smoke = nbformat.v4.new_code_cell("\n".join(f"{k} = {v!r}" for k, v in parameters.items()))
    nb.cells.insert(nb.cells.index(parameters_cell(nb)) + 1, smoke)

    content = tmp_path / "content"  # Colab's working directory: nothing of the repository
    content.mkdir()
    NotebookClient(nb, kernel_name="colab", timeout=900,
                   resources={"metadata": {"path": str(content)}}).execute()

    installed = distributions(site)
    helper = installed.get("mlpbook")
    assert helper is not None, "the first cell did not install mlpbook"
    assert helper.get("vcs_info", {}).get("vcs") == "git", helper
    assert "myst-nb" in installed
    assert "torch" not in installed, "the first cell reinstalled torch over Colab's"
    extra = APPS_ONLY & set(installed)
    assert extra == (APPS_ONLY if installs_apps(nb) else set()), extra
    shown = "\n".join(str(o.get("text", "")) for o in install.outputs)
    assert "ERROR" not in shown, shown
