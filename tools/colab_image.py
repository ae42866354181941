"""The "Colab image" that tests/test_colab.py runs the notebooks' first cell against.

    python tools/colab_image.py [--python PYTHON]   # -> .colab/  (make colab-image)

Colab runs a notebook in Python 3.12 with a set of packages already installed; the
notebook's first cell then installs only what is missing (the helper package, myst-nb,
and for some chapters the `apps` extra). The test repeats that offline, so this script
prepares, once, everything that needs the network:

- ``.colab/image/``: a Python 3.12 virtual environment with the packages Colab
  preinstalls (``PREINSTALLED``, at the versions ``requirements.txt`` pins). On x86_64,
  torch for Python 3.12 comes from PyPI as the CUDA build: about 3.5 GB with its NVIDIA
  libraries, as on Colab.
- ``.colab/wheels/``: every wheel the first cell installs on top of that image, found by
  asking pip what it would install (``pip install --dry-run --report``) for
  ``mlpbook`` and ``mlpbook[apps]`` in a layer over the image; plus setuptools, which
  builds mlpbook from its git clone.
- ``.colab/manifest.json``: what the two hold and the inputs they were made from. A
  second run does nothing unless those inputs changed (the pins of ``PREINSTALLED``, the
  Python version, the dependencies in ``pyproject.toml``).

Each test makes a fresh, small "layer" over the image (:func:`layered_venv`): a venv whose
``.pth`` file puts the image's site-packages on its path, as Colab's preinstalled
dist-packages are, so pip sees the preinstalled packages and installs only the rest.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
COLAB = ROOT / ".colab"
IMAGE = COLAB / "image"
WHEELS = COLAB / "wheels"
MANIFEST = COLAB / "manifest.json"
PYTHON_VERSION = "3.12"
# What Colab has installed before a notebook's first cell runs, as far as the course is
# concerned: its scientific stack and its Jupyter kernel.
PREINSTALLED = ("torch", "numpy", "matplotlib", "scikit-learn", "pandas", "scipy", "tqdm",
                "ipywidgets", "ipykernel", "nbformat")
# Builds mlpbook from its git clone (pyproject.toml's build-system).
BUILD_TOOLS = ("setuptools",)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(requirements: Path = ROOT / "requirements.txt") -> dict[str, str]:
    """The version requirements.txt pins for each of PREINSTALLED (``name==version``)."""
    found = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s;#]+)", line)
        if match and canonical(match[1]) in map(canonical, PREINSTALLED):
            found[canonical(match[1])] = match[2].split("+")[0]  # 2.13.0+cpu -> 2.13.0
    missing = [p for p in PREINSTALLED if canonical(p) not in found]
    if missing:
        raise SystemExit(f"colab_image: requirements.txt pins no version of {missing}")
    return found


def dependencies(pyproject: Path = ROOT / "pyproject.toml") -> dict:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    return {"dependencies": project["dependencies"],
            "optional": project.get("optional-dependencies", {})}


def find_python(explicit: str | None = None) -> str:
    """A Python 3.12 interpreter: --python, python3.12 on PATH, or pyenv's."""
    candidates = [explicit] if explicit else []
    candidates += [shutil.which(f"python{PYTHON_VERSION}")]
    candidates += sorted(glob.glob(os.path.expanduser(
        f"~/.pyenv/versions/{PYTHON_VERSION}.*/bin/python{PYTHON_VERSION}")), reverse=True)
    for candidate in filter(None, candidates):
        out = subprocess.run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip() == PYTHON_VERSION:
            return candidate
    raise SystemExit(f"colab_image: no Python {PYTHON_VERSION} found (pass --python; pyenv "
                     f"install {PYTHON_VERSION} or apt-get install python{PYTHON_VERSION})")


def python_of(venv: Path) -> Path:
    return venv / "bin" / "python"


def site_packages(venv: Path) -> Path:
    found = sorted((venv / "lib").glob("python3.*/site-packages"))
    if len(found) != 1:
        raise FileNotFoundError(f"{venv}: expected one lib/python3.*/site-packages")
    return found[0]


def layered_venv(dest: Path, image: Path = IMAGE) -> Path:
    """A new venv at ``dest`` that sees the image's packages as preinstalled; its python.

    No pip of its own: ``python -m pip`` finds the image's pip, which installs into this
    venv (its own site-packages come first on the path, the image's after them).
    """
    subprocess.run([str(python_of(image)), "-m", "venv", "--without-pip", str(dest)],
                   check=True)
    (site_packages(dest) / "colab_preinstalled.pth").write_text(
        f"{site_packages(image)}\n", encoding="utf-8")
    return python_of(dest)


def _pip(python: Path | str, *args: str, env: dict | None = None) -> None:
    subprocess.run([str(python), "-m", "pip", *args], check=True, env=env)


def _inputs(python: str) -> dict:
    version = subprocess.run([python, "-c", "import sys; print(sys.version.split()[0])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    image = {"python": version, "preinstalled": pins()}
    digest = hashlib.sha256(json.dumps(image, sort_keys=True).encode()).hexdigest()[:16]
    wheels = {"image": digest, "mlpbook": dependencies(), "build_tools": BUILD_TOOLS}
    return {"image": image, "image_key": digest,
            "wheels_key": hashlib.sha256(json.dumps(wheels, sort_keys=True).encode())
            .hexdigest()[:16]}


def build_image(python: str, image: Path = IMAGE) -> None:
    shutil.rmtree(image, ignore_errors=True)
    subprocess.run([python, "-m", "venv", str(image)], check=True)
    _pip(python_of(image), "install", "--quiet", "--upgrade", "pip")
    _pip(python_of(image), "install", "--quiet",
         *[f"{name}=={version}" for name, version in pins().items()])


def resolve_wheels(image: Path = IMAGE, wheels: Path = WHEELS) -> list[str]:
    """Download (or build) every wheel the first cell installs over the image."""
    shutil.rmtree(wheels, ignore_errors=True)
    wheels.mkdir(parents=True)
    wanted: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        python = layered_venv(Path(tmp) / "layer", image)
        for extra in ("", "[apps]"):
            report = Path(tmp) / "report.json"
            _pip(python, "install", "--quiet", "--dry-run", "--report", str(report),
                 f"mlpbook{extra} @ {ROOT.as_uri()}")
            for item in json.loads(report.read_text())["install"]:
                name, version = item["metadata"]["name"], item["metadata"]["version"]
                if canonical(name) != "mlpbook":
                    wanted[canonical(name)] = version
    specs = [f"{name}=={version}" for name, version in sorted(wanted.items())]
    _pip(python_of(image), "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels),
         *specs, *BUILD_TOOLS)
    return sorted(p.name for p in wheels.glob("*.whl"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", help=f"a Python {PYTHON_VERSION} interpreter")
    args = parser.parse_args(argv)
    python = find_python(args.python)
    inputs = _inputs(python)
    old = json.loads(MANIFEST.read_text()) if MANIFEST.exists() else {}
    t0 = time.monotonic()
    image_ok = old.get("image_key") == inputs["image_key"] and python_of(IMAGE).exists()
    wheels_ok = image_ok and old.get("wheels_key") == inputs["wheels_key"] and WHEELS.is_dir()
    if image_ok and wheels_ok:
        print(f"colab_image: {COLAB.relative_to(ROOT)}/ is up to date")
        return
    COLAB.mkdir(exist_ok=True)
    MANIFEST.unlink(missing_ok=True)  # an interrupted build leaves no manifest
    if not image_ok:
        print(f"colab_image: building the image ({python}; torch's CUDA build, ~3.5 GB)")
        build_image(python)
    t1 = time.monotonic()
    print("colab_image: downloading the wheels the first cell installs")
    names = resolve_wheels()
    t2 = time.monotonic()
    manifest = inputs | {"wheels": names,
                         "seconds": {"image": round(t1 - t0), "wheels": round(t2 - t1)}}
    MANIFEST.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    print(f"colab_image: {len(names)} wheels; image {t1 - t0:.0f} s, wheels {t2 - t1:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
