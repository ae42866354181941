"""A small Sphinx extension for the book's own pages (loaded from _config.yml).

Roles, and two fixes (the navigation titles of solution pages; accessibility and script
fixes to the theme's HTML, each explained where it is made).

Roles:

    {chapter}`8`                       link to notebooks/08_*, titled by the chapter's own title
    {chapter}`the answer key <solutions/8>`   link to solutions/08_*, with this text
    {colab}`notebooks/01_perceptron.ipynb`    "Open in Colab" link to that file of the repository
    {binder}`JupyterLab on Binder`            link that opens the repository on Binder

A chapter is linked only when its page is part of the build. Otherwise the role writes its
text without a link, so that the front matter can name every chapter while they are written,
and the student edition (which has no solutions/) has no dangling link.

The Colab and Binder addresses are built from ``repository:`` and ``launch_buttons:`` in
``_config.yml``, the one place where the repository's address is written.
"""

from __future__ import annotations

import html
import re

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
    options = app.config.html_theme_options
    url = options.get("repository_url", "").rstrip("/")
    branch = options.get("repository_branch", "main")
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
    """Colab opens a notebook straight from the repository."""
    if not path.endswith(".ipynb"):
        raise ValueError(f"colab role: expected a notebook path, received {path!r}")
    repo, branch = _repository(app)
    return f"{_launch(app, 'colab_url')}/github/{repo}/blob/{branch}/{path}", "Open in Colab"


def binder_url(app: Sphinx, path: str) -> tuple[str, str]:
    """Binder builds the repository's environment, then opens JupyterLab (at ``path``)."""
    repo, branch = _repository(app)
    url = f"{_launch(app, 'binderhub_url')}/v2/gh/{repo}/{branch}"
    if path and path != "lab":
        url += f"?labpath={path}"
    else:
        url += "?urlpath=lab"
    return url, "Open on Binder"


def name_solution_pages(app: Sphinx, doctree) -> None:
    """Call a solutions page "Solutions N: ..." in the navigation.

    A solutions notebook and the exercise notebook generated from it share their title
    ("Exercises N: topic"), so the sidebar would list two identical entries under each
    chapter. Only the navigation title changes; the page itself is left as written.
    """
    env = app.env
    if not env.docname.startswith("solutions/"):
        return
    for titles in (env.titles, env.longtitles):
        title = titles.get(env.docname)
        if title is not None and title.astext().startswith("Exercises"):
            text = "Solutions" + title.astext()[len("Exercises"):]
            titles[env.docname] = nodes.title(text, text)
    # The sidebar takes a page's entry from its local table of contents.
    toc = env.tocs.get(env.docname)
    first = next(iter(toc.findall(nodes.reference)), None) if toc is not None else None
    if first is not None and first.astext().startswith("Exercises"):
        first[:] = [nodes.Text("Solutions" + first.astext()[len("Exercises"):])]


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
    app.add_node(chapter_ref)
    app.add_role("chapter", chapter_role)
    app.add_role("colab", _external_link_role(colab_url))
    app.add_role("binder", _external_link_role(binder_url))
    app.connect("doctree-resolved", resolve_chapter_refs)
    app.connect("doctree-read", name_solution_pages, priority=900)  # after the title is read
    app.connect("doctree-read", label_html_outputs)
    # After the themes have filled the page context (their handlers run at priority 500).
    app.connect("html-page-context", dedupe_scripts, priority=900)
    app.connect("html-page-context", name_navigation_toggles, priority=900)
    app.connect("html-page-context", bibliography_roles, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
