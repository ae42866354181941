"""Launch links open the Jupyter edition; Binder gets an environment of its own.

The book's Colab and Binder buttons, its {colab} and {binder} roles and its notebook
downloads (each page's .ipynb and the notebooks zip) give the Jupyter edition
(tools/jupyter_edition.py), which the Pages workflow publishes to the branch that
_config.yml's ``launch_buttons.branch`` names (tools/edition_branch.py), with
``binder/``. The repository and "suggest an edit" buttons keep ``repository.branch``.

The tests marked ``browser`` read the built book (`make build-check`; another build with
``BOOK_HTML=path/to/html``); the others need nothing built.
"""

from __future__ import annotations

import ast
import html as html_module
import json
import os
import re
import subprocess
import zipfile
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
import tomllib
import yaml
from conftest import CHAPTERS, EXERCISES, ROOT, SOLUTIONS, read

from tools import bookext, edition_branch, jupyter_edition

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
REPOSITORY = CONFIG["repository"]["url"].rstrip("/")
REPO = REPOSITORY.removeprefix("https://github.com/")
SOURCE_BRANCH = CONFIG["repository"].get("branch", "main")
EDITION_BRANCH = CONFIG["launch_buttons"]["branch"]
COLAB = CONFIG["launch_buttons"]["colab_url"].rstrip("/")
BINDER = CONFIG["launch_buttons"]["binderhub_url"].rstrip("/")
HTML = Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html"))
BINDER_DIR = ROOT / "binder"
NOTEBOOKS = CHAPTERS + EXERCISES + SOLUTIONS


def fake_app(**launch) -> SimpleNamespace:
    """What the roles read of Sphinx's app: the theme options Jupyter Book makes of
    _config.yml's repository and launch_buttons keys."""
    options = {"repository_url": REPOSITORY, "repository_branch": SOURCE_BRANCH,
               "launch_buttons": dict(CONFIG["launch_buttons"], **launch)}
    return SimpleNamespace(config=SimpleNamespace(html_theme_options=options))


# --- the configuration and the roles ----------------------------------------------------------

def test_config_names_an_edition_branch_apart_from_the_source_branch():
    assert re.fullmatch(r"[a-z][a-z0-9-]*", EDITION_BRANCH)
    assert EDITION_BRANCH != SOURCE_BRANCH
    assert edition_branch.branch_name(CONFIG) == EDITION_BRANCH


def test_colab_and_binder_roles_open_the_edition_branch():
    app = fake_app()
    url, label = bookext.colab_url(app, "notebooks/01_perceptron.ipynb")
    assert url == f"{COLAB}/github/{REPO}/blob/{EDITION_BRANCH}/notebooks/01_perceptron.ipynb"
    assert label == "Open in Colab"
    url, _ = bookext.binder_url(app, "notebooks/01_perceptron.ipynb")
    assert url == f"{BINDER}/v2/gh/{REPO}/{EDITION_BRANCH}?labpath=notebooks/01_perceptron.ipynb"
    assert bookext.binder_url(app, "")[0] == f"{BINDER}/v2/gh/{REPO}/{EDITION_BRANCH}?urlpath=lab"


def test_without_an_edition_branch_the_roles_fall_back_to_the_source_branch():
    url, _ = bookext.colab_url(fake_app(branch=""), "exercises/02_x.ipynb")
    assert f"/blob/{SOURCE_BRANCH}/exercises/02_x.ipynb" in url


def test_theme_launch_buttons_are_rebuilt_for_the_edition_and_other_buttons_kept(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "01_x.ipynb").write_text("{}")
    app = fake_app()
    app.srcdir = str(tmp_path)
    app.config.html_theme_options["path_to_docs"] = ""
    app.env = SimpleNamespace(doc2path=lambda doc: str(tmp_path / f"{doc}.ipynb"))
    theme = f"{COLAB}/github/{REPO}/blob/{SOURCE_BRANCH}/notebooks/01_x.ipynb"
    edit = {"url": f"https://github.com/{REPO}/edit/{SOURCE_BRANCH}/notebooks/01_x.ipynb"}
    context = {"header_buttons": [
        {"label": "launch-buttons", "buttons": [
            {"text": "Binder", "url": f"{BINDER}/v2/gh/{REPO}/{SOURCE_BRANCH}?urlpath=x"},
            {"text": "Colab", "url": theme}]},
        {"label": "source-buttons", "buttons": [dict(edit)]}]}
    bookext.launch_the_edition(app, "notebooks/01_x", "page.html", context, None)
    binder, colab = context["header_buttons"][0]["buttons"]
    assert colab["url"] == theme.replace(f"/blob/{SOURCE_BRANCH}/", f"/blob/{EDITION_BRANCH}/")
    assert binder["url"] == (f"{BINDER}/v2/gh/{REPO}/{EDITION_BRANCH}"
                             "?urlpath=lab/tree/notebooks/01_x.ipynb")
    assert context["header_buttons"][1]["buttons"] == [edit]


# --- Binder -----------------------------------------------------------------------------------

def binder_environment() -> dict:
    return yaml.safe_load((BINDER_DIR / "environment.yml").read_text(encoding="utf-8"))


def conda_and_pip() -> tuple[dict[str, str], dict[str, str]]:
    """{name: spec} of the conda packages and of the pip packages of environment.yml."""
    conda, pip = {}, {}
    for entry in binder_environment()["dependencies"]:
        if isinstance(entry, dict):
            for line in entry["pip"]:
                name, _, version = line.partition("==")
                pip[name.strip().lower()] = version.strip()
        else:
            name, _, spec = entry.partition("=")
            conda[name.strip().lower()] = spec.strip()
    return conda, pip


def pinned() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.strip().lower()] = version.strip().split("+")[0]
    return pins


def test_binder_uses_python_3_11_and_conda_forges_cpu_build_of_torch():
    environment = binder_environment()
    conda, _ = conda_and_pip()
    assert environment["channels"][0] == "conda-forge"
    assert "defaults" not in environment["channels"]
    assert conda["python"] == "3.11"
    version, _, build = conda["pytorch"].partition("=")
    assert version == pinned()["torch"], "Binder's torch should be the tested version"
    assert build.startswith("cpu"), "conda-forge's CPU build: its build string starts cpu_"
    assert not {"pytorch", "nvidia"} & set(environment["channels"])
    _, pip = conda_and_pip()
    gpu = [n for n in set(conda) | set(pip) if re.search(r"cuda|nvidia|gpu|^torch$", n)]
    assert not gpu, f"no CUDA package, no GPU build, no torch from pip: {gpu}"


LEARNERS_DO_NOT_NEED = ("pytest", "playwright", "jupyter-book", "ruff", "nbval", "papermill",
                        "nbgrader", "axe-playwright-python", "pytest-xdist", "sphinx-book-theme",
                        "coverage", "pypdf", "jupytext")


def test_binder_installs_only_what_learners_need():
    conda, pip = conda_and_pip()
    installed = set(conda) | set(pip)
    assert not installed & set(LEARNERS_DO_NOT_NEED), installed & set(LEARNERS_DO_NOT_NEED)
    # Every dependency of the helper package and of its apps extra is there.
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = meta["dependencies"] + meta["optional-dependencies"]["apps"]
    aliases = {"torch": "pytorch", "matplotlib": "matplotlib-base"}
    for name in (re.split(r"[<>=\[ ;]", w)[0].lower() for w in wanted):
        assert aliases.get(name, name) in installed, f"{name} is missing from binder/"


def test_binder_versions_follow_requirements_txt():
    conda, pip = conda_and_pip()
    pins = pinned()
    for name, version in pip.items():
        assert version == pins[name], f"{name}: binder {version}, requirements.txt {pins[name]}"
    aliases = {"pytorch": "torch", "matplotlib-base": "matplotlib"}
    for name, spec in conda.items():
        if name in ("python", "pip"):
            continue
        version = spec.split("=")[0]
        prefix = version.removesuffix("*").rstrip(".")
        assert pins[aliases.get(name, name)].startswith(prefix), (
            f"{name}: binder {version}, requirements.txt {pins[aliases.get(name, name)]}")


def test_binder_installs_the_helper_package_from_the_branch_and_limits_threads():
    post = (BINDER_DIR / "postBuild").read_text(encoding="utf-8")
    assert post.startswith("#!") and os.access(BINDER_DIR / "postBuild", os.X_OK)
    assert re.search(r"pip install --no-deps .*\.$", post, re.M)
    start = (BINDER_DIR / "start").read_text(encoding="utf-8")
    assert os.access(BINDER_DIR / "start", os.X_OK) and start.rstrip().endswith('exec "$@"')
    assert "OMP_NUM_THREADS" in start


def test_binder_provides_every_package_the_notebooks_import():
    conda, pip = conda_and_pip()
    # Import names that differ from the package's, and what the package or Jupyter brings.
    provided = set(conda) | set(pip) | {"mlpbook", "sklearn", "torch", "matplotlib",
                                        "mpl_toolkits", "ipython"}
    stdlib = set(__import__("sys").stdlib_module_names)
    for path in NOTEBOOKS:
        for cell in read(path).cells:
            if cell.cell_type != "code" or cell.source.lstrip().startswith(("%", "!")):
                continue
            for node in ast.walk(ast.parse(cell.source)):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module] if isinstance(node, ast.ImportFrom) and node.module
                         else [])
                for name in names:
                    top = name.split(".")[0].lower()
                    if top in stdlib or top == "google":
                        continue
                    assert top.replace("_", "-") in provided or top in provided, (
                        f"{path.name} imports {top}, which binder/ does not install")


# --- the edition branch -----------------------------------------------------------------------

@pytest.fixture
def small_edition(tmp_path):
    """An already built edition with one notebook per folder."""
    edition = tmp_path / "edition"
    for folder in jupyter_edition.FOLDERS:
        (edition / folder).mkdir(parents=True)
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# x")]),
                       edition / folder / "01_x.ipynb")
    return edition


def test_edition_branch_holds_the_edition_binder_and_the_helper_package(tmp_path, small_edition):
    out = edition_branch.build(tmp_path / "branch", small_edition)
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    for folder in jupyter_edition.FOLDERS:
        assert f"{folder}/01_x.ipynb" in names
    for name in ("binder/environment.yml", "binder/postBuild", "binder/start",
                 "pyproject.toml", "LICENSE", "README.md", "src/mlpbook/__init__.py"):
        assert name in names, name
    assert os.access(out / "binder" / "postBuild", os.X_OK)
    assert not [n for n in names if "__pycache__" in n or n.startswith(("tests/", "tools/"))]
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "generated" in readme and REPOSITORY in readme


def git(*args, cwd) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def test_publishing_starts_the_branch_then_adds_a_commit_only_when_the_edition_changes(
        tmp_path, small_edition):
    remote, repo = tmp_path / "remote.git", tmp_path / "repo"
    git("init", "--quiet", "--bare", str(remote), cwd=tmp_path)
    git("init", "--quiet", "--initial-branch", "main", str(repo), cwd=tmp_path)
    (repo / "a.txt").write_text("source\n")
    git("add", "a.txt", cwd=repo)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "source",
        cwd=repo)
    git("remote", "add", "origin", str(remote), cwd=repo)
    git("push", "--quiet", "origin", "main", cwd=repo)
    tree = edition_branch.build(tmp_path / "branch", small_edition)

    first = edition_branch.publish(tree, branch="edition", repo=repo)
    assert first and git("rev-parse", "edition", cwd=remote) == first
    files = git("ls-tree", "-r", "--name-only", "edition", cwd=remote).split("\n")
    assert "binder/environment.yml" in files and "a.txt" not in files
    assert git("rev-parse", "main", cwd=remote) != first  # main is untouched

    assert edition_branch.publish(tree, branch="edition", repo=repo) is None
    (tree / "notebooks" / "01_x.ipynb").unlink()
    second = edition_branch.publish(tree, branch="edition", repo=repo)
    assert git("rev-parse", "edition^", cwd=remote) == first
    assert "notebooks/01_x.ipynb" not in git("ls-tree", "-r", "--name-only", second,
                                             cwd=remote)
    assert not git("worktree", "list", "--porcelain", cwd=repo).count("worktree ") - 1


# --- the built book ---------------------------------------------------------------------------

browser = pytest.mark.browser


@pytest.fixture(scope="module")
def html():
    if not (HTML / "index.html").exists():
        pytest.fail(f"{HTML} is missing: run `make build-check` first")
    return HTML


def built_pages(html) -> list[tuple[str, Path]]:
    pages = []
    for path in NOTEBOOKS:
        doc = f"{path.parent.name}/{path.stem}"
        if (html / f"{doc}.html").exists():
            pages.append((doc, html / f"{doc}.html"))
    return pages


A_TAG = re.compile(r"<a\s([^>]*)>")
ATTRIBUTE = re.compile(r'([\w:-]+)="([^"]*)"')


def links(page: Path) -> dict[str, list[str]]:
    """The page's links by kind (a pattern, not a parser: pages carry MBs of images)."""
    anchors = [{k: html_module.unescape(v) for k, v in ATTRIBUTE.findall(m[1])}
               for m in A_TAG.finditer(page.read_text(encoding="utf-8"))]
    anchors = [a for a in anchors if "href" in a]

    def with_class(name):
        return [a["href"] for a in anchors if name in a.get("class", "").split()]

    return {"launch": [a["href"] for a in anchors
                       if a.get("title", "").startswith("Launch on ")],
            "repository": with_class("btn-source-repository-button"),
            "edit": with_class("btn-source-edit-button"),
            "download": with_class("btn-download-source-button"),
            "all": [a["href"] for a in anchors]}


@browser
def test_every_notebook_page_launches_the_edition_and_edits_the_source(html):
    pages = built_pages(html)
    assert len(pages) >= len(CHAPTERS), "the chapters are not in the build"
    for doc, page in pages:
        found = links(page)
        colab = f"{COLAB}/github/{REPO}/blob/{EDITION_BRANCH}/{doc}.ipynb"
        binder = f"{BINDER}/v2/gh/{REPO}/{EDITION_BRANCH}?urlpath=lab/tree/{doc}.ipynb"
        assert sorted(found["launch"]) == sorted([binder, colab]), (doc, found["launch"])
        assert found["repository"] == [REPOSITORY], doc
        assert len(found["edit"]) == 1 and found["edit"][0].startswith(
            f"{REPOSITORY}/edit/{SOURCE_BRANCH}/"), (doc, found["edit"])
        stale = [u for u in found["all"] if f"/blob/{SOURCE_BRANCH}/" in u and "colab" in u
                 or f"/v2/gh/{REPO}/{SOURCE_BRANCH}" in u]
        assert not stale, f"{doc}: a launch link opens the source: {stale}"


@browser
def test_the_pages_colab_and_binder_roles_open_the_edition(html):
    pages = [html / "index.html", *html.glob("book/*.html"), *(p for _, p in built_pages(html))]
    found = [u for page in pages for u in links(page)["all"] if u.startswith((COLAB, BINDER))]
    assert found, "no Colab or Binder link in the book"
    for url in found:
        assert f"/blob/{EDITION_BRANCH}/" in url or f"/gh/{REPO}/{EDITION_BRANCH}?" in url, url


def myst_left(nb) -> list[str]:
    return [jupyter_edition.MYST_ONLY.search(c.source)[0] for c in nb.cells
            if c.cell_type == "markdown" and jupyter_edition.MYST_ONLY.search(c.source)]


@browser
def test_each_pages_notebook_download_is_the_edition(html):
    for doc, page in built_pages(html):
        downloads = [u for u in links(page)["download"] if u.endswith(".ipynb")]
        assert downloads, f"{doc}: no notebook download"
        target = (page.parent / downloads[0]).resolve()
        assert target == (html / "_sources" / f"{doc}.ipynb").resolve()
        nb = nbformat.read(target, as_version=4)
        assert not myst_left(nb), f"{doc}: the download has MyST: {myst_left(nb)[:1]}"
        if doc.startswith("notebooks/"):
            assert any("<details><summary>" in c.source for c in nb.cells), (
                f"{doc}: the download has no collapsed answer")


@browser
def test_the_notebooks_zip_carries_the_edition(html):
    with zipfile.ZipFile(html / bookext.NOTEBOOKS_ZIP) as z:
        names = [n for n in z.namelist() if n.endswith(".ipynb")]
        assert len(names) == len(built_pages(html))
        for name in names:
            nb = nbformat.reads(z.read(name).decode("utf-8"), as_version=4)
            assert not myst_left(nb), f"{name} has MyST: {myst_left(nb)[:1]}"
            assert json.loads(z.read(name))["nbformat"] == 4
