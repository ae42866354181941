"""The branch that the launch links open: the Jupyter edition, ready for Colab and Binder.

    python tools/edition_branch.py build [OUT]        # default OUT: _build/jupyter-branch
    python tools/edition_branch.py publish OUT [--remote origin] [--source SHA]

``build`` writes the tree of the branch into OUT:

- ``notebooks/``, ``exercises/``, ``solutions/``: the Jupyter edition
  (tools/jupyter_edition.py), at the same paths as in the repository, so that a launch
  link names the same path on either branch;
- ``binder/``: Binder's environment (Python 3.11, torch's CPU build, what learners need);
- ``src/``, ``pyproject.toml``, ``LICENSE``: the helper package, which binder/postBuild
  installs, at the same commit as the notebooks;
- ``README.md``: what the branch is, and that it is generated.

``publish`` commits OUT to the branch that _config.yml's ``launch_buttons.branch`` names
and pushes it to the remote: a new commit on top of the branch's history when something
changed, nothing otherwise (the first publication starts the branch). The Pages workflow
(.github/workflows/book.yml) runs both after building the book.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make tools/ importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools import jupyter_edition
from tools.nbtools import ROOT

OUT = ROOT / "_build" / "jupyter-branch"
PACKAGE = ("src/mlpbook", "pyproject.toml", "LICENSE")
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "*.egg-info")


def branch_name(config: dict | None = None) -> str:
    config = config if config is not None else jupyter_edition.load_config()
    branch = (config.get("launch_buttons") or {}).get("branch")
    if not branch or branch == (config.get("repository") or {}).get("branch", "main"):
        raise SystemExit("_config.yml: launch_buttons.branch must name the edition's own "
                         "branch, not the source's")
    return branch


def readme(config: dict) -> str:
    repo = config["repository"]["url"].rstrip("/")
    source = config["repository"].get("branch", "main")
    return f"""# {config['title']}: the notebooks for Jupyter, Colab and Binder

This branch is generated from the `{source}` branch by the book's Pages workflow
(`tools/edition_branch.py`); do not edit it, edit `{source}` instead: {repo}

It holds the Jupyter edition of the course's notebooks (`make jupyter`): the chapters
(`notebooks/`), the exercises (`exercises/`) and their solutions (`solutions/`), with the
book's MyST turned into plain Markdown, so that JupyterLab, Jupyter Notebook, VS Code and
Colab show the numbers, links and folded answers that the online book shows
({jupyter_edition.online_base(config)}).

- Colab: the first cell of each notebook installs the helper package.
- Binder: `binder/` holds the environment (Python 3.11, PyTorch's CPU build), and
  `binder/postBuild` installs the helper package from `src/`.
- Your own machine: clone `{source}` and run `make lab`.

Code: MIT. Prose and figures: CC BY 4.0.
"""


def build(out: Path = OUT, edition: Path | None = None) -> Path:
    """Write the branch's tree to ``out``; ``edition``: an already built edition to copy."""
    config = jupyter_edition.load_config()
    branch_name(config)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    if edition is None:
        jupyter_edition.build(out)
    else:
        for folder in jupyter_edition.FOLDERS:
            shutil.copytree(edition / folder, out / folder, ignore=IGNORE)
    shutil.copytree(ROOT / "binder", out / "binder", ignore=IGNORE)
    for name in PACKAGE:
        source, target = ROOT / name, out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=IGNORE)
        else:
            shutil.copy2(source, target)
    (out / "README.md").write_text(readme(config), encoding="utf-8")
    return out


def _git(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, check=check, capture_output=True, text=True)


def publish(tree: Path, remote: str = "origin", branch: str | None = None,
            source: str | None = None, repo: Path = ROOT) -> str | None:
    """Commit ``tree`` to ``branch`` of ``remote`` (a remote of ``repo``) and push it.

    The commit is made in a temporary worktree of ``repo``, so the push uses the
    repository's own credentials (in the workflow: actions/checkout's token). Returns the
    new commit, or None when the branch already holds exactly this tree.
    """
    branch = branch or branch_name()
    source = source or _git("rev-parse", "HEAD", cwd=repo).stdout.strip()
    exists = _git("ls-remote", "--exit-code", "--heads", remote, branch, cwd=repo,
                  check=False).returncode == 0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "branch"
        if exists:
            _git("fetch", "--quiet", "--depth", "1", remote, branch, cwd=repo)
            _git("worktree", "add", "--quiet", "--detach", str(work), "FETCH_HEAD", cwd=repo)
        else:
            _git("worktree", "add", "--quiet", "--detach", str(work), cwd=repo)
            _git("checkout", "--quiet", "--orphan", f"{branch}-new", cwd=work)
        try:
            _git("rm", "-r", "-q", "--ignore-unmatch", "--cached", ".", cwd=work)
            for child in work.iterdir():
                if child.name != ".git":
                    shutil.rmtree(child) if child.is_dir() else child.unlink()
            shutil.copytree(tree, work, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".git"))
            _git("add", "--all", ".", cwd=work)
            if exists and _git("diff", "--cached", "--quiet", "HEAD", cwd=work,
                               check=False).returncode == 0:
                print(f"edition_branch: {branch} already holds this edition")
                return None
            identity = ["-c", "user.name=github-actions[bot]", "-c",
                        "user.email=41898282+github-actions[bot]@users.noreply.github.com"]
            _git(*identity, "commit", "--quiet", "-m",
                 f"Jupyter edition of {source[:12]}\n\nGenerated by tools/edition_branch.py "
                 f"from {source}.", cwd=work)
            _git("push", "--quiet", remote, f"HEAD:refs/heads/{branch}", cwd=work)
            commit = _git("rev-parse", "HEAD", cwd=work).stdout.strip()
        finally:
            _git("worktree", "remove", "--force", str(work), cwd=repo, check=False)
            _git("branch", "-D", f"{branch}-new", cwd=repo, check=False)
    print(f"edition_branch: pushed {commit[:12]} to {branch}")
    return commit


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build_cmd = commands.add_parser("build", help="write the branch's tree")
    build_cmd.add_argument("out", nargs="?", type=Path, default=OUT)
    build_cmd.add_argument("--edition", type=Path, help="copy this built edition")
    publish_cmd = commands.add_parser("publish", help="commit and push the tree")
    publish_cmd.add_argument("tree", type=Path)
    publish_cmd.add_argument("--remote", default="origin")
    publish_cmd.add_argument("--source", help="the commit the edition was built from")
    args = parser.parse_args(argv)
    if args.command == "build":
        out = build(args.out, args.edition)
        print(f"edition_branch: the {branch_name()} branch's tree in {out}")
    else:
        publish(args.tree, args.remote, source=args.source)


if __name__ == "__main__":
    main()
