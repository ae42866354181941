"""Drive the built book in Debian's Chromium: serve it, open each page, list what is wrong.

The entry point is :func:`check_page`, which returns a list of problems (empty when the
page is fine). tests/test_book.py runs it on every page of the table of contents, and on
planted bad pages to show that it catches them.

No network: the requests that the pages make to public CDNs (MathJax, require.js, the
Jupyter widget manager, Font Awesome for matplotlib's animations) are answered from the
copies that ``tools/web_assets.py`` unpacks from npm, so the pages render as they do
online. A request to any other outside address is refused and reported as a problem, never
dropped silently.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
ASSETS = ROOT / "_build" / "web-assets"
SCREENSHOTS = ROOT / "_build" / "screenshots"
# Debian's Chromium; CHROMIUM names another Chromium-based browser (a CI runner's Chrome).
CHROMIUM = Path(os.environ.get("CHROMIUM") or "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-extensions",
                 "--disable-default-apps"]

# Alt text that says nothing about the figure.
GENERIC_ALT = re.compile(r"^(png|jpe?g|svg|gif|image|img|picture|output|figure|fig|plot|"
                         r"graph|chart|untitled|\d+|[\w.-]+\.(png|jpe?g|svg|gif))$", re.I)
MIN_ALT_CHARS = 10
THEMES = ("light", "dark")
AXE_BLOCKING = {"serious", "critical"}

# ---------------------------------------------------------------------------------------
# Axe exclusions. Every rule switched off and every region left out of the audit, each
# with its reason. Keep this list short; prefer fixing the page.
AXE_DISABLED_RULES: dict[str, str] = {}
CODE_LISTINGS = 'div[class^="highlight-"]:not(.highlight-myst-ansi):not(.highlight-ipythontb) pre'
AXE_EXCLUDED_SELECTORS: dict[str, str] = {
    CODE_LISTINGS: (
        "Syntax-highlighted code listings (code cells and code blocks, not outputs). A chapter "
        "has thousands of token spans that all share one Pygments style, and axe's "
        "color-contrast takes over 20 s a chapter to re-check each of them. Instead, "
        "test_book.py::test_every_code_colour_has_enough_contrast_in_both_themes audits one "
        "span of every token class of that style on the code background, in both themes. "
        "The other rules have nothing to check inside a <pre> of text spans."),
}
# Not an exclusion: axe's option "preload" is off. With it on, axe re-downloads the page's
# style sheets and resolves their @import against the page instead of the style sheet,
# which requests a non-existent /basic.css (a failed request caused by the test itself).
# It only feeds the css-orientation-lock rule; the book sets no orientation lock.
#
# The light theme runs every rule. The dark theme changes colours only, so it runs the
# rules that depend on colour; the others would give the same answer twice.
AXE_COLOUR_RULES = ("color-contrast", "link-in-text-block")
# ---------------------------------------------------------------------------------------


# --- The table of contents --------------------------------------------------------------

def toc_pages(toc: Path | dict = ROOT / "_toc.yml") -> list[dict]:
    """Every page of the TOC (a _toc.yml path or its mapping) in reading order.

    Each page is {"doc", "part", "kind"}; ``kind`` is "chapter" (a notebook in
    notebooks/), "exercises", "solutions" or "page".
    """
    if isinstance(toc, Path):
        toc = yaml.safe_load(toc.read_text(encoding="utf-8"))
    pages = [{"doc": toc["root"], "part": None}]

    def walk(entries, part):
        for entry in entries or []:
            if "file" in entry:
                pages.append({"doc": entry["file"], "part": part})
            walk(entry.get("sections"), part)

    for part in toc.get("parts", []):
        walk(part.get("chapters"), part.get("caption"))
    walk(toc.get("chapters"), None)
    for page in pages:
        folder = page["doc"].split("/")[0]
        page["kind"] = {"notebooks": "chapter", "exercises": "exercises",
                        "solutions": "solutions"}.get(folder, "page")
    return pages


def source_of(doc: str) -> Path | None:
    for suffix in (".ipynb", ".md"):
        path = ROOT / f"{doc}{suffix}"
        if path.exists():
            return path
    return None


# --- Serving the book and the CDN copies ---------------------------------------------------

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output clean
        pass


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on 127.0.0.1 from a thread; yield its base URL ("http://.../")."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# A CDN address's path -> (npm package, file inside it). Matched on the path only, so
# that the test names no host: ".../npm/mathjax@3/es5/tex-mml-chtml.js",
# ".../npm/@jupyter-widgets/html-manager@1.0.6/dist/embed-amd.js",
# ".../ajax/libs/require.js/2.3.4/require.min.js", ".../font-awesome/4.4.0/css/x.css".
_NPM_PATH = re.compile(r"/npm/(?P<package>(?:@[^/@]+/)?[^/@]+)@(?P<version>[^/]+)/(?P<file>.+)$")
_REQUIREJS_PATH = re.compile(r"/ajax/libs/require\.js/(?P<version>[^/]+)/require(?:\.min)?\.js$")
# ".../font-awesome/4.4.0/css/font-awesome.min.css": NAME/VERSION/FILE, as some CDNs write it.
_NAME_VERSION_PATH = re.compile(r"/(?P<package>[A-Za-z][\w.-]*)/(?P<version>\d+(?:\.\d+)+)/"
                                r"(?P<file>.+)$")
_CONTENT_TYPES = {".js": "application/javascript", ".css": "text/css", ".json": "application/json",
                  ".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf",
                  ".otf": "font/otf", ".eot": "application/vnd.ms-fontobject",
                  ".svg": "image/svg+xml"}


def asset_manifest(assets: Path = ASSETS) -> dict[str, str]:
    manifest = assets / "manifest.json"
    if not manifest.exists():
        raise FileNotFoundError(
            f"{manifest} is missing: run `make web-assets` (tools/web_assets.py) first")
    return json.loads(manifest.read_text())


def local_copy(url: str, manifest: dict[str, str], assets: Path = ASSETS) -> Path | None:
    """The local file that stands for a CDN ``url``, or None."""
    path = unquote(urlsplit(url).path)
    if match := _REQUIREJS_PATH.search(path):
        package, version, file = "requirejs", match["version"], "require.js"
    elif match := _NPM_PATH.search(path):
        package, version, file = match["package"], match["version"], match["file"]
    elif (match := _NAME_VERSION_PATH.search(path)) and match["package"] in manifest:
        package, version, file = match["package"], match["version"], match["file"]
    else:
        return None
    local_version = manifest.get(package)
    # "mathjax@3" asks for any 3.x; an exact version must match exactly.
    if local_version is None or not (local_version == version
                                     or local_version.startswith(f"{version}.")):
        return None
    candidate = (assets / package / file).resolve()
    if assets.resolve() not in candidate.parents or not candidate.is_file():
        return None
    return candidate


# --- Checking one page ----------------------------------------------------------------------

@dataclass
class PageCheck:
    """What :func:`check_page` found on one page; ``problems`` empty means it passed."""

    url: str
    problems: list[str] = field(default_factory=list)
    math_elements: int = 0
    images: int = 0
    internal_links: int = 0
    axe_runs: int = 0


_ids_cache: dict[Path, set[str]] = {}
_ID = re.compile(r"""\b(?:id|name)\s*=\s*["']([^"']+)["']""")


def ids_in(path: Path) -> set[str]:
    if path not in _ids_cache:
        _ids_cache[path] = set(_ID.findall(path.read_text(encoding="utf-8", errors="replace")))
    return _ids_cache[path]


def resolve_internal(href: str, base_url: str, root: Path) -> str | None:
    """None when the link ``href`` (absolute, same origin) resolves, else what is wrong."""
    address, fragment = urldefrag(href)
    path = unquote(urlsplit(address).path)
    relative = path[len(urlsplit(base_url).path):] if path.startswith(urlsplit(base_url).path) \
        else path.lstrip("/")
    target = (root / relative)
    if relative == "" or relative.endswith("/"):
        target = target / "index.html"
    if not target.is_file():
        return f"broken link: {href} (no file {target.relative_to(root)})"
    if fragment and target.suffix == ".html" and unquote(fragment) not in ids_in(target):
        return f"broken anchor: {href} (no id {fragment!r} in {target.relative_to(root)})"
    return None


_PAGE_FACTS = """() => {
  const main = document.querySelector('main') || document.body;
  const headings = [...main.querySelectorAll("h1, h2, h3, h4, h5, h6")]
      .filter(h => h.getClientRects().length > 0)
      .filter(h => !h.closest('.cell_output, .output, nav, header'))
      .map(h => [Number(h.tagName[1]), h.textContent.replace('#', '').trim().slice(0, 60)]);
  const images = [...document.querySelectorAll('img')].map(img => ({
      src: img.getAttribute('src') || '', alt: img.getAttribute('alt'),
      hidden: img.getAttribute('aria-hidden') === 'true' ||
              img.getAttribute('role') === 'presentation',
      loaded: img.complete && img.naturalWidth > 0}));
  const links = [...document.querySelectorAll('a[href]')].map(a => a.href);
  const code = [...document.querySelectorAll('div[class*="highlight-"]')].map(d =>
      [...d.classList].find(c => c.startsWith('highlight-')).slice('highlight-'.length) +
      '|' + (d.closest('.cell_output, .output') ? 'output' : 'input'));
  // A widget output: rendered by the widget manager, and a static figure in its cell.
  const widgets = [...document.querySelectorAll(
      'script[type="application/vnd.jupyter.widget-view+json"]')].map(w => {
      const view = w.parentElement.querySelector('.jupyter-widgets, .widget-subarea');
      const cell = w.closest('.cell') || w.parentElement;
      return {rendered: !!view && view.getBoundingClientRect().height > 0,
              figure: !!cell.querySelector('img')};
  });
  // Placeholders of the widget manager, in outputs only: the prose may name them.
  const text = [...document.querySelectorAll('.cell_output, .output, .jupyter-widgets')]
      .map(e => e.innerText).join(' ');
  return {
    headings, images, links, code, widgets,
    math: document.querySelectorAll('.math').length,
    mathRendered: document.querySelectorAll('.math mjx-container').length,
    mathErrors: document.querySelectorAll('mjx-merror').length,
    mathUnrendered: [...document.querySelectorAll('.math')]
        .filter(m => !m.querySelector('mjx-container')).slice(0, 3)
        .map(m => m.textContent.slice(0, 60)),
    widgetPlaceholder: /widget state not found|Error displaying widget|Loading widget/i.test(text),
    theme: document.documentElement.dataset.theme,
  };
}"""

_NO_ANIMATION = ("*, *::before, *::after { transition: none !important; "
                 "animation: none !important; }")
_WAIT_FOR_MATH = """async () => {
  if (!document.querySelector('.math')) return 'no math';
  if (!window.MathJax && !document.querySelector('script[src*="mathjax" i]')) {
    return 'the page does not load MathJax';
  }
  const t0 = Date.now();
  while (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) {
    if (Date.now() - t0 > 10000) return 'MathJax never started';
    await new Promise(r => setTimeout(r, 50));
  }
  await MathJax.startup.promise;
  return 'typeset';
}"""


_WAIT_FOR_WIDGETS = """async () => {
  const views = document.querySelectorAll(
      'script[type="application/vnd.jupyter.widget-view+json"]');
  const t0 = Date.now();
  while (views.length && Date.now() - t0 < 10000 &&
         [...views].some(w => !w.parentElement.querySelector('.jupyter-widgets'))) {
    await new Promise(r => setTimeout(r, 100));
  }
}"""


def _axe_context() -> dict | None:
    if not AXE_EXCLUDED_SELECTORS:
        return None
    return {"include": [["html"]], "exclude": [[s] for s in AXE_EXCLUDED_SELECTORS]}


def _axe_options(only: tuple[str, ...] | None = None) -> dict:
    options: dict = {"resultTypes": ["violations"], "preload": False}
    if only:
        options["runOnly"] = {"type": "rule",
                              "values": [r for r in only if r not in AXE_DISABLED_RULES]}
    elif AXE_DISABLED_RULES:
        options["rules"] = {rule: {"enabled": False} for rule in AXE_DISABLED_RULES}
    return options


def axe_problems(page, axe, theme: str, only: tuple[str, ...] | None = None) -> list[str]:
    """Serious and critical axe violations on ``page``, as problems; ``only``: these rules."""
    results = axe.run(page, context=_axe_context(), options=_axe_options(only))
    problems = []
    for violation in results.response["violations"]:
        if violation.get("impact") not in AXE_BLOCKING:
            continue
        where = "; ".join(" ".join(node["target"]) if isinstance(node["target"], list)
                          else str(node["target"]) for node in violation["nodes"][:3])
        problems.append(f"axe ({theme} theme) {violation['impact']}: {violation['id']}: "
                        f"{violation['help']} [{len(violation['nodes'])} element(s), e.g. {where}]")
    return problems


def set_theme(page, theme: str) -> None:
    page.evaluate("""theme => {
        localStorage.setItem('mode', theme); localStorage.setItem('theme', theme);
        document.documentElement.dataset.mode = theme;
        document.documentElement.dataset.theme = theme;
    }""", theme)


def check_page(context, url: str, *, root: Path, base_url: str, axe=None,
               themes=THEMES, has_math: bool | None = None,
               manifest: dict[str, str] | None = None, screenshot: Path | None = None,
               inspect: Callable[[object], list[str]] | None = None) -> PageCheck:
    """Open ``url`` in a new tab of the browser ``context`` and list its problems.

    - JavaScript console errors and uncaught exceptions;
    - failed same-origin requests (network errors and HTTP status >= 400);
    - outside requests with no local copy (refused, and reported);
    - math: when the page has math (or ``has_math``), every math element is typeset by
      MathJax, with no MathJax error;
    - images: each has alt text that says something (not empty, not "png", not its file name);
    - every same-origin link resolves to a built file, and its #anchor to an id in it;
    - headings never skip a level going down, and there is exactly one h1;
    - code blocks in the page (not outputs) name their language;
    - no widget area is empty and no "widget state not found" placeholder shows;
    - axe-core: no serious or critical violation: every rule in the first of ``themes``,
      the rules that depend on colour in the others;
    - whatever ``inspect(page)`` returns as problems (it runs after axe, back in the
      first theme, on the same load, so that a caller's own checks cost no second load;
      after axe, because its clicks leave links hovered, which axe would judge).
    """
    check = PageCheck(url)
    problems = check.problems
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(base_url))
    manifest = manifest if manifest is not None else asset_manifest()
    page = context.new_page()

    failed: set[str] = set()  # each failed same-origin address is reported once

    def on_console(message):
        if message.type != "error":
            return
        location = message.location or {}
        if message.text.startswith("Failed to load resource") and location.get("url") in failed:
            return  # already reported as a failed request
        problems.append(f"console error: {message.text} "
                        f"({location.get('url', '?')}:{location.get('lineNumber', '?')})")

    def on_response(response):
        if response.url.startswith(origin) and response.status >= 400:
            failed.add(response.url)
            problems.append(f"failed request: {response.url} (HTTP {response.status})")

    def on_request_failed(request):
        if request.url.startswith(origin) and request.url not in failed:
            failed.add(request.url)
            problems.append(f"failed request: {request.url} ({request.failure})")

    def outside(route):
        request_url = route.request.url
        if request_url.startswith("data:"):
            return route.continue_()
        local = local_copy(request_url, manifest)
        if local is None:
            problems.append(f"outside request with no local copy, refused: {request_url}")
            return route.abort("blockedbyclient")
        return route.fulfill(path=str(local), status=200,
                             headers={"Content-Type": _CONTENT_TYPES.get(
                                 local.suffix, "application/octet-stream"),
                                 "Access-Control-Allow-Origin": "*"})

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"uncaught JavaScript error: {error}"))
    page.on("response", on_response)
    page.on("requestfailed", on_request_failed)
    page.route(lambda u: not u.startswith(origin), outside)
    try:
        page.goto(url, wait_until="load")
        page.add_style_tag(content=_NO_ANIMATION)
        math_state = page.evaluate(_WAIT_FOR_MATH)
        page.evaluate(_WAIT_FOR_WIDGETS)
        facts = page.evaluate(_PAGE_FACTS)
        _check_facts(check, facts, math_state, has_math, base_url, root, origin)
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=False)
        if axe is not None:
            for k, theme in enumerate(themes):
                set_theme(page, theme)
                page.wait_for_function("t => document.documentElement.dataset.theme === t",
                                       arg=theme)
                only = None if k == 0 else AXE_COLOUR_RULES
                problems.extend(axe_problems(page, axe, theme, only))
                check.axe_runs += 1
            set_theme(page, themes[0])
        if inspect is not None:
            problems.extend(inspect(page))
    finally:
        page.close()
    return check


def _check_facts(check: PageCheck, facts: dict, math_state: str, has_math, base_url, root,
                 origin) -> None:
    problems = check.problems
    # Math
    check.math_elements = facts["math"]
    if has_math and facts["math"] == 0:
        problems.append("the source has math but the page has no math element")
    if facts["math"]:
        if math_state != "typeset":
            problems.append(f"math not typeset: {math_state}")
        if facts["mathRendered"] < facts["math"]:
            problems.append(f"{facts['math'] - facts['mathRendered']} of {facts['math']} math "
                            f"elements have no MathJax output, e.g. {facts['mathUnrendered']}")
        if facts["mathErrors"]:
            problems.append(f"{facts['mathErrors']} MathJax error(s) (mjx-merror)")
    # Images
    check.images = len(facts["images"])
    for image in facts["images"]:
        if image["src"].startswith("data:"):
            image["src"] = image["src"][:40] + "..."
        alt = (image["alt"] or "").strip()
        name = Path(urlsplit(image["src"]).path).name
        if image["hidden"]:
            continue
        if not alt:
            problems.append(f"image without alt text: {image['src']}")
        elif GENERIC_ALT.match(alt) or alt == name or len(alt) < MIN_ALT_CHARS:
            problems.append(f"image with generic alt text {alt!r}: {image['src']}")
        if not image["loaded"]:
            problems.append(f"image did not load: {image['src']}")
    # Links and anchors
    internal = [href for href in facts["links"] if href.startswith(origin)]
    check.internal_links = len(internal)
    for href in sorted(set(internal)):
        if (error := resolve_internal(href, base_url, root)) is not None:
            problems.append(error)
    # Headings
    levels = [level for level, _ in facts["headings"]]
    if levels.count(1) != 1:
        problems.append(f"expected exactly one h1, found {levels.count(1)}")
    for (before, _), (after, text) in zip(facts["headings"], facts["headings"][1:]):
        if after > before + 1:
            problems.append(f"heading level skips from h{before} to h{after} at {text!r}")
    # Code blocks name their language (outputs are plain text by nature).
    for entry in facts["code"]:
        language, where = entry.split("|")
        if where == "input" and language in {"none", "default", ""}:
            problems.append(f"a code block has no language label (highlight-{language})")
    # Widgets
    if facts["widgetPlaceholder"]:
        problems.append("a widget placeholder (widget state not found) shows on the page")
    for k, widget in enumerate(facts["widgets"], start=1):
        if not widget["rendered"]:
            problems.append(f"widget output {k} renders empty")
        if not widget["figure"]:
            problems.append(f"widget output {k} has no static figure in its cell: run the "
                            "notebook with MLPBOOK_STATIC=1 so that the book shows the default")


# --- Reading on a desktop and on a phone ------------------------------------------------------

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
# Text that only maintainers should see: solution markers, the Colab install cell, the
# smoke-test notes of parameter cells, and glue calls.
MACHINERY = ("BEGIN SOLUTION", "END SOLUTION", "google.colab", "smoke:", "glue(")
MIN_PIXEL_RATIO = 1.5  # a figure's image has at least 1.5 times its displayed width
MIN_ANIMATION_FRAME_PX = 600

_LAYOUT_FACTS = """() => {
  const article = document.querySelector('.bd-article') || document.body;
  const shown = el => el.getClientRects().length > 0;
  const sample = el => (el.textContent.split('\\n')
      .reduce((a, b) => (b.length > a.length ? b : a), '')).trim().slice(0, 70);
  const overflowing = [...article.querySelectorAll('pre')].filter(shown)
      .filter(pre => pre.scrollWidth > pre.clientWidth + 1)
      .map(pre => ({where: pre.closest('.cell_output, .output') ? 'output' : 'code',
                    width: pre.scrollWidth, box: pre.clientWidth, line: sample(pre)}));
  const wideBlocks = [...article.querySelectorAll(
      'div.math, mjx-container[display="true"], .pst-scrollable-table-container, table')]
      .filter(shown).filter(el => el.scrollWidth > el.clientWidth + 1)
      .map(el => ({tag: el.tagName.toLowerCase(), cls: el.className,
                   overflowX: getComputedStyle(el).overflowX,
                   marked: el.classList.contains('is-scrollable'),
                   text: el.textContent.trim().slice(0, 50)}));
  const figures = [...article.querySelectorAll('img')].filter(shown)
      .filter(img => img.closest('.cell_output, .output, figure, .animation'))
      .map(img => ({src: (img.getAttribute('src') || '').slice(0, 60),
                    natural: img.naturalWidth, shown: img.getBoundingClientRect().width,
                    animation: !!img.closest('.animation'),
                    linked: !!img.closest('a[href]') || !!img.closest('.animation')}));
  const h1 = [...article.querySelectorAll('h1')].filter(shown)[0];
  return {
    overflowing, wideBlocks, figures,
    title: h1 ? h1.textContent.replace(/#$/, '').trim() : null,
    titleFits: h1 ? h1.scrollWidth <= h1.clientWidth + 1 : true,
    pageWidth: document.documentElement.scrollWidth, viewport: window.innerWidth,
    visibleText: document.body.innerText,
    allCode: [...article.querySelectorAll('pre')].map(p => p.textContent).join('\\n'),
    sections: [...document.querySelectorAll('#pst-page-toc-nav a, .bd-toc-nav a')].length,
  };
}"""


def layout_facts(page) -> dict:
    """What test_book.py's reading tests need from a loaded page, in one round trip."""
    page.evaluate(_WAIT_FOR_MATH)
    return page.evaluate(_LAYOUT_FACTS)


def machinery_shown(facts: dict) -> list[str]:
    """The maintainer-only texts a reader can see (or, for markers, find in the code)."""
    found = [m for m in MACHINERY if m in facts["visibleText"]]
    found += [m for m in ("BEGIN SOLUTION", "END SOLUTION", "smoke:")
              if m in facts["allCode"] and m not in found]
    return found


def figure_problems(facts: dict) -> list[str]:
    """Soft figures (fewer than MIN_PIXEL_RATIO image pixels per displayed pixel), small
    animation frames, figures that do not open at full size.

    An animation (matplotlib's to_jshtml) shows its frames at their own size, so on a
    desktop they can only be as sharp as they are large: there its frames must be at least
    MIN_ANIMATION_FRAME_PX wide and never enlarged; on a phone, where they are shrunk,
    the 1.5x rule applies to them too.
    """
    problems = []
    for fig in facts["figures"]:
        if fig["shown"] < 1:
            continue
        ratio = fig["natural"] / fig["shown"]
        needed = MIN_PIXEL_RATIO
        if fig["animation"] and fig["shown"] >= MIN_ANIMATION_FRAME_PX:
            needed = 1.0
        if ratio < needed - 1e-6:
            problems.append(f"soft figure {fig['src']}: {fig['natural']} px drawn at "
                            f"{fig['shown']:.0f} px ({ratio:.2f}x, needs {needed}x)")
        if fig["animation"] and fig["natural"] < MIN_ANIMATION_FRAME_PX:
            problems.append(f"animation frames {fig['natural']} px wide (needs "
                            f"{MIN_ANIMATION_FRAME_PX})")
        if not fig["linked"]:
            problems.append(f"figure {fig['src']} does not open at full size")
    return problems


def open_dialog(page, toggle: str, dialog: str, *, touch: bool) -> dict:
    """Tap (or click) the visible ``toggle``; then whether ``dialog`` is open, its links."""
    buttons = page.locator(toggle)
    visible = [k for k in range(buttons.count()) if buttons.nth(k).is_visible()]
    if not visible:
        return {"button": False, "open": False, "links": []}
    if touch:
        buttons.nth(visible[0]).tap()
    else:
        buttons.nth(visible[0]).click()
    page.wait_for_timeout(100)
    return page.evaluate("""sel => {
      const d = document.querySelector(sel);
      const links = d ? [...d.querySelectorAll('a[href]')].filter(
          a => a.getClientRects().length > 0).map(a => a.href) : [];
      return {button: true, open: !!(d && d.open), links};
    }""", dialog)
