"""Local copies of the scripts that the built book loads from public CDNs.

    python tools/web_assets.py [DEST]   # default: _build/web-assets

The book's pages load MathJax (Sphinx), require.js with the Jupyter widget manager (myst-nb,
on pages that embed widget state) and Font Awesome 4 (matplotlib's JavaScript animations)
from CDNs. The browser tests
(tests/test_book.py) serve those requests from these copies, so pages render in the test
as they do online, with no network. Each package comes from the npm registry with
`npm pack` (its published tarball, no dependencies) and is unpacked into DEST/<name>/.
DEST/manifest.json records name -> version.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Exact versions. mathjax: the 3.x that Sphinx's `mathjax@3` address resolves to;
# requirejs and the widget manager: the versions in _config.yml's `nb_ipywidgets_js`;
# font-awesome: the style sheet that matplotlib's JavaScript animations (to_jshtml) link.
PACKAGES = ("mathjax@3.2.2", "requirejs@2.3.4", "@jupyter-widgets/html-manager@1.0.6",
            "font-awesome@4.4.0")


def fetch(dest: Path) -> dict[str, str]:
    manifest_path = dest / "manifest.json"
    wanted = {spec.rsplit("@", 1)[0]: spec.rsplit("@", 1)[1] for spec in PACKAGES}
    if manifest_path.exists() and json.loads(manifest_path.read_text()) == wanted:
        return wanted
    if shutil.which("npm") is None:
        raise SystemExit("web_assets: npm is needed (Debian: apt-get install -y npm)")
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        for spec in PACKAGES:
            out = subprocess.run(["npm", "pack", "--json", "--silent", spec], cwd=tmp,
                                 check=True, capture_output=True, text=True).stdout
            info = json.loads(out)[0]
            target = dest / info["name"]
            with tarfile.open(Path(tmp) / info["filename"]) as tar:
                tar.extractall(Path(tmp) / "x", filter="data")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(Path(tmp) / "x" / "package", target)
            print(f"web_assets: {info['name']}@{info['version']} -> {target}")
    manifest_path.write_text(json.dumps(wanted, indent=1) + "\n")
    return wanted


if __name__ == "__main__":
    fetch(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "_build" / "web-assets")
