"""A small Sphinx extension for the book's own pages (loaded from _config.yml).

Roles, reader-facing transforms, and fixes to the themes' HTML, each explained where it
is made.

Roles:

    {chapter}`8`                       link to notebooks/08_*, titled by the chapter's own title
    {chapter}`the answer key <solutions/8>`   link to solutions/08_*, with this text
    {colab}`notebooks/01_perceptron.ipynb`    "Open in Colab" link to that notebook of the edition
    {binder}`JupyterLab on Binder`            link that opens the edition on Binder
    {download-all}`the notebooks as one zip`  link to the zip of every notebook (written by
                                              every build: NOTEBOOKS_ZIP)
    {book-pdf}`the whole book as a PDF`       link to the PDF of the book (written by
                                              `make pdf`: tools/book_pdf.py)

A chapter is linked only when its page is part of the build. Otherwise the role writes its
text without a link, so that the front matter can name every chapter while they are written,
and the student edition (which has no solutions/) has no dangling link.

The Colab and Binder addresses are built from ``repository:`` and ``launch_buttons:`` in
``_config.yml``, the one place where the repository's address is written. They open the
Jupyter edition (``make jupyter``), which the Pages workflow publishes to the branch
``launch_buttons.branch``; so do the theme's launch buttons, and the notebook that a page's
download button and the notebooks zip give is the edition too (:func:`launch_the_edition`,
:func:`write_edition_sources`).

For readers (each function says what and why): the markers of solution cells and the
``smoke: N`` notes of parameter cells are removed from the code shown (the sources keep
them); the glossary gets an A-Z index and, under each term, links to the chapters that
use it; the bibliography is labelled "Author, year" like the citations; every page gets a
"last updated" date from git, Open Graph metadata for link previews, and the book's CSS
and script (book/_static/): code and outputs that fit or scroll visibly, output figures
that open full size, search snippets without TeX delimiters.
"""

from __future__ import annotations

import datetime
import html
import re
import subprocess
import sys
import zipfile
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.nodes import split_explicit_title

FOLDERS = ("notebooks", "exercises", "solutions")
TARGET = re.compile(r"^(?:(?P<folder>[a-z]+)/)?(?P<number>\d{1,2})$")


class chapter_ref(nodes.Inline, nodes.TextElement):
    """Placeholder for a chapter link, resolved once every document is known."""


def chapter_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    has_title, title, target = split_explicit_title(text)
    match = TARGET.match(target.strip())
    if not match or (match["folder"] or "notebooks") not in FOLDERS:
        msg = inliner.reporter.error(
            f"chapter role: expected 'N' or 'FOLDER/N' with FOLDER in {FOLDERS}, "
            f"received {target!r}", line=lineno)
        return [inliner.problematic(rawtext, rawtext, msg)], [msg]
    node = chapter_ref(rawtext, title if has_title else "")
    node["folder"] = match["folder"] or "notebooks"
    node["number"] = int(match["number"])
    return [node], []


def find_chapter(env, folder: str, number: int) -> str | None:
    """The docname ``folder/NN_*`` that is part of this build, or None."""
    prefix = f"{folder}/{number:02d}_"
    found = sorted(d for d in env.found_docs if d.startswith(prefix))
    return found[0] if found else None


def resolve_chapter_refs(app: Sphinx, doctree, fromdocname: str) -> None:
    env = app.builder.env
    for node in list(doctree.findall(chapter_ref)):
        docname = find_chapter(env, node["folder"], node["number"])
        text = node.astext()
        if docname is None:
            node.replace_self(nodes.Text(text or f"Chapter {node['number']}"))
            continue
        if not text:
            title = env.titles.get(docname)
            text = title.astext() if title is not None else f"Chapter {node['number']}"
        ref = nodes.reference("", "", internal=True,
                              refuri=app.builder.get_relative_uri(fromdocname, docname))
        ref += nodes.inline(text, text)
        node.replace_self(ref)


def _repository(app: Sphinx) -> tuple[str, str]:
    """("owner/name", branch) of the notebooks that launch links open: the Jupyter edition.

    The edition (tools/jupyter_edition.py: the notebooks in plain Markdown, as Colab and
    JupyterLab render them) is published by the Pages workflow to the branch that
    ``launch_buttons.branch`` names in _config.yml; without it, ``repository.branch``.
    The repository and "suggest an edit" buttons keep ``repository.branch``.
    """
    options = app.config.html_theme_options
    url = options.get("repository_url", "").rstrip("/")
    branch = (options.get("launch_buttons", {}).get("branch")
              or options.get("repository_branch", "main"))
    if not url.startswith("https://github.com/"):
        raise ValueError(f"_config.yml: repository.url must be a GitHub address, received {url!r}")
    return url.removeprefix("https://github.com/"), branch


def _launch(app: Sphinx, key: str) -> str:
    url = app.config.html_theme_options.get("launch_buttons", {}).get(key, "")
    if not url:
        raise ValueError(f"_config.yml: launch_buttons.{key} is not set")
    return url.rstrip("/")


def _external_link_role(build_url):
    def role(name, rawtext, text, lineno, inliner, options=None, content=None):
        app = inliner.document.settings.env.app
        has_title, title, target = split_explicit_title(text)
        try:
            url, default = build_url(app, target.strip())
        except ValueError as error:
            msg = inliner.reporter.error(str(error), line=lineno)
            return [inliner.problematic(rawtext, rawtext, msg)], [msg]
        label = title if has_title else default
        return [nodes.reference(rawtext, label, refuri=url)], []

    return role


def colab_url(app: Sphinx, path: str) -> tuple[str, str]:
    """Colab opens a notebook of the Jupyter edition straight from its branch."""
    if not path.endswith(".ipynb"):
        raise ValueError(f"colab role: expected a notebook path, received {path!r}")
    repo, branch = _repository(app)
    return f"{_launch(app, 'colab_url')}/github/{repo}/blob/{branch}/{path}", "Open in Colab"


def binder_url(app: Sphinx, path: str) -> tuple[str, str]:
    """Binder builds the edition branch's environment (binder/), then opens JupyterLab
    (at ``path``)."""
    repo, branch = _repository(app)
    url = f"{_launch(app, 'binderhub_url')}/v2/gh/{repo}/{branch}"
    if path and path != "lab":
        url += f"?labpath={path}"
    else:
        url += "?urlpath=lab"
    return url, "Open on Binder"


def launch_the_edition(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """Point the theme's Colab and Binder buttons at the edition, as the roles do.

    sphinx-book-theme builds them from ``repository.branch``, the branch the repository
    and "suggest an edit" buttons must keep; this rebuilds the two launch addresses for the
    same notebook on the edition's branch (:func:`_repository`): Colab's with
    :func:`colab_url`, Binder's in the theme's form (``?urlpath=lab/tree/<path>``).
    """
    groups = [b for b in context.get("header_buttons", []) if b.get("label") == "launch-buttons"]
    if not groups:
        return
    source = Path(app.env.doc2path(pagename))
    path = source.with_suffix(".ipynb").relative_to(app.srcdir).as_posix()
    book = app.config.html_theme_options.get("path_to_docs", "").strip("/")
    path = f"{book}/{path}" if book else path
    repo, branch = _repository(app)
    ui = {"classic": "tree"}.get(app.config.html_theme_options.get("launch_buttons", {}).get(
        "notebook_interface"), "lab/tree")
    # Binder as the theme writes it (the notebook in the configured interface).
    build = {"Colab": lambda: colab_url(app, path)[0],
             "Binder": lambda: f"{_launch(app, 'binderhub_url')}/v2/gh/{repo}/{branch}"
                               f"?urlpath={ui}/{path}"}
    for group in groups:
        for button in group.get("buttons", []):
            if button.get("text") in build:
                button["url"] = build[button["text"]]()


def write_edition_sources(app: Sphinx, exception) -> None:
    """Make the notebook that a page's download button gives the Jupyter edition's.

    The button downloads ``_sources/<page>.ipynb``, a copy of the MyST source, which
    Jupyter and Colab show with raw roles and open answers. Each is replaced by its
    edition (tools/jupyter_edition.py); the notebooks zip (:func:`write_notebooks_zip`,
    which runs after this) packs these copies. A notebook the edition cannot convert
    stops the build, as ``make jupyter`` would.
    """
    if exception is not None or app.builder.name not in ("html", "dirhtml"):
        return
    import importlib

    root = Path(app.srcdir)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    edition = importlib.import_module("tools.jupyter_edition")
    import nbformat

    config = edition.load_config()
    base, cites = edition.online_base(config), edition.citations(root / "book" / "references.bib")
    chapters = edition.chapter_stems()
    sources = Path(app.outdir) / "_sources"
    for doc in sorted(d for d in app.env.found_docs if d.split("/")[0] in FOLDERS):
        path = root / f"{doc}.ipynb"
        if path.exists():
            (sources / doc).parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(edition.convert(path, base, cites, chapters),
                           sources / f"{doc}.ipynb")


IMG_WITHOUT_ALT = re.compile(r"<img(?![^>]*\balt=)", re.I)
ANIMATION_SLIDER = re.compile(r'<input(?=[^>]*class="anim-slider")(?![^>]*aria-label)', re.I)


def label_html_outputs(app: Sphinx, doctree) -> None:
    """Carry a cell's alt text to the images of its HTML outputs.

    Cell metadata ``mystnb.image.alt`` labels the cell's PNG outputs (myst-nb does that).
    An HTML output, such as a matplotlib animation from ``to_jshtml()``, holds its own
    ``<img>`` with no alt text: give it the same one. The animation's frame slider, which
    has no label, is named "Animation frame".
    """
    for cell in doctree.findall(nodes.container):
        if cell.get("nb_element") != "cell_code":
            continue
        alt = (cell.get("cell_metadata") or {}).get("mystnb", {}).get("image", {}).get("alt")
        for raw in list(cell.findall(nodes.raw)):
            if raw.get("format") != "html":
                continue
            text = raw.astext()
            new = ANIMATION_SLIDER.sub('<input aria-label="Animation frame"', text)
            if alt:
                new = IMG_WITHOUT_ALT.sub(f'<img alt="{html.escape(alt)}"', new)
            if new != text:
                raw.replace_self(nodes.raw(new, new, format="html", classes=raw["classes"]))


# --- Files every build or `make pdf` writes, linked from the pages ----------------------

STATIC = Path(__file__).resolve().parents[1] / "book" / "_static"
NOTEBOOKS_ZIP = "mlp-pytorch-notebooks.zip"
BOOK_PDF = "mlp-pytorch-book.pdf"  # tools/book_pdf.py copies _build/pdf/book.pdf here


class root_file_ref(nodes.Inline, nodes.TextElement):
    """Placeholder for a link to a file at the root of the built site."""


def _root_file_role(filename: str):
    def role(name, rawtext, text, lineno, inliner, options=None, content=None):
        node = root_file_ref(rawtext, text)
        node["filename"] = filename
        return [node], []

    return role


def resolve_root_file_refs(app: Sphinx, doctree, fromdocname: str) -> None:
    from sphinx.util.osutil import relative_uri

    full_edition = any(d.startswith("solutions/") for d in app.env.found_docs)
    for node in list(doctree.findall(root_file_ref)):
        if node["filename"] == BOOK_PDF and not full_edition:
            # The PDF is the whole book, solutions included: the student edition, which
            # leaves them out, names it without a link.
            node.replace_self(nodes.Text(node.astext()))
            continue
        here = app.builder.get_target_uri(fromdocname)
        ref = nodes.reference("", "", internal=True,
                              refuri=relative_uri(here, node["filename"]))
        ref += nodes.inline(node.astext(), node.astext())
        node.replace_self(ref)


def write_notebooks_zip(app: Sphinx, exception) -> None:
    """Write every notebook of the build, with a short README, into one zip at the root.

    Only the folders whose pages are part of this build go in, so the student edition's
    zip has no solutions/.
    """
    if exception is not None or app.builder.name not in ("html", "dirhtml"):
        return
    # The Jupyter edition of each notebook: the copies write_edition_sources made.
    root = Path(app.outdir) / "_sources"
    docs = sorted(d for d in app.env.found_docs if d.split("/")[0] in FOLDERS)
    paths = [root / f"{d}.ipynb" for d in docs if (root / f"{d}.ipynb").exists()]
    repo = app.config.html_theme_options.get("repository_url", "")
    readme = (
        f"{app.config.html_title or app.config.project}\n\nThe notebooks of the book: "
        "notebooks/ (the chapters), exercises/ (your turn: each stops with "
        "NotImplementedError until you write the code) and, where this edition has them, "
        "solutions/.\n\n"
        "They use the course's helper package, mlpbook. In Colab, the first cell of each "
        "notebook installs it. On your own machine, from a clone of the repository, "
        f"`make lab` sets everything up ({repo}).\n")
    with zipfile.ZipFile(Path(app.outdir) / NOTEBOOKS_ZIP, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("mlp-pytorch-notebooks/README.txt", readme)
        for path in paths:
            z.write(path, f"mlp-pytorch-notebooks/{path.relative_to(root).as_posix()}")


# --- What readers see of the code --------------------------------------------------------

SOLUTION_MARKER = re.compile(r"^[ \t]*### (?:BEGIN|END) SOLUTION\b.*(?:\n|$)", re.M)
SMOKE_NOTE = re.compile(r"[;,]?[ \t]*\bsmoke:[ \t]*\d+\b")
EMPTY_COMMENT = re.compile(r"[ \t]*#[ \t]*$")


def tidy_code_for_readers(app: Sphinx, doctree) -> None:
    """Remove the maintainers' markers from the code that pages show; the sources keep them.

    - solutions/: the ``### BEGIN SOLUTION: ...`` and ``### END SOLUTION`` lines that
      tools/nbtools.py uses to cut the exercises out of the solutions;
    - every page: the ``smoke: N`` note at the end of a parameter's comment (the smallest
      value, for the smoke test); a comment left empty goes too.
    """
    in_solutions = app.env.docname.startswith("solutions/")
    for block in list(doctree.findall(nodes.literal_block)):
        cell = block.parent
        if not (isinstance(cell, nodes.container)
                and cell.get("nb_element") == "cell_code_source"):
            continue
        text = block.astext()
        new = SOLUTION_MARKER.sub("", text) if in_solutions else text
        lines = []
        for line in new.split("\n"):
            if SMOKE_NOTE.search(line):
                line = EMPTY_COMMENT.sub("", SMOKE_NOTE.sub("", line)).rstrip()
            lines.append(line)
        new = "\n".join(lines)
        if new != text:
            block.rawsource = new  # the HTML writer highlights only when the two agree
            block[:] = [nodes.Text(new)]


# --- The glossary: an A-Z index and the chapters that use each term ----------------------

def _uses_term(text: str, term: str) -> bool:
    return bool(re.search(r"(?<![\w-])" + re.escape(term.lower()) + r"(?:s|es)?(?![\w-])",
                          text))


def _prose_text(doctree) -> str:
    """The words of a page's prose: no code, no outputs, no maths, lower case."""
    skip = (nodes.literal_block, nodes.literal, nodes.math, nodes.math_block, nodes.raw,
            nodes.comment)
    words = []
    for text in doctree.findall(nodes.Text):
        parent, keep = text.parent, True
        while parent is not None:
            if isinstance(parent, skip) or (isinstance(parent, nodes.container) and parent.get(
                    "nb_element", "").startswith("cell_code")):
                keep = False
                break
            parent = parent.parent
        if keep:
            words.append(text.astext())
    return " ".join(words).lower()


def record_terms(app: Sphinx, doctree) -> None:
    """Remember, per page, the glossary terms it links and (chapters) the words it uses."""
    from sphinx import addnodes

    env = app.env
    docname = env.docname
    if not hasattr(env, "bookext_terms"):
        env.bookext_terms, env.bookext_prose, env.bookext_glossaries = {}, {}, set()
    env.bookext_terms[docname] = {n["reftarget"].lower() for n in
                                  doctree.findall(addnodes.pending_xref)
                                  if n.get("reftype") == "term"}
    if docname.startswith("notebooks/"):
        env.bookext_prose[docname] = _prose_text(doctree)
    if any(True for _ in doctree.findall(addnodes.glossary)):
        env.bookext_glossaries.add(docname)


def purge_terms(app: Sphinx, env, docname: str) -> None:
    for name in ("bookext_terms", "bookext_prose"):
        getattr(env, name, {}).pop(docname, None)
    getattr(env, "bookext_glossaries", set()).discard(docname)


def merge_terms(app: Sphinx, env, docnames, other) -> None:
    if not hasattr(other, "bookext_terms"):
        return
    if not hasattr(env, "bookext_terms"):
        env.bookext_terms, env.bookext_prose, env.bookext_glossaries = {}, {}, set()
    env.bookext_terms.update(other.bookext_terms)
    env.bookext_prose.update(other.bookext_prose)
    env.bookext_glossaries |= other.bookext_glossaries


def glossary_outdated(app: Sphinx, env, added, changed, removed):
    """The glossary lists the chapters that use each term: rebuild it with any chapter."""
    if added | changed | removed:
        return sorted(getattr(env, "bookext_glossaries", set()) & env.found_docs)
    return []


def _chapter_number(docname: str) -> int:
    return int(docname.split("/")[1][:2])


def enrich_glossary(app: Sphinx, doctree, docname: str) -> None:
    """Add an A-Z index above the glossary and "Used in chapters ..." under each term.

    A chapter uses a term when it links it ({term}) or its prose names it (the word, or
    its plural). The book's glossary.md stays a plain glossary block.
    """
    from sphinx import addnodes

    glossaries = list(doctree.findall(addnodes.glossary))
    if not glossaries:
        return
    env = app.env
    chapters = sorted((d for d in env.found_docs if re.match(r"notebooks/\d\d_", d)),
                      key=_chapter_number)
    links = getattr(env, "bookext_terms", {})
    prose = getattr(env, "bookext_prose", {})
    letters: dict[str, str] = {}
    for glossary in glossaries:
        for item in glossary.findall(nodes.definition_list_item):
            term = next(iter(item.findall(nodes.term)), None)
            if term is None or not term["ids"]:
                continue
            name = term.astext().strip()
            letters.setdefault(name[:1].upper(), term["ids"][0])
            using = [d for d in chapters if name.lower() in links.get(d, ())
                     or _uses_term(prose.get(d, ""), name)]
            if not using:
                continue
            para = nodes.paragraph(classes=["glossary-used-in"])
            para += nodes.Text("Used in chapter " if len(using) == 1 else "Used in chapters ")
            for k, doc in enumerate(using):
                if k:
                    para += nodes.Text(" and " if k == len(using) - 1 else ", ")
                title = env.titles.get(doc)
                ref = nodes.reference("", str(_chapter_number(doc)), internal=True,
                                      refuri=app.builder.get_relative_uri(docname, doc))
                if title is not None:
                    ref["reftitle"] = title.astext()
                para += ref
            para += nodes.Text(".")
            item[-1] += para
    if letters:
        entries = "".join(f'<li><a href="#{html.escape(anchor)}">{letter}</a></li>'
                          for letter, anchor in sorted(letters.items()))
        index = nodes.raw("", f'<nav class="glossary-az" aria-label="Glossary from A to Z">'
                              f"<ul>{entries}</ul></nav>\n", format="html")
        first = glossaries[0]
        first.parent.insert(first.parent.index(first), index)


# --- Author-year labels in the bibliography ------------------------------------------------

def register_author_year_style() -> None:
    """A pybtex style "authoryear" whose labels read like the citations: "Rosenblatt, 1958".

    sphinxcontrib-bibtex's author_year references cite "Rumelhart et al., 1986", while
    the default bibliography labels are "[RHW86]"; a reader following the citation should
    find the same words. One author: "Last"; two: "Last and Last"; more: "Last et al.".
    The entries are sorted by author, year and title.
    """
    from pybtex.plugin import register_plugin
    from pybtex.style.formatting.unsrt import Style as Unsrt
    from pybtex.style.labels import BaseLabelStyle
    from pybtex.style.names.lastfirst import NameStyle as LastFirst
    from pybtex.style.sorting.author_year_title import SortingStyle

    def last_name(person) -> str:
        parts = person.rich_prelast_names + person.rich_last_names
        return " ".join(str(p.render_as("text")) for p in parts)

    def who(entry) -> str:
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [last_name(p) for p in people]
        if not names:
            return entry.fields.get("organization") or entry.key
        if len(names) <= 2:
            return " and ".join(names)
        return f"{names[0]} et al."

    class AuthorYearLabels(BaseLabelStyle):
        """Labels "Author, year"; two works with the same label become 1998a and 1998b.

        The letter goes into the entry's year too, so that the citations in the text,
        which sphinxcontrib-bibtex formats later from the same entries, carry it as well.
        """

        def format_labels(self, sorted_entries):
            entries = list(sorted_entries)
            for entry in entries:
                entry.fields.setdefault("bookext_year", entry.fields.get("year", "n.d."))
            base = [f"{who(e)}, {e.fields['bookext_year']}" for e in entries]
            seen: dict[str, int] = {}
            for entry, label in zip(entries, base):
                year = entry.fields["bookext_year"]
                if base.count(label) > 1:
                    seen[label] = seen.get(label, 0) + 1
                    year += "abcdefghijklmnopqrstuvwxyz"[seen[label] - 1]
                entry.fields["year"] = year
                yield f"{who(entry)}, {year}"

    class AuthorYear(Unsrt):
        default_label_style = AuthorYearLabels
        default_sorting_style = SortingStyle
        default_name_style = LastFirst

    register_plugin("pybtex.style.formatting", "authoryear", AuthorYear, force=True)


# --- Page metadata: last updated, link previews ---------------------------------------------

def _git_dates(root: Path) -> dict[str, datetime.date]:
    """Each tracked file's date of last commit, from one ``git log``; {} without git."""
    try:
        out = subprocess.run(["git", "log", "--format=%x00%cs", "--name-only", "--relative",
                              "--no-renames", "--", "."], cwd=root, capture_output=True,
                             text=True, timeout=120, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    dates: dict[str, datetime.date] = {}
    current = None
    for line in out.splitlines():
        if line.startswith("\x00"):
            current = datetime.date.fromisoformat(line[1:].strip())
        elif line.strip() and current is not None:
            dates.setdefault(line.strip(), current)
    return dates


def collect_git_dates(app: Sphinx) -> None:
    app.bookext_git_dates = _git_dates(Path(app.srcdir))


def last_updated_from_git(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """Date each page by its source's last commit, not by the build ("Last updated on")."""
    if pagename not in app.env.found_docs or not context.get("last_updated"):
        return
    source = Path(app.env.doc2path(pagename)).relative_to(app.srcdir).as_posix()
    date = getattr(app, "bookext_git_dates", {}).get(source)
    if date is not None:
        context["last_updated"] = f"{date.day} {date:%B %Y}"


def _description(doctree, limit: int = 200) -> str:
    for para in doctree.findall(nodes.paragraph):
        parent, inside = para.parent, False
        while parent is not None:
            if isinstance(parent, (nodes.Admonition, nodes.container, nodes.table,
                                   nodes.definition_list, nodes.footnote, nodes.citation)):
                inside = True
                break
            parent = parent.parent
        text = " ".join(para.astext().split())
        if inside or len(text) < 40:
            continue
        if len(text) > limit:
            text = text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"
        return text
    return ""


def link_preview_metadata(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """Open Graph and Twitter metadata, so that a shared link shows a title, text and image."""
    base = (app.config.html_baseurl or "").rstrip("/")
    title = html.unescape(re.sub(r"<[^>]+>", "", context.get("title") or "")).strip()
    project = app.config.html_title or app.config.project
    description = (_description(doctree) if doctree is not None else "") or (
        "An open course on multilayer perceptrons with PyTorch, from the perceptron to "
        "applications on real data.")
    tags = {"og:type": "website" if pagename == app.config.root_doc else "article",
            "og:site_name": project,
            "og:title": title if title and title != project else project,
            "og:description": description}
    if base:
        tags["og:url"] = f"{base}/{pagename}.html"
        tags["og:image"] = f"{base}/_static/social-card.png"
        tags["og:image:alt"] = f"{project}: the book's title over a small network diagram"
    lines = [f'<meta property="{k}" content="{html.escape(v)}" />' for k, v in tags.items()]
    lines += ['<meta name="twitter:card" content="summary_large_image" />',
              f'<meta name="description" content="{html.escape(description)}" />']
    context["metatags"] = context.get("metatags", "") + "\n" + "\n".join(lines) + "\n"


def edit_the_source(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """Point "Suggest edit" of an exercises page at its source, the solutions notebook.

    tools/nbtools.py generates exercises/ from solutions/; an edit to the generated file
    would be overwritten.
    """
    if not pagename.startswith("exercises/"):
        return

    def fix(buttons):
        for button in buttons or []:
            url = button.get("url", "")
            if "/edit/" in url:
                button["url"] = url.replace("/exercises/", "/solutions/")
            fix(button.get("buttons"))

    fix(context.get("header_buttons"))


# --- Configuration that the themes need ---------------------------------------------------

def configure(app: Sphinx, config) -> None:
    """Settings that belong to the extension's fixes rather than to _config.yml.

    - ``navbar_persistent: []``: pydata-sphinx-theme 0.17.1 fills it with a search field
      whenever a site does not set it, which ignores sphinx-book-theme's empty default.
      That puts a header band with a second search field on desktop and, in it, a second
      ``.primary-toggle`` and ``.secondary-toggle``; both themes bind only the first of
      each (document.querySelector), the hidden one, so the visible sidebar buttons did
      nothing (pydata-sphinx-theme #2451, sphinx-book-theme #988 and #999). With the
      header empty, the article header's buttons are the only ones, and they work.
    - the Open Graph image and canonical links need the site's address: by default the
      GitHub Pages address of ``repository.url``.
    - book/_static: the book's CSS, script, favicon and link-preview image.
    """
    options = config.html_theme_options
    options.setdefault("navbar_persistent", [])
    repo = options.get("repository_url", "").rstrip("/")
    if not config.html_baseurl and repo.startswith("https://github.com/"):
        owner, name = repo.removeprefix("https://github.com/").split("/")[:2]
        config.html_baseurl = f"https://{owner.lower()}.github.io/{name}/"
    if str(STATIC) not in config.html_static_path:
        config.html_static_path.append(str(STATIC))


# --- Fixes to the HTML of the themes, found by the browser tests (tests/test_book.py) ---

def dedupe_scripts(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """Write each script once.

    sphinx-thebe 0.3.1 registers its inline configuration (``const THEBE_JS_URL = ...``)
    twice under Sphinx 7 (once with no file name, once with ''), and the second copy throws
    "Identifier 'THEBE_JS_URL' has already been declared" on every page.
    """
    seen, scripts = set(), []
    for script in context.get("script_files", []):
        key = (getattr(script, "filename", None) or "",
               tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            scripts.append(script)
    if "script_files" in context:
        context["script_files"] = scripts


def name_navigation_toggles(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """Give the sidebar's expand/collapse toggles an accessible name.

    pydata-sphinx-theme writes ``<summary>`` elements that hold only an icon, which screen
    readers announce without a name (axe: summary-name, serious). Each gets
    ``aria-label="Sections of <the page it expands>"``.
    """
    generate = context.get("generate_toctree_html")
    if generate is None or getattr(generate, "_named_toggles", False):
        return

    def generate_named(*args, **kwargs):
        html = generate(*args, **kwargs)
        if not hasattr(html, "select"):  # a string: the theme's "raw" kinds
            return html
        for summary in html.select("summary"):
            if summary.get_text(strip=True) or summary.get("aria-label"):
                continue
            item = summary.find_parent("li")
            link = item.find("a") if item is not None else None
            name = link.get_text(" ", strip=True) if link is not None else "this section"
            summary["aria-label"] = f"Sections of {name}"
        return html

    generate_named._named_toggles = True
    context["generate_toctree_html"] = generate_named


def bibliography_roles(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """Mark bibliography entries as list items of their ``role="list"`` container.

    docutils writes ``role="doc-biblioentry"``, deprecated in DPUB-ARIA 1.1 in favour of
    ``listitem``; a list with no list item fails axe's aria-required-children (critical).
    """
    body = context.get("body")
    if body and 'role="doc-biblioentry"' in body:
        context["body"] = body.replace('role="doc-biblioentry"', 'role="listitem"')


def setup(app: Sphinx):
    register_author_year_style()
    app.add_node(chapter_ref)
    app.add_node(root_file_ref)
    app.add_role("chapter", chapter_role)
    app.add_role("colab", _external_link_role(colab_url))
    app.add_role("binder", _external_link_role(binder_url))
    app.add_role("download-all", _root_file_role(NOTEBOOKS_ZIP))
    app.add_role("book-pdf", _root_file_role(BOOK_PDF))
    app.connect("config-inited", configure)
    app.connect("builder-inited", collect_git_dates)
    app.connect("doctree-resolved", resolve_chapter_refs)
    app.connect("doctree-resolved", resolve_root_file_refs)
    app.connect("doctree-resolved", enrich_glossary)
    app.connect("doctree-read", label_html_outputs)
    app.connect("doctree-read", tidy_code_for_readers)
    app.connect("doctree-read", record_terms)
    app.connect("env-purge-doc", purge_terms)
    app.connect("env-merge-info", merge_terms)
    app.connect("env-get-outdated", glossary_outdated)
    app.connect("build-finished", write_edition_sources, priority=400)
    app.connect("build-finished", write_notebooks_zip)
    app.add_css_file("bookext.css")
    app.add_js_file("bookext.js", loading_method="defer")
    # After the themes have filled the page context (their handlers run at priority 500).
    app.connect("html-page-context", dedupe_scripts, priority=900)
    app.connect("html-page-context", name_navigation_toggles, priority=900)
    app.connect("html-page-context", bibliography_roles, priority=900)
    app.connect("html-page-context", last_updated_from_git, priority=900)
    app.connect("html-page-context", link_preview_metadata, priority=900)
    app.connect("html-page-context", launch_the_edition, priority=900)
    app.connect("html-page-context", edit_the_source, priority=900)
    return {"version": "1.1", "parallel_read_safe": True, "parallel_write_safe": True}
