"""The book as readers get it: its front and back matter, its configuration, and the built
HTML opened in a real browser.

Two groups of tests:

- tests of the sources and the configuration, which run in `make unit`;
- tests marked ``browser``, which need the built book (`make build-check`) and Debian's
  Chromium, and run in `make browser`. They open every page of the table of contents,
  so a chapter added to _toc.yml is tested with no change here.

Exclusions from the axe audit are listed, with their reasons, in
``browser.AXE_DISABLED_RULES`` (empty) and ``browser.AXE_EXCLUDED_SELECTORS``
(tests/browser.py): one, the syntax-highlighted code listings, whose colours
test_every_code_colour_has_enough_contrast_in_both_themes audits instead. The dark theme
is audited with the rules that depend on colour (``browser.AXE_COLOUR_RULES``); the other
rules do not depend on the theme and run once, in the light theme. axe's "preload" option
is off; browser.py says why.
"""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import pytest
import yaml
from browser import (
    ASSETS,
    CHROMIUM,
    CHROMIUM_ARGS,
    CODE_LISTINGS,
    DESKTOP,
    HTML,
    PHONE,
    SCREENSHOTS,
    asset_manifest,
    check_page,
    figure_problems,
    layout_facts,
    local_copy,
    machinery_shown,
    open_dialog,
    serve,
    set_theme,
    source_of,
    toc_pages,
)
from conftest import ROOT, read
from playwright.sync_api import TimeoutError as PlaywrightTimeout

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
REPOSITORY = CONFIG["repository"]["url"]
PAGES = toc_pages()
CHAPTERS = [page for page in PAGES if page["kind"] == "chapter"]
CHAPTER_FILES = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
GUIDE = ROOT / "book" / "instructor_guide.md"
GLOSSARY = ROOT / "book" / "glossary.md"
BIB = ROOT / "book" / "references.bib"
# The works the course must cite (the issue's list); the data sets' papers are cited by
# their chapters and listed on the datasets page.
REQUIRED_REFERENCES = {
    "rosenblatt1958perceptron": "Rosenblatt 1958",
    "novikoff1962convergence": "Novikoff 1962",
    "minsky1969perceptrons": "Minsky & Papert 1969",
    "rumelhart1986learning": "Rumelhart, Hinton & Williams 1986",
    "cybenko1989approximation": "Cybenko 1989",
    "hornik1991approximation": "Hornik 1991",
    "glorot2010understanding": "Glorot & Bengio 2010",
    "he2015delving": "He et al. 2015",
    "kingma2015adam": "Kingma & Ba 2015",
    "srivastava2014dropout": "Srivastava et al. 2014",
    "ioffe2015batch": "Ioffe & Szegedy 2015",
    "bengio2003neural": "Bengio et al. 2003",
}
GUIDE_ITEMS = ("Learning objectives", "Time", "Prerequisites", "Exercises to assign",
               "Common misconceptions", "Answer key")


def markdown_of(path: Path) -> str:
    if path.suffix == ".ipynb":
        return "\n".join(c.source for c in read(path).cells if c.cell_type == "markdown")
    return path.read_text(encoding="utf-8")


def section(markdown: str, title: str) -> str:
    """The text of the ``## title`` section of ``markdown``, up to the next ``## ``."""
    match = re.search(rf"^## {re.escape(title)}\s*$(.*?)(?=^## |\Z)", markdown, re.M | re.S)
    assert match, f"no '## {title}' section"
    return match[1]


def has_math(markdown: str) -> bool:
    text = re.sub(r"```.*?```", "", markdown, flags=re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    return bool(re.search(r"(?<![\\$])\$[^$\n]+\$|\$\$|\\begin\{", text))


# --- Configuration and launch buttons -------------------------------------------------------

def test_config_sets_colab_binder_download_and_repository_buttons():
    launch = CONFIG["launch_buttons"]
    assert REPOSITORY.startswith("https://github.com/")
    assert launch["colab_url"].startswith("https://colab.")
    assert launch["binderhub_url"].startswith("https://")
    assert CONFIG["html"]["use_repository_button"] is True
    # sphinx-book-theme's download button is on unless switched off.
    assert CONFIG["html"].get("use_download_button", True) is not False


def test_config_does_not_replace_the_theme_options_that_carry_the_launch_buttons():
    # Without recursive_update, sphinx.config.html_theme_options replaces the whole
    # dictionary that Jupyter Book fills from launch_buttons: and the buttons vanish.
    sphinx = CONFIG.get("sphinx", {})
    assert "html_theme_options" not in sphinx.get("config", {}) or sphinx.get("recursive_update")


@pytest.mark.parametrize("path", [path for folder in ("notebooks", "exercises", "solutions")
                                  for path in sorted((ROOT / folder).glob("[0-9][0-9]_*.ipynb"))],
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_colab_cell_installs_the_helper_from_the_configured_repository(path):
    first = next(c for c in read(path).cells if c.cell_type == "code").source
    assert 'if "google.colab" in sys.modules' in first
    assert f"git+{REPOSITORY}" in first, (
        f"the Colab cell should install from _config.yml's repository.url ({REPOSITORY})")


# --- Front and back matter --------------------------------------------------------------------

def test_toc_has_the_front_and_back_matter():
    docs = [page["doc"] for page in PAGES]
    assert docs[0] == "book/intro"
    for doc in ("book/how_to_use", "book/instructor_guide", "book/notation", "book/glossary",
                "book/datasets", "book/references"):
        assert doc in docs, f"{doc} is missing from _toc.yml"
    for page in PAGES:
        assert source_of(page["doc"]) is not None, f"{page['doc']} is in the TOC, not on disk"


def test_every_chapter_file_is_in_the_toc_with_its_exercises_and_solutions():
    docs = {page["doc"] for page in PAGES}
    for path in CHAPTER_FILES:
        stem = path.stem
        for folder in ("notebooks", "exercises", "solutions"):
            if (ROOT / folder / path.name).exists():
                assert f"{folder}/{stem}" in docs, f"{folder}/{stem} is not in _toc.yml"


def test_landing_page_covers_goals_audience_prerequisites_map_and_three_ways_to_run():
    intro = markdown_of(ROOT / "book" / "intro.md")
    for heading in ("What you will be able to do", "Who it is for", "Prerequisites",
                    "Map of the chapters", "Three ways to run the notebooks"):
        assert f"## {heading}" in intro
    for number in range(1, 13):
        assert f"{{chapter}}`{number}`" in intro, f"the map misses Chapter {number}"
    ways = section(intro, "Three ways to run the notebooks")
    assert "make book" in ways and "make test" in ways
    assert "{colab}" in ways and "{binder}" in ways


def test_how_to_use_has_both_paths_and_explains_checks_and_failures():
    text = markdown_of(ROOT / "book" / "how_to_use.md")
    for heading in ("A self-study path", "An instructor path",
                    "Exercises, checks and solutions", "When a check fails"):
        assert f"## {heading}" in text
    failing = section(text, "When a check fails")
    assert "Not done yet" in failing and "Not yet. Hint" in failing and "raised" in failing


def test_the_failing_check_shown_in_how_to_use_is_what_a_check_prints():
    from mlpbook import check

    with pytest.raises(AssertionError) as error:  # wrong for points on the boundary
        check.count_mistakes(lambda X, t, w, b: int((t * (X @ w + b) < 0).sum()))
    shown = "\n".join(error.value._render_traceback_())  # what Jupyter shows
    assert shown in markdown_of(ROOT / "book" / "how_to_use.md")


@pytest.mark.parametrize("number", range(1, 13))
def test_instructor_guide_gives_every_item_for_each_chapter(number):
    guide = GUIDE.read_text(encoding="utf-8")
    match = re.search(rf"^## Chapter {number}\. .*?(?=^## |\Z)", guide, re.M | re.S)
    assert match, f"the instructor guide has no section for Chapter {number}"
    for item in GUIDE_ITEMS:
        assert re.search(rf"^{re.escape(item)}\n: \S", match[0], re.M), (
            f"Chapter {number}: '{item}' is missing")
    assert f"{{chapter}}`answer key <solutions/{number}>`" in match[0]


def test_instructor_guide_has_a_six_week_schedule_and_the_student_edition():
    guide = GUIDE.read_text(encoding="utf-8")
    schedule = section(guide, "A six-week schedule")
    weeks = re.findall(r"^\| (\d) \|", schedule, re.M)
    assert weeks == [str(w) for w in range(1, 7)]
    for number in range(1, 13):
        assert re.search(rf"\b{number}\b", schedule), f"Chapter {number} is not scheduled"
    assert "make book-student" in section(guide, "A student edition without the solutions")


def glossary_terms() -> list[str]:
    text = GLOSSARY.read_text(encoding="utf-8")
    block = re.search(r"```\{glossary\}\n(.*?)```", text, re.S)
    assert block, "book/glossary.md has no glossary block"
    return re.findall(r"^(\S.*)$", block[1], re.M)


def test_glossary_defines_each_term_once():
    terms = [t.lower() for t in glossary_terms()]
    assert len(terms) >= 20
    assert len(terms) == len(set(terms)), "a term is defined twice"


def test_every_glossary_link_names_a_defined_term():
    defined = {t.lower() for t in glossary_terms()}
    sources = [source_of(page["doc"]) for page in PAGES]
    for path in filter(None, sources):  # a missing file fails test_toc_has_...
        for target in re.findall(r"\{term\}`(?:[^`<]*<)?([^`>]+)>?`", markdown_of(path)):
            assert target.strip().lower() in defined, f"{path.name}: undefined term {target!r}"


def prose(markdown: str) -> str:
    """Markdown without code, math, headings and roles: the words a reader reads as text."""
    text = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"\$[^$\n]*\$", " ", text)
    text = re.sub(r"\{[\w:-]+\}`[^`]*`", " ", text)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)  # link targets
    return re.sub(r"^#.*$", " ", text, flags=re.M)


def links_term(markdown: str, term: str) -> bool:
    return bool(re.search(r"\{term\}`(?:[^`<]*<\s*)?" + re.escape(term) + r"\s*>?`", markdown,
                          re.I))


def uses_term(markdown: str, term: str) -> bool:
    return bool(re.search(r"(?<![\w-])" + re.escape(term) + r"(?:s|es)?(?![\w-])",
                          prose(markdown), re.I))


@pytest.mark.parametrize("term", glossary_terms())
def test_each_glossary_term_is_linked_in_the_chapter_that_first_uses_it(term):
    for path in filter(None, (source_of(page["doc"]) for page in CHAPTERS)):
        markdown = markdown_of(path)
        if links_term(markdown, term):
            return
        if uses_term(markdown, term):
            pytest.fail(f"{path.relative_to(ROOT)} is the first chapter to use '{term}': "
                        f"link its first use to the glossary with {{term}}`...<{term}>`")


def bib_keys() -> set[str]:
    return set(re.findall(r"^@\w+\{([^,\s]+),", BIB.read_text(encoding="utf-8"), re.M))


def test_bibliography_has_each_key_once():
    keys = re.findall(r"^@\w+\{([^,\s]+),", BIB.read_text(encoding="utf-8"), re.M)
    assert len(keys) == len(set(keys)), "a BibTeX key is defined twice"


def test_required_references_are_in_the_bibliography_and_cited():
    cited = set()
    for path in filter(None, (source_of(page["doc"]) for page in PAGES)):
        for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", markdown_of(path)):
            cited.update(key.strip() for key in group.split(","))
    for key, work in REQUIRED_REFERENCES.items():
        assert key in bib_keys(), f"{work} ({key}) is missing from book/references.bib"
        assert key in cited, f"{work} ({key}) is cited nowhere in the book"
    assert cited <= bib_keys(), f"cited but not in references.bib: {sorted(cited - bib_keys())}"


@pytest.mark.parametrize("path", CHAPTER_FILES, ids=lambda p: p.name)
def test_chapter_asks_3_to_5_questions_answered_in_dropdowns(path):
    questions = section(markdown_of(path), "Check your understanding")
    answers = re.findall(r"^\s*```\{dropdown\}", questions, re.M)
    assert 3 <= len(answers) <= 5, f"{len(answers)} answered questions; expected 3 to 5"


@pytest.mark.parametrize("path", CHAPTER_FILES + sorted((ROOT / "solutions").glob("[0-9]*.ipynb")),
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebook_carries_no_widget_state_so_the_book_shows_static_figures(path):
    # Saved widget state makes every page load the widget manager, whose fonts then fail
    # to load, and shows sliders with no figure. Static runs draw the default figure.
    nb = read(path)
    assert "widgets" not in nb.metadata, (
        "the notebook was run with live widgets: run it again with MLPBOOK_STATIC=1 "
        "(make execute sets it) and drop metadata.widgets")
    for k, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        for output in cell.get("outputs", []):
            assert "application/vnd.jupyter.widget-view+json" not in output.get("data", {}), (
                f"code cell {k} shows a live widget: run with MLPBOOK_STATIC=1")


# Colour maps that are not safe for colour-blind readers (red-green, or rainbows).
UNSAFE_COLOUR_MAPS = {"jet", "rainbow", "gist_rainbow", "hsv", "nipy_spectral", "gist_ncar",
                      "RdYlGn", "RdGn", "Spectral", "brg", "prism", "flag"}


@pytest.mark.parametrize("path", CHAPTER_FILES + sorted((ROOT / "solutions").glob("[0-9]*.ipynb")),
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_figures_avoid_colour_maps_and_pairs_that_colour_blind_readers_confuse(path):
    for k, cell in enumerate(c for c in read(path).cells if c.cell_type == "code"):
        maps = set(re.findall(r"""cmap\s*=\s*["']([\w]+?)(?:_r)?["']""", cell.source))
        assert not maps & UNSAFE_COLOUR_MAPS, f"code cell {k} uses {maps & UNSAFE_COLOUR_MAPS}"
        named = set(re.findall(r"""colou?r\s*=\s*["'](red|green|lime)["']""", cell.source))
        assert not ({"red"} <= named and named & {"green", "lime"}), (
            f"code cell {k} tells red from green: use plot.PALETTE, and markers or line styles")


# --- Student edition and the CDN copies (the tools behind the targets) -------------------------

def test_student_edition_toc_leaves_out_every_solution():
    from tools.student_edition import without_solutions

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    student = without_solutions(toc)
    assert "solutions/" not in yaml.safe_dump(student)
    kept = [p["doc"] for p in toc_pages(student)]
    assert kept == [p["doc"] for p in PAGES if p["kind"] != "solutions"]


def test_student_edition_replaces_links_to_solutions_by_their_text():
    from tools.student_edition import NOT_IN_EDITION, unlink_solutions

    text = ("Work them in [the exercise notebook](../exercises/01_perceptron.ipynb); the "
            "answers are in [the solutions](../solutions/01_perceptron.ipynb) and "
            "{doc}`these <../solutions/03_activations>`.")
    out = unlink_solutions(text)
    assert "solutions/" not in out
    assert f"the solutions {NOT_IN_EDITION}" in out and f"these {NOT_IN_EDITION}" in out
    assert "[the exercise notebook](../exercises/01_perceptron.ipynb)" in out


def test_cdn_addresses_map_to_the_local_npm_copies(tmp_path):
    (tmp_path / "mathjax" / "es5").mkdir(parents=True)
    (tmp_path / "mathjax" / "es5" / "tex-mml-chtml.js").write_text("//")
    (tmp_path / "requirejs").mkdir()
    (tmp_path / "requirejs" / "require.js").write_text("//")
    manifest = {"mathjax": "3.2.2", "requirejs": "2.3.4"}
    cdn = "https://cdn.example/npm"
    assert local_copy(f"{cdn}/mathjax@3/es5/tex-mml-chtml.js", manifest, tmp_path) == (
        tmp_path / "mathjax" / "es5" / "tex-mml-chtml.js").resolve()
    assert local_copy(f"{cdn}/requirejs@2.3.4/require.js", manifest, tmp_path) is not None
    assert local_copy("https://libs.example/ajax/libs/require.js/2.3.4/require.min.js",
                      manifest, tmp_path) is not None
    (tmp_path / "font-awesome" / "css").mkdir(parents=True)
    (tmp_path / "font-awesome" / "css" / "font-awesome.min.css").write_text("/**/")
    manifest["font-awesome"] = "4.4.0"
    assert local_copy("https://fonts.example/font-awesome/4.4.0/css/font-awesome.min.css",
                      manifest, tmp_path) is not None
    assert local_copy("https://fonts.example/font-awesome/4.5.0/css/font-awesome.min.css",
                      manifest, tmp_path) is None  # another version
    assert local_copy(f"{cdn}/mathjax@2/MathJax.js", manifest, tmp_path) is None  # wrong major
    assert local_copy(f"{cdn}/mathjax@3/../../etc/passwd", manifest, tmp_path) is None
    assert local_copy("https://example.org/analytics.js", manifest, tmp_path) is None


# --- The built book in Chromium ------------------------------------------------------------------

browser = pytest.mark.browser


@pytest.fixture(scope="session")
def chromium():
    if not (HTML / "index.html").exists():
        pytest.fail("_build/html is missing: run `make build-check` before `make browser`")
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (see .ci/run)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="session")
def context(chromium):
    ctx = chromium.new_context(viewport={"width": 1280, "height": 900}, color_scheme="light")
    yield ctx
    ctx.close()


@pytest.fixture(scope="session")
def site():
    with serve(HTML) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def manifest():
    return asset_manifest(ASSETS)


@pytest.fixture(scope="session")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


@browser
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p["doc"])
def test_page_loads_cleanly_passes_axe_fits_a_desktop_and_toggles_its_sidebar(
        page, desktop, site, axe, manifest):
    """At 1366 px, in one load: the page's console, requests, maths, images, links and
    headings (``check_page``); its layout, figures and sidebar (``desktop_problems``);
    then axe in the light and dark themes."""
    html = HTML / f"{page['doc']}.html"
    assert html.exists(), f"{html.relative_to(ROOT)} was not built: run `make build-check`"
    result = check_page(desktop, f"{site}{page['doc']}.html", root=HTML, base_url=site,
                        axe=axe, manifest=manifest,
                        has_math=has_math(markdown_of(source_of(page["doc"]))),
                        inspect=lambda tab: desktop_problems(tab, page))
    assert result.axe_runs == 2
    assert not result.problems, "\n".join([f"{page['doc']} at 1366 px:"] + result.problems)


@browser
@pytest.mark.parametrize("page", CHAPTERS, ids=lambda p: p["doc"])
def test_chapter_questions_open_their_answers_without_a_kernel(page, context, site):
    tab = context.new_page()
    try:
        tab.goto(f"{site}{page['doc']}.html")
        questions = tab.locator("section#check-your-understanding")
        assert questions.count() == 1, "no 'Check your understanding' section"
        dropdowns = questions.locator("details.sd-dropdown")
        assert 3 <= dropdowns.count() <= 5
        for k in range(dropdowns.count()):
            answer = dropdowns.nth(k).locator(".sd-summary-content")
            assert not answer.is_visible(), "answers start folded"
            dropdowns.nth(k).locator("summary").click()
            assert answer.is_visible() and answer.inner_text().strip()
    finally:
        tab.close()


@browser
@pytest.mark.parametrize("page", CHAPTERS, ids=lambda p: p["doc"])
def test_chapter_page_has_colab_binder_and_download_buttons(page):
    html = (HTML / f"{page['doc']}.html").read_text(encoding="utf-8")
    path = f"{page['doc']}.ipynb"
    repo = REPOSITORY.removeprefix("https://github.com/")
    edition = CONFIG["launch_buttons"]["branch"]  # the Jupyter edition's branch (issue 14)
    assert f"/github/{repo}/blob/{edition}/{path}" in html  # Colab
    assert f"/v2/gh/{repo}/{edition}?urlpath=lab/tree/{path}" in html
    assert f"_sources/{path}" in html  # the download button
    assert f'href="{REPOSITORY}"' in html  # the repository button


_CODE_SAMPLE = """listing => {
  const classes = new Set();
  for (const sheet of document.styleSheets) {
    let rules;
    try { rules = sheet.cssRules; } catch (e) { continue; }
    for (const rule of rules) {
      for (const m of (rule.selectorText || '').matchAll(/\\.highlight \\.([\\w-]+)/g)) {
        classes.add(m[1]);
      }
    }
  }
  const pre = document.querySelector(listing);
  const copy = pre.closest('div[class^="highlight-"]').cloneNode(true);
  const sample = copy.querySelector('pre');
  sample.id = 'contrast-sample';
  sample.textContent = '';
  for (const name of [...classes].sort()) {
    const span = document.createElement('span');
    span.className = name;
    span.textContent = `token_${name} = 1\\n`;
    sample.appendChild(span);
  }
  pre.closest('div[class^="highlight-"]').after(copy);
  return [...classes];
}"""


@browser
def test_every_code_colour_has_enough_contrast_in_both_themes(context, site, axe):
    """The replacement for axe on code listings (see browser.AXE_EXCLUDED_SELECTORS)."""
    doc = CHAPTERS[0]["doc"] if CHAPTERS else "book/how_to_use"
    tab = context.new_page()
    try:
        tab.goto(f"{site}{doc}.html")
        classes = tab.evaluate(_CODE_SAMPLE, CODE_LISTINGS)
        assert len(classes) >= 30, f"only {len(classes)} Pygments token classes found"
        for theme in ("light", "dark"):
            set_theme(tab, theme)
            results = axe.run(tab, context={"include": [["#contrast-sample"]]},
                              options={"runOnly": {"type": "rule", "values": ["color-contrast"]},
                                       "resultTypes": ["violations", "passes"],
                                       "preload": False})
            checked = sum(len(r["nodes"]) for r in results.response["passes"])
            failures = [node["target"] for v in results.response["violations"]
                        for node in v["nodes"]]
            assert not failures, f"{theme} theme: low-contrast code colours: {failures}"
            assert checked >= len(classes) - 5, f"{theme}: axe checked only {checked} spans"
    finally:
        tab.close()


def representative_pages() -> dict[str, str | None]:
    """The landing page, the first Part I chapter and the first application chapter."""
    part_one = [p["doc"] for p in CHAPTERS if (p["part"] or "").startswith("Part I.")]
    applications = [p["doc"] for p in CHAPTERS if "Application" in (p["part"] or "")]
    return {"landing": PAGES[0]["doc"], "part1_chapter": part_one[0] if part_one else None,
            "application_chapter": applications[0] if applications else None}


@browser
def test_screenshots_of_three_representative_pages(context, site):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    missing = []
    for name, doc in representative_pages().items():
        if doc is None:
            missing.append(name)
            continue
        for theme in ("light", "dark"):
            tab = context.new_page()
            try:
                tab.goto(f"{site}{doc}.html")
                set_theme(tab, theme)
                tab.wait_for_timeout(300)
                out = SCREENSHOTS / f"{name}_{theme}.png"
                tab.screenshot(path=str(out))
                assert out.stat().st_size > 10_000
            finally:
                tab.close()
    if missing:
        pytest.skip(f"no page yet for {missing}: the TOC has no such chapter")


# --- The page check catches what it should -------------------------------------------------------

def tiny_png() -> bytes:
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    raw = b"\x00\x00\x00\x00"  # one filter byte, then one RGB pixel
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


CLEAN_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>A planted page</title></head>
<body><main><h1>A planted page</h1>
<p>See <a href="other.html#part">the other page</a> and <a href="#top">the top</a>.</p>
<img src="dot.png" alt="A single black pixel used as a test figure">
<span id="top"></span>
{extra}
</main></body></html>
"""
PLANTS = {
    "broken internal link": ('<p><a href="missing.html">a page that does not exist</a></p>',
                             "broken link"),
    "broken anchor": ('<p><a href="other.html#nowhere">an anchor that does not exist</a></p>',
                      "broken anchor"),
    "missing alt text": ('<img src="dot.png">', "image without alt text"),
    "generic alt text": ('<img src="dot.png" alt="dot.png">', "generic alt text"),
    "console error": ("<script>console.error('planted error')</script>", "console error"),
    "uncaught exception": ("<script>undefinedFunction()</script>", "uncaught JavaScript error"),
    "failed request": ('<script src="missing.js"></script>', "failed request"),
    "outside request": ('<script src="https://tracker.example/t.js"></script>',
                        "outside request with no local copy"),
    "code without a language": ('<div class="highlight-default notranslate"><div '
                                'class="highlight"><pre>x = 1</pre></div></div>',
                                "no language label"),
    "skipped heading level": ("<h3>A heading two levels down</h3>", "heading level skips"),
    "math left as source": (r'<p><span class="math notranslate nohighlight">\(x^2\)</span></p>',
                            "math not typeset"),
    "widget placeholder in an output": ('<div class="cell_output"><div class="output '
                                        'text_plain">Loading widget...</div></div>',
                                        "widget placeholder"),
}


@pytest.fixture(scope="module")
def planted_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("planted")
    (root / "dot.png").write_bytes(tiny_png())
    (root / "other.html").write_text(CLEAN_PAGE.replace("A planted page", "Other").format(
        extra='<h2 id="part">Part</h2>'))
    (root / "clean.html").write_text(CLEAN_PAGE.format(extra=""))
    for k, (extra, _) in enumerate(PLANTS.values()):
        (root / f"plant{k}.html").write_text(CLEAN_PAGE.format(extra=extra))
    (root / "three.html").write_text(CLEAN_PAGE.format(extra="\n".join(
        PLANTS[name][0] for name in ("broken internal link", "missing alt text",
                                     "console error"))))
    with serve(root) as base_url:
        yield root, base_url


def check_planted(context, planted_site, name, axe=None, manifest=None):
    root, base_url = planted_site
    return check_page(context, f"{base_url}{name}", root=root, base_url=base_url, axe=axe,
                      manifest=manifest or {})


@browser
def test_page_check_passes_a_clean_page(context, planted_site, axe):
    result = check_planted(context, planted_site, "clean.html", axe=axe)
    assert result.problems == [] and result.internal_links == 2 and result.axe_runs == 2


@browser
def test_page_check_fails_a_page_with_a_broken_link_a_missing_alt_and_a_console_error(
        context, planted_site, axe):
    problems = "\n".join(check_planted(context, planted_site, "three.html", axe=axe).problems)
    assert "broken link" in problems and "missing.html" in problems
    assert "image without alt text" in problems
    assert "console error: planted error" in problems
    assert "image-alt" in problems  # axe agrees about the missing alt text


@browser
@pytest.mark.parametrize("k, name", list(enumerate(PLANTS)), ids=list(PLANTS))
def test_page_check_catches_each_planted_problem(context, planted_site, k, name):
    problems = check_planted(context, planted_site, f"plant{k}.html").problems
    expected = PLANTS[name][1]
    assert any(expected in problem for problem in problems), problems


# --- Reading on a desktop and on a phone (issue 15) -------------------------------------------

@pytest.fixture(scope="session")
def desktop(chromium, manifest):
    ctx = chromium.new_context(viewport=DESKTOP, color_scheme="light")
    ctx.route(lambda url: not url.startswith("http://127.0.0.1"), _cdn_route(manifest))
    yield ctx
    ctx.close()


@pytest.fixture(scope="session")
def phone(chromium, manifest):
    ctx = chromium.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                               has_touch=True, color_scheme="light")
    ctx.route(lambda url: not url.startswith("http://127.0.0.1"), _cdn_route(manifest))
    yield ctx
    ctx.close()


def _cdn_route(manifest):
    """Answer the pages' CDN requests from the local npm copies; refuse anything else."""
    from browser import _CONTENT_TYPES

    def route(r):
        if r.request.url.startswith("data:"):
            return r.continue_()
        local = local_copy(r.request.url, manifest)
        if local is None:
            return r.abort("blockedbyclient")
        return r.fulfill(path=str(local), status=200, headers={
            "Content-Type": _CONTENT_TYPES.get(local.suffix, "application/octet-stream"),
            "Access-Control-Allow-Origin": "*"})

    return route


def _open(ctx, url):
    tab = ctx.new_page()
    tab.goto(url, wait_until="load")
    return tab


def desktop_problems(tab, page: dict) -> list[str]:
    """1366 px: code and outputs fit their box; figures are sharp and open full size;
    no maintainer's marker shows; solution pages say so; ☰ hides and shows the sidebar."""
    facts = layout_facts(tab)
    problems = [f"{o['where']} {o['width']} px wide in a {o['box']} px box: {o['line']!r}"
                for o in facts["overflowing"]]
    problems += figure_problems(facts)
    problems += [f"shows {m!r}" for m in machinery_shown(facts)]
    if page["kind"] == "solutions" and not (facts["title"] or "").startswith("Solutions"):
        problems.append(f"a solutions page titled {facts['title']!r}")
    searches = tab.locator(".search-button-field:visible").count()
    if searches != 1:
        problems.append(f"{searches} search fields on the page (one expected)")
    toggle = tab.locator(".primary-toggle:visible")
    if toggle.count() != 1 or not tab.locator("#pst-primary-sidebar").is_visible():
        return problems + [f"{toggle.count()} visible ☰ buttons (one expected) or no sidebar"]
    # The theme slides the sidebar out (negative margin) and hides it (visibility).
    shown = """() => { const s = document.querySelector('#pst-primary-sidebar');
        const r = s.getBoundingClientRect();
        return getComputedStyle(s).visibility !== 'hidden' && r.width > 100
            && r.right > 100; }"""
    try:
        toggle.click()
        tab.wait_for_function(f"!({shown})()", timeout=5000)
        toggle.click()
        tab.wait_for_function(f"({shown})()", timeout=5000)
    except PlaywrightTimeout:
        problems.append("☰ does not hide and show the sidebar")
    return problems


@browser
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p["doc"])
def test_phone_page_never_scrolls_sideways_and_its_buttons_open_the_contents(
        page, phone, site):
    """390 px: the page is no wider than the screen (equations and tables scroll inside
    their own box, visibly); ☰ opens the chapter list, the contents icon the sections."""
    tab = _open(phone, f"{site}{page['doc']}.html")
    try:
        facts = layout_facts(tab)
        problems = []
        if facts["pageWidth"] > facts["viewport"]:
            problems.append(f"the page scrolls sideways: {facts['pageWidth']} px on a "
                            f"{facts['viewport']} px screen")
        if not facts["titleFits"]:
            problems.append(f"the title {facts['title']!r} is cut")
        for block in facts["wideBlocks"]:
            if block["overflowX"] not in ("auto", "scroll") or not block["marked"]:
                problems.append(f"a wide {block['tag']} does not scroll visibly "
                                f"(overflow-x {block['overflowX']}): {block['text']!r}")
        problems += [f"figure: {p}" for p in figure_problems(facts)
                     if "full size" not in p]
        chapters = open_dialog(tab, ".primary-toggle", "#pst-primary-sidebar-modal",
                               touch=True)
        if not (chapters["open"] and any("notebooks/" in h for h in chapters["links"])):
            problems.append(f"☰ does not open the chapter list: {chapters}")
        tab.keyboard.press("Escape")
        tab.wait_for_timeout(100)
        if facts["sections"]:
            sections = open_dialog(tab, ".secondary-toggle", "#pst-secondary-sidebar-modal",
                                   touch=True)
            here = f"{site}{page['doc']}.html#"
            if not (sections["open"] and any(h.startswith(here) for h in sections["links"])):
                problems.append(f"the contents icon does not open the sections: {sections}")
        assert not problems, "\n".join([f"{page['doc']} at 390 px:"] + problems)
    finally:
        tab.close()


def _contrast(fg: tuple[float, ...], bg: tuple[float, ...]) -> float:
    def luminance(rgb):
        c = [v / 255 for v in rgb[:3]]
        c = [v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@browser
def test_comments_look_unlike_numbers_in_both_themes(desktop, site):
    tab = _open(desktop, f"{site}{(CHAPTERS[0] if CHAPTERS else PAGES[0])['doc']}.html")
    try:
        for theme in ("light", "dark"):
            set_theme(tab, theme)
            colours = tab.evaluate("""() => {
              const pre = document.querySelector('div.highlight pre');
              const rgb = c => c.match(/[\\d.]+/g).map(Number);
              const span = cls => { const s = document.createElement('span');
                s.className = cls; s.textContent = '1'; pre.appendChild(s);
                const st = getComputedStyle(s); const out = [rgb(st.color), st.fontStyle];
                s.remove(); return out; };
              let bg = pre.closest('div.highlight');
              return {comment: span('c1'), number: span('mi'),
                      background: rgb(getComputedStyle(bg).backgroundColor)};
            }""")
            (comment, style), (number, _) = colours["comment"], colours["number"]
            assert comment != number or style == "italic", f"{theme}: comments like numbers"
            assert sum(abs(a - b) for a, b in zip(comment, number)) > 60, (
                f"{theme}: comment colour {comment} too close to numbers {number}")
            assert _contrast(comment, colours["background"]) >= 4.5, f"{theme}: {colours}"
    finally:
        tab.close()


@browser
def test_hovered_links_keep_enough_contrast_in_both_themes(desktop, site):
    """A hovered link, in the sidebar and in the article, is still readable: 4.5:1."""
    tab = _open(desktop, f"{site}{(CHAPTERS[0] if CHAPTERS else PAGES[0])['doc']}.html")
    colours = """a => { const rgb = c => c.match(/[\\d.]+/g).map(Number);
      let e = a, bg = 'rgba(0, 0, 0, 0)';
      while (e && /^rgba\\(.*, 0\\)$|transparent/.test(bg)) {
        bg = getComputedStyle(e).backgroundColor; e = e.parentElement; }
      return [rgb(getComputedStyle(a).color), rgb(bg)]; }"""
    try:
        for theme in ("light", "dark"):
            set_theme(tab, theme)
            tab.wait_for_function("t => document.documentElement.dataset.theme === t",
                                  arg=theme)
            for where in (".bd-sidenav a.reference.internal", ".bd-article p a.reference"):
                link = tab.locator(where).first
                link.scroll_into_view_if_needed()
                link.hover()
                tab.wait_for_timeout(300)  # the theme's colour transition
                fg, bg = link.evaluate(colours)
                assert _contrast(fg, bg) >= 4.5, f"{theme}: hovered {where}: {fg} on {bg}"
    finally:
        tab.close()


@browser
def test_search_snippets_show_no_tex_delimiters(desktop, site):
    tab = _open(desktop, f"{site}search.html?q=gradient")
    try:
        tab.wait_for_function("document.querySelectorAll('#search-results li').length > 3 "
                              "&& document.querySelectorAll('#search-results p.context')"
                              ".length > 3", timeout=30_000)
        tab.wait_for_timeout(500)
        snippets = tab.eval_on_selector_all("#search-results p.context",
                                            "ps => ps.map(p => p.textContent)")
        assert snippets
        raw = [s for s in snippets if re.search(r"\\[()\[\]]", s)]
        assert not raw, f"snippets with raw TeX: {raw[:2]}"
    finally:
        tab.close()


def _built(doc: str) -> str:
    return (HTML / f"{doc}.html").read_text(encoding="utf-8")


@browser
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p["doc"])
def test_page_has_link_preview_favicon_last_updated_and_edit_button(page):
    text = _built(page["doc"])
    for prop in ("og:title", "og:description", "og:image", "og:url"):
        assert re.search(rf'<meta property="{prop}" content="[^"]+"', text), prop
    assert re.search(r'<link rel="icon" href="[^"]*favicon\.svg"', text)
    assert re.search(r"Last updated on \d{1,2} \w+ \d{4}", text)
    branch = CONFIG["repository"]["branch"]
    source = source_of(page["doc"]).relative_to(ROOT).as_posix()
    if page["kind"] == "exercises":  # generated from solutions/: edit the source
        source = source.replace("exercises/", "solutions/", 1)
    assert f"{REPOSITORY}/edit/{branch}/{source}" in text, "no suggest-an-edit link"


@browser
def test_landing_page_links_the_pdf_and_how_to_page_the_notebooks_zip():
    import zipfile

    from tools.bookext import BOOK_PDF, NOTEBOOKS_ZIP

    assert f'href="../{BOOK_PDF}"' in _built(PAGES[0]["doc"])
    assert f'href="../{NOTEBOOKS_ZIP}"' in _built("book/how_to_use")
    names = set(zipfile.ZipFile(HTML / NOTEBOOKS_ZIP).namelist())
    for folder in ("notebooks", "exercises", "solutions"):
        for path in sorted((ROOT / folder).glob("[0-9][0-9]_*.ipynb")):
            assert f"mlp-pytorch-notebooks/{folder}/{path.name}" in names


@browser
def test_glossary_has_an_a_to_z_index_and_links_back_to_chapters():
    text = _built("book/glossary")
    nav = re.search(r'<nav class="glossary-az"[^>]*>(.*?)</nav>', text, re.S)
    assert nav, "no A-Z index"
    letters = re.findall(r'<a href="#([^"]+)">([A-Z])</a>', nav[1])
    assert len(letters) >= 10
    ids = set(re.findall(r'id="([^"]+)"', text))
    assert all(anchor in ids for anchor, _ in letters)
    assert {t[0].upper() for t in glossary_terms()} == {letter for _, letter in letters}
    used = re.findall(r'<p class="glossary-used-in">(.*?)</p>', text, re.S)
    assert len(used) >= len(glossary_terms()) // 2, "few terms link back to chapters"
    for para in used:
        assert re.search(r'href="\.\./notebooks/\d\d_\w+\.html"', para)


@browser
def test_citations_and_bibliography_labels_read_the_same():
    refs = _built("book/references")
    labels = {m[0]: re.sub(r"<[^>]+>", "", m[1]) for m in re.finditer(
        r'<span class="label"><span class="fn-bracket">\[</span>(.*?)<span class="fn-bracket">'
        r'\]</span></span>', refs)}
    entries = dict(re.findall(r'id="(id\d+)"[^>]*>\s*<span class="label"><span '
                              r'class="fn-bracket">\[</span>(.*?)<span', refs))
    assert entries and all(re.search(r", \d{4}[a-z]?$", label) for label in entries.values()), (
        f"labels not 'Author, year': {list(entries.values())[:3]}")
    checked = 0
    for page in PAGES:
        for anchor, text in re.findall(
                r'<a class="reference internal" href="[^"]*references\.html#(id\d+)"[^>]*>'
                r"(.*?)</a>", _built(page["doc"])):
            if anchor in entries:
                assert html_text(text) == html_text(entries[anchor]), (page["doc"], text)
                checked += 1
    assert checked >= len(REQUIRED_REFERENCES), f"only {checked} citations checked"
    assert labels or entries


def html_text(fragment: str) -> str:
    import html as html_module

    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", "", fragment)).split())


@browser
def test_pdf_has_the_whole_book_with_an_outline_and_embedded_fonts():
    from pypdf import PdfReader

    pdf = ROOT / "_build" / "pdf" / "book.pdf"
    assert pdf.exists(), "run `make pdf`"
    reader = PdfReader(pdf)
    assert len(reader.pages) >= 2 * len(PAGES), f"only {len(reader.pages)} pages"

    def titles(outline):
        for item in outline:
            yield from titles(item) if isinstance(item, list) else [item.title]

    # Chromium drops the spaces at line breaks of long headings: compare without spaces.
    outline = ["".join(t.split()) for t in titles(reader.outline)]
    for page in PAGES:
        if page["part"]:
            assert "".join(page["part"].split()) in outline, f"no bookmark for {page['part']}"
    for path in CHAPTER_FILES:
        title = "".join(markdown_of(path).splitlines()[0].lstrip("# ").split())
        assert any(title in t for t in outline), f"no bookmark for {title!r}"
    fonts, images = {}, 0
    for k, sheet in enumerate(reader.pages):
        resources = sheet.get("/Resources") or {}
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            if font.get("/Subtype") == "/Type0":
                descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            embedded = font.get("/Subtype") == "/Type3" or (descriptor is not None and any(
                key in descriptor.get_object() for key in ("/FontFile", "/FontFile2",
                                                          "/FontFile3")))
            fonts[str(font.get("/BaseFont", f"Type3 on page {k}"))] = embedded
        images += sum(1 for x in (resources.get("/XObject") or {}).values()
                      if x.get_object().get("/Subtype") == "/Image")
    assert fonts and all(fonts.values()), f"fonts not embedded: {fonts}"
    assert images >= len(CHAPTERS), f"only {images} images"
    first = reader.pages[0].extract_text()
    assert CONFIG["title"] in " ".join(first.split())
    sample = " ".join(reader.pages[k].extract_text() for k in range(0, len(reader.pages), 25))
    assert "\\frac" not in sample and "\\(" not in sample, "maths printed as TeX source"


@browser
def test_screenshots_of_the_phone_navigation_and_a_chapter_at_both_widths(
        desktop, phone, site):
    out = SCREENSHOTS / "after"
    out.mkdir(parents=True, exist_ok=True)
    doc = next((p["doc"] for p in CHAPTERS if "05_" in p["doc"]),
               CHAPTERS[0]["doc"] if CHAPTERS else PAGES[0]["doc"])
    for name, ctx in (("desktop", desktop), ("phone", phone)):
        for theme in ("light", "dark"):
            tab = _open(ctx, f"{site}{doc}.html")
            try:
                set_theme(tab, theme)
                layout_facts(tab)
                tab.screenshot(path=str(out / f"chapter_{name}_{theme}.png"))
                if name == "phone" and theme == "light":
                    open_dialog(tab, ".primary-toggle", "#pst-primary-sidebar-modal",
                                touch=True)
                    tab.screenshot(path=str(out / "nav_phone_chapters.png"))
                    tab.keyboard.press("Escape")
                    open_dialog(tab, ".secondary-toggle", "#pst-secondary-sidebar-modal",
                                touch=True)
                    tab.screenshot(path=str(out / "nav_phone_contents.png"))
            finally:
                tab.close()
    assert len(list(out.glob("*.png"))) >= 6


# --- The reader's view of the code, the bibliography labels, the citation file ----------------

def test_solution_markers_and_smoke_notes_leave_the_code_shown_to_readers():
    from docutils import nodes

    from tools.bookext import tidy_code_for_readers

    source = ('EPOCHS = 50  # passes before the perceptron gives up; smoke: 5\n'
              'N_SEEDS = 3  # smoke: 1\n'
              'def f(x):\n'
              '    ### BEGIN SOLUTION: Exercise 1: double it\n'
              '    return 2 * x\n'
              '    ### END SOLUTION\n')

    def shown(docname):
        block = nodes.literal_block(source, source)
        cell = nodes.container(nb_element="cell_code_source")
        cell += block
        doctree = nodes.document(None, None)
        doctree += cell

        class App:
            class env:
                pass
        App.env.docname = docname
        tidy_code_for_readers(App, doctree)
        assert block.rawsource == block.astext()  # else Sphinx would not highlight it
        return block.astext()

    solution = shown("solutions/01_perceptron")
    assert solution == ("EPOCHS = 50  # passes before the perceptron gives up\n"
                        "N_SEEDS = 3\n"
                        "def f(x):\n"
                        "    return 2 * x\n")
    chapter = shown("notebooks/01_perceptron")
    assert "smoke" not in chapter and "BEGIN SOLUTION" in chapter  # only solutions/ strip


def test_bibliography_labels_read_author_comma_year_like_the_citations():
    from pybtex.database import parse_string
    from pybtex.plugin import find_plugin

    from tools.bookext import register_author_year_style

    register_author_year_style()
    bib = parse_string("""
    @misc{a, author = {Rosenblatt, Frank}, title = {P}, year = {1958}}
    @misc{b, author = {Glorot, Xavier and Bengio, Yoshua}, title = {U}, year = {2010}}
    @misc{c, author = {Rumelhart, D. and Hinton, G. and Williams, R.}, title = {L},
             year = {1986}}
    @misc{d, author = {Alpaydin, E. and Kaynak, C.}, title = {A}, year = {1998}}
    @misc{e, author = {Alpaydin, E. and Kaynak, C.}, title = {B}, year = {1998}}
    """, "bibtex")
    style = find_plugin("pybtex.style.formatting", "authoryear")()
    labels = {e.key: e.label for e in style.format_entries(bib.entries.values())}
    assert labels == {"a": "Rosenblatt, 1958", "b": "Glorot and Bengio, 2010",
                      "c": "Rumelhart et al., 1986", "d": "Alpaydin and Kaynak, 1998a",
                      "e": "Alpaydin and Kaynak, 1998b"}
    assert bib.entries["e"].fields["year"] == "1998b"  # the citation in the text follows


def test_citation_file_names_the_book_and_its_repository():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0"
    assert cff["repository-code"] == REPOSITORY
    assert cff["title"].startswith(CONFIG["title"])
    intro = markdown_of(ROOT / "book" / "intro.md")
    assert "## How to cite this book" in intro and cff["url"] in intro
    assert "{book-pdf}" in intro and "{download-all}" in markdown_of(
        ROOT / "book" / "how_to_use.md")


def test_figure_and_machinery_rules_flag_what_they_should():
    def fig(natural, shown, animation=False, linked=True):
        return {"src": "f.png", "natural": natural, "shown": shown, "animation": animation,
                "linked": linked}

    def problems(*figures):
        return figure_problems({"figures": list(figures)})

    assert problems(fig(1500, 750), fig(600, 600, animation=True),
                    fig(600, 374, animation=True)) == []
    assert "soft figure" in problems(fig(1000, 750))[0]  # 1.33x
    assert "animation frames 250 px" in " ".join(problems(fig(250, 250, animation=True)))
    assert "full size" in problems(fig(1500, 750, linked=False))[0]
    facts = {"visibleText": "x = 1\nglue('a', 1)", "allCode": "EPOCHS = 5  # smoke: 1"}
    assert machinery_shown(facts) == ["glue(", "smoke:"]
    assert machinery_shown({"visibleText": "Solutions 1", "allCode": "x = 1"}) == []
