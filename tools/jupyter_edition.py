"""The Jupyter and Colab edition: the notebooks as any Jupyter front end renders them.

    python tools/jupyter_edition.py [OUT]     # default OUT: _build/jupyter

The chapters, exercises and solutions are written in MyST, which only the book's build
understands. This writes ``OUT/{notebooks,exercises,solutions}/*.ipynb`` (same relative
paths), with every MyST construct turned into plain Markdown and HTML:

- ``{glue:text}`name:.3f``: the glued value, formatted as in the book (myst-nb's own
  formatter), read from the notebook's committed outputs;
- ``{term}`text <Term>``: the text in italics, linked to the online glossary;
- ``{cite}`key``: "(Author, year)" linked to the online references;
- ``{chapter}`N``, ``{doc}`...``: links to the sibling notebook or the online page;
- ``{dropdown} Answer``: ``<details><summary>Answer</summary>...</details>`` (the Markdown
  and maths inside still render, in JupyterLab and Colab);
- admonitions (``{note}``, ``{tip}``, ...): a block quote with a bold title.

Outputs are kept. Cells the book hides stay, folded (``jupyter.source_hidden`` and Colab's
``cellView: form``) where the book folds or removes their code; cells that speak only to
the book's readers of another edition are left out: ``exercise-only`` cells from the
solutions, and the solutions' ``### BEGIN/END SOLUTION`` marker lines. The online book's
address comes from ``_config.yml`` (``html.baseurl``, or GitHub Pages of
``repository.url``).
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import nbformat
import yaml

if __package__ in (None, ""):  # run as a script: make tools/ importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.nbtools import BEGIN, END, ROOT

OUT = ROOT / "_build" / "jupyter"
FOLDERS = ("notebooks", "exercises", "solutions")
ADMONITIONS = {"note": "Note", "tip": "Tip", "hint": "Hint", "important": "Important",
               "warning": "Warning", "caution": "Caution", "attention": "Attention",
               "danger": "Danger", "error": "Error", "seealso": "See also"}
ROLE = re.compile(r"\{(?P<name>[a-z]+(?::[a-z]+)?)\}`(?P<body>[^`]*)`")
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|:{3,})\{(?P<name>[a-z-]+)\}"
                   r"[ \t]*(?P<arg>.*)$")
TARGET = re.compile(r"^\s*\([\w.:-]+\)=\s*$", re.M)
# What no Jupyter front end understands; the test scans the edition for these.
MYST_ONLY = re.compile(r"\{[a-z]+(?::[a-z]+)?\}`|^\s*(?:`{3,}|:{3,})\{[a-z-]+\}"
                       r"|^\s*\([\w.:-]+\)=\s*$", re.M)


class EditionError(ValueError):
    """A MyST construct the converter cannot turn into plain Markdown."""


# --- the book's configuration ---------------------------------------------------------------

def online_base(config: dict) -> str:
    """The online book's address, ending with a slash."""
    base = (config.get("html") or {}).get("baseurl")
    if not base:
        url = config["repository"]["url"].rstrip("/")
        owner, repo = url.removeprefix("https://github.com/").split("/")[:2]
        base = f"https://{owner}.github.io/{repo}/"
    return base.rstrip("/") + "/"


def load_config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


# --- bibliography ---------------------------------------------------------------------------

def citations(bib: Path) -> dict[str, tuple[str, str]]:
    """Each BibTeX key's ("Author", "year") as the book writes it: one author by surname,
    two joined by "and", more as "First et al."."""
    from pybtex.database import parse_file

    found = {}
    for key, entry in parse_file(str(bib)).entries.items():
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [" ".join(p.last_names) or " ".join(p.first_names) for p in people]
        names = [_latex_to_text(n) for n in names]
        if not names:
            author = _latex_to_text(entry.fields.get("organization", key))
        elif len(names) == 1:
            author = names[0]
        elif len(names) == 2:
            author = f"{names[0]} and {names[1]}"
        else:
            author = f"{names[0]} et al."
        found[key] = (author, entry.fields.get("year", "n.d."))
    return found


def _latex_to_text(text: str) -> str:
    from pybtex.richtext import Text  # noqa: F401  (pybtex is there: parse_file needs it)

    text = re.sub(r"\\[`'^\"~=.uvHcdbt]\{?(\w)\}?", r"\1", text)
    return text.replace("{", "").replace("}", "")


# --- glue values ----------------------------------------------------------------------------

def glued_values(nb) -> dict[str, str]:
    """Each glued name of a notebook and its text/plain value, from its outputs."""
    values = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            text = output.get("data", {}).get("application/papermill.record/text/plain")
            if name is not None and text is not None:
                values[name] = text
    return values


def format_glue(text: str, fmt: str) -> str:
    from myst_nb.core.variables import format_plain_text

    return format_plain_text(text, fmt)


# --- Markdown conversion --------------------------------------------------------------------

class Converter:
    """Turns one notebook's MyST Markdown into plain Markdown and HTML."""

    def __init__(self, path: Path, nb, base: str, cites: dict, chapters: dict[int, str]):
        self.path, self.base, self.cites, self.chapters = path, base, cites, chapters
        self.glue = glued_values(nb)

    def where(self) -> str:
        return f"{self.path.parent.name}/{self.path.name}"

    # roles
    def role(self, match: re.Match) -> str:
        name, body = match["name"], match["body"]
        handlers: dict[str, Callable[[str], str]] = {
            "glue:text": self.glue_text, "glue": self.glue_text, "term": self.term,
            "cite": self.cite, "cite:p": self.cite, "cite:t": self.cite_textual,
            "chapter": self.chapter, "doc": self.doc, "math": lambda b: f"${b}$"}
        if name not in handlers:
            raise EditionError(f"{self.where()}: no plain form for the role {{{name}}}")
        return handlers[name](body)

    def glue_text(self, body: str) -> str:
        key, _, fmt = body.partition(":")
        if key not in self.glue:
            raise EditionError(f"{self.where()}: {{glue:text}} `{key}` is not glued here")
        return format_glue(self.glue[key], fmt)

    def term(self, body: str) -> str:
        text, target = _explicit(body)
        anchor = glossary_anchor(" ".join(target.split()))
        text = " ".join(text.split())
        return f"[*{text}*]({self.base}book/glossary.html#{anchor})"

    def _authors(self, body: str) -> list[tuple[str, str]]:
        keys = [k.strip() for k in body.split(",") if k.strip()]
        missing = [k for k in keys if k not in self.cites]
        if missing:
            raise EditionError(f"{self.where()}: unknown citation keys {missing}")
        return [self.cites[k] for k in keys]

    def cite(self, body: str) -> str:
        text = "; ".join(f"{a}, {y}" for a, y in self._authors(body))
        return f"[({text})]({self.base}book/references.html)"

    def cite_textual(self, body: str) -> str:
        text = "; ".join(f"{a} ({y})" for a, y in self._authors(body))
        return f"[{text}]({self.base}book/references.html)"

    def chapter(self, body: str) -> str:
        text, target = _explicit(body)
        match = re.fullmatch(r"(?:(?P<folder>[a-z]+)/)?(?P<number>\d{1,2})", target.strip())
        if not match:
            raise EditionError(f"{self.where()}: {{chapter}} `{body}` names no chapter")
        folder, number = match["folder"] or "notebooks", int(match["number"])
        stem = self.chapters.get(number)
        if stem is None:
            raise EditionError(f"{self.where()}: there is no chapter {number}")
        label = text if text != target else f"Chapter {number}"
        return f"[{label}](../{folder}/{stem}.ipynb)"

    def doc(self, body: str) -> str:
        text, target = _explicit(body)
        page = (self.path.parent / target).resolve().relative_to(ROOT).as_posix()
        return f"[{text}]({self.base}{page}.html)"

    def link(self, match: re.Match) -> str:
        """A link to a page of the book (``../book/x.md``) goes online."""
        text, url = match["text"], match["url"]
        page, _, anchor = url.partition("#")
        if re.match(r"^[a-z]+://|^mailto:", page) or not page.endswith(".md"):
            return match[0]
        resolved = (self.path.parent / page).resolve().relative_to(ROOT).as_posix()
        online = self.base + resolved.removesuffix(".md") + ".html"
        return f"[{text}]({online}{'#' + anchor if anchor else ''})"

    def inline(self, text: str) -> str:
        text = ROLE.sub(self.role, text)
        return re.sub(r"\[(?P<text>[^\]]+)\]\((?P<url>[^)\s]+)\)", self.link, text)

    # directives
    def markdown(self, source: str) -> str:
        source = TARGET.sub("", source)
        lines = source.split("\n")
        out, plain, k = [], [], 0
        while k < len(lines):
            fence = FENCE.match(lines[k])
            if not fence:
                plain.append(lines[k])  # roles may run over a line break: convert by block
                k += 1
                continue
            out.extend(self.inline("\n".join(plain)).split("\n") if plain else [])
            plain = []
            end = _closing(lines, k, fence)
            if end is None:
                raise EditionError(f"{self.where()}: an unclosed {{{fence['name']}}} block")
            body = _strip_options(lines[k + 1:end], fence["indent"])
            out.extend(self.directive(fence, body))
            k = end + 1
        if plain:
            out.extend(self.inline("\n".join(plain)).split("\n"))
        return "\n".join(out)

    def directive(self, fence: re.Match, body: list[str]) -> list[str]:
        indent, name, arg = fence["indent"], fence["name"], fence["arg"].strip()
        inner = self.markdown("\n".join(_dedent(body, indent))).split("\n")
        if name == "dropdown":
            summary = self.inline(arg) or "Details"
            return ([f"{indent}<details><summary>{summary}</summary>", ""]
                    + [f"{indent}{line}" if line else "" for line in inner]
                    + ["", f"{indent}</details>"])
        if name in ADMONITIONS or name == "admonition":
            title = self.inline(arg) if name == "admonition" else ADMONITIONS[name]
            quoted = [f"{indent}> **{title}**", f"{indent}>"]
            quoted += [f"{indent}> {line}".rstrip() for line in inner]
            return quoted
        raise EditionError(f"{self.where()}: no plain form for the directive {{{name}}}")


def glossary_anchor(term: str) -> str:
    """The id Sphinx gives a glossary term (``term-Gradient-descent``)."""
    from sphinx.util.nodes import _make_id  # the function Sphinx itself uses

    return _make_id(f"term-{term}")


def _explicit(body: str) -> tuple[str, str]:
    """``text <target>`` -> (text, target); ``target`` -> (target, target)."""
    match = re.fullmatch(r"\s*(?P<text>.*?)\s*<(?P<target>[^<>]+)>\s*", body, re.S)
    if match and match["text"]:
        return match["text"], match["target"]
    return body.strip(), body.strip()


def _closing(lines: list[str], start: int, fence: re.Match) -> int | None:
    mark = fence["fence"]
    for k in range(start + 1, len(lines)):
        stripped = lines[k].strip()
        if stripped.startswith(mark[0] * len(mark)) and set(stripped) == {mark[0]}:
            return k
        if FENCE.match(lines[k]) and FENCE.match(lines[k])["fence"] == mark:
            return None  # a nested block with the same fence: unsupported
    return None


def _strip_options(body: list[str], indent: str) -> list[str]:
    """Drop a directive's leading ``:option: value`` lines."""
    k = 0
    while k < len(body) and re.match(rf"^{re.escape(indent)}:[\w-]+:", body[k]):
        k += 1
    return body[k:]


def _dedent(lines: list[str], indent: str) -> list[str]:
    return [line[len(indent):] if line.startswith(indent) else line.lstrip() for line in lines]


# --- cells and notebooks --------------------------------------------------------------------

FOLDED = {"remove-cell", "remove-input", "hide-input", "hide-cell"}


def without_markers(source: str) -> str:
    return "\n".join(line for line in source.split("\n")
                     if not (BEGIN.match(line) or END.match(line)))


def convert(path: Path, base: str, cites: dict, chapters: dict[int, str]):
    """The edition of the notebook at ``path`` (a new object)."""
    nb = nbformat.read(path, as_version=4)
    converter = Converter(path, nb, base, cites, chapters)
    solutions = path.parent.name == "solutions"
    cells = []
    for cell in nb.cells:
        tags = set(cell.metadata.get("tags", []))
        if solutions and "exercise-only" in tags:
            continue
        if cell.cell_type == "markdown":
            cell.source = converter.markdown(cell.source)
        elif cell.cell_type == "code":
            if solutions:
                cell.source = without_markers(cell.source)
            if tags & FOLDED and "parameters" not in tags:
                cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
                cell.metadata["cellView"] = "form"
        cells.append(cell)
    nb.cells = cells
    return nb


def chapter_stems() -> dict[int, str]:
    return {int(p.name[:2]): p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}


def build(out: Path = OUT) -> list[Path]:
    """Write the edition to ``out``; return the notebooks written."""
    config = load_config()
    base = online_base(config)
    cites = citations(ROOT / "book" / "references.bib")
    chapters = chapter_stems()
    shutil.rmtree(out, ignore_errors=True)
    written = []
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).glob("[0-9][0-9]_*.ipynb")):
            nb = convert(path, base, cites, chapters)
            leftover = [c.source for c in nb.cells
                        if c.cell_type == "markdown" and MYST_ONLY.search(c.source)]
            if leftover:
                raise EditionError(f"{folder}/{path.name}: MyST left after conversion: "
                                   f"{MYST_ONLY.search(leftover[0])[0]!r}")
            dest = out / folder / path.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, dest)
            written.append(dest)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    paths = build(target)
    print(f"The Jupyter edition: {len(paths)} notebooks in {target}")
