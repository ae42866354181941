"""The whole book as one PDF: Chromium prints the single-page build (`make pdf`).

    jupyter-book build . --builder singlehtml     # _build/singlehtml (make pdf runs it)
    python tools/book_pdf.py                      # _build/pdf/book.pdf

The single page holds every page of the table of contents in reading order. Before
printing, this script waits until MathJax has typeset every formula and every figure has
loaded, adds a cover, a linked table of contents and the parts of the book as top-level
headings, and hides what only makes sense on screen (buttons, sidebars, "show code"
toggles; folded code stays folded). Chromium writes the PDF with its outline (bookmarks)
from the headings, tagged for screen readers, with page numbers in the footer. A copy
goes to _build/html/ (tools/bookext.BOOK_PDF), where the landing page links it.

Debian's Chromium (/usr/bin/chromium) is driven through Playwright; nothing is
downloaded. The scripts that the page loads from CDNs are served from the npm copies of
`make web-assets`, as in the browser tests.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]

from browser import (  # noqa: E402  (tests/browser.py: serving and the CDN copies)
    _CONTENT_TYPES,
    CHROMIUM,
    CHROMIUM_ARGS,
    asset_manifest,
    local_copy,
    serve,
    toc_pages,
)

from tools.bookext import BOOK_PDF  # noqa: E402

SINGLE = ROOT / "_build" / "singlehtml"
OUT = ROOT / "_build" / "pdf" / "book.pdf"
HTML = ROOT / "_build" / "html"

PRINT_CSS = """
@page { size: A4; margin: 16mm 15mm 18mm 15mm; }
html { font-size: 10.5pt; }
.bd-header, .bd-header-article, .bd-sidebar-primary, .bd-sidebar-secondary, .bd-footer,
.bd-footer-article, .bd-footer-content, .prev-next-area, .headerlink, .copybtn,
#pst-back-to-top, #pst-skip-link, .sidebar-toggle, .search-button, .theme-switch-button,
.article-header-buttons, .toggle-details, details.hide > summary, button,
#pst-primary-sidebar-modal, #pst-secondary-sidebar-modal, .d-print-none
  { display: none !important; }
.bd-page-width, .bd-main, .bd-content, .bd-article-container, .bd-article
  { max-width: none !important; width: auto !important; margin: 0 !important;
    padding: 0 !important; }
.bd-container, .bd-container__inner { display: block !important; }
.pdf-page, .pdf-part { break-before: page; }
h1, h2, h3, h4 { break-after: avoid; }
.bd-article h1, .bd-article h1:first-of-type { display: block !important; }
img, figure, .cell_output, div.math { break-inside: avoid; }
.cell_output img { max-height: 210mm; width: auto; }
pre { white-space: pre-wrap !important; overflow-wrap: anywhere; font-size: 8.5pt; }
#pdf-cover { text-align: center; padding-top: 60mm; break-after: page; }
#pdf-cover h1 { font-size: 28pt; margin-bottom: 8mm; }
#pdf-cover p { font-size: 12pt; margin: 2mm 0; }
#pdf-contents { break-after: page; }
#pdf-contents ul { list-style: none; padding-left: 0; }
#pdf-contents li.pdf-toc-part { font-weight: 700; margin-top: 4mm; }
#pdf-contents li.pdf-toc-section { padding-left: 8mm; }
.pdf-part { font-size: 24pt; padding-top: 80mm; text-align: center; }
"""

FOOTER = ('<div style="font-size:8pt;width:100%;text-align:center;color:#555;">'
          '<span class="pageNumber"></span> / <span class="totalPages"></span></div>')

# Cover, contents and parts, from the TOC; the headings of the pages stay as written.
PREPARE = """([pages, cover, css]) => {
  const style = document.createElement('style');
  style.textContent = css;
  document.head.appendChild(style);
  for (const d of document.querySelectorAll('details:not(.hide)')) d.open = true;
  // What only makes sense on screen goes (the theme prints its page contents otherwise).
  for (const el of document.querySelectorAll(
      '#pst-primary-sidebar, #pst-secondary-sidebar, .bd-header, .bd-header-article, ' +
      '.bd-footer, .bd-footer-article, .prev-next-footer, dialog, #pst-back-to-top, ' +
      '#pst-skip-link, #jb-print-docs-body, script[type="text/x-thebe-config"]')) el.remove();
  // Every page of the TOC starts on a new sheet.
  for (const page of pages) {
    const anchor = document.getElementById('document-' + page.doc);
    const next = anchor && anchor.nextElementSibling;
    if (next) next.classList.add('pdf-page');
  }
  const article = document.querySelector('.bd-article') || document.body;
  const titleOf = doc => {
    const anchor = document.getElementById('document-' + doc);
    const heading = anchor && (anchor.nextElementSibling || anchor.parentElement)
        .querySelector('h1, h2, h3');
    return heading ? heading.textContent.replace(/#$/, '').trim() : null;
  };
  const toc = document.createElement('nav');
  toc.id = 'pdf-contents';
  toc.setAttribute('aria-label', 'Contents');
  toc.innerHTML = '<h1>Contents</h1>';
  const list = document.createElement('ul');
  let part = undefined;
  for (const page of pages) {
    if (page.part !== part && page.part) {
      const item = document.createElement('li');
      item.className = 'pdf-toc-part';
      item.textContent = page.part;
      list.appendChild(item);
      // The part as a top-level heading before its first page.
      const anchor = document.getElementById('document-' + page.doc);
      if (anchor) {
        const heading = document.createElement('h1');
        heading.className = 'pdf-part';
        heading.textContent = page.part;
        anchor.before(heading);
      }
    }
    part = page.part;
    const title = page.doc === pages[0].doc ? 'Introduction' : titleOf(page.doc);
    if (!title) continue;
    const item = document.createElement('li');
    if (page.kind === 'exercises' || page.kind === 'solutions') {
      item.className = 'pdf-toc-section';
    }
    const link = document.createElement('a');
    link.href = '#document-' + page.doc;
    if (page.doc === pages[0].doc) link.href = '#';
    link.textContent = title;
    item.appendChild(link);
    list.appendChild(item);
  }
  toc.appendChild(list);
  const front = document.createElement('section');
  front.id = 'pdf-cover';
  front.innerHTML = cover;
  article.prepend(toc);
  article.prepend(front);
  return list.children.length;
}"""

WAIT = """async () => {
  const t0 = Date.now();
  while (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) {
    if (Date.now() - t0 > 30000) throw new Error('MathJax never started');
    await new Promise(r => setTimeout(r, 100));
  }
  await MathJax.startup.promise;
  const images = [...document.images];
  await Promise.all(images.map(img => img.complete ? null :
      new Promise(r => { img.onload = img.onerror = r; })));
  const broken = images.filter(img => !img.naturalWidth).map(img => img.src);
  const math = document.querySelectorAll('.math').length;
  const typeset = document.querySelectorAll('.math mjx-container').length;
  return {images: images.length, broken, math, typeset,
          errors: document.querySelectorAll('mjx-merror').length};
}"""


def print_book(single: Path = SINGLE, out: Path = OUT, copy_to: Path | None = HTML) -> dict:
    from playwright.sync_api import sync_playwright

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    pages = toc_pages()
    start = single / f"{pages[0]['doc']}.html"
    if not start.exists():
        raise SystemExit(f"{start.relative_to(ROOT)} is missing: run "
                         "`jupyter-book build . --builder singlehtml` first (make pdf does)")
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install -y chromium")
    # Sphinx's single-page builder writes image paths relative to the site's root, not
    # to the root page's folder (book/): let that folder see the images and styles.
    for folder in ("_images", "_downloads", "_static"):
        link = start.parent / folder
        if start.parent != single and (single / folder).is_dir() and not link.exists():
            link.symlink_to(Path("../" * (len(start.relative_to(single).parts) - 1)) / folder)
    manifest = asset_manifest()
    title = config["title"]
    cover = (f"<h1>{title}</h1><p>{config.get('author', '')}</p>"
             f"<p>{config['repository']['url']}</p>"
             f"<p>Printed on {time.strftime('%d %B %Y')}</p>"
             "<p>Code: MIT licence. Text and figures: CC BY 4.0.</p>")
    out.parent.mkdir(parents=True, exist_ok=True)

    def outside(route):
        local = local_copy(route.request.url, manifest)
        if local is None:
            return route.abort("blockedbyclient")
        return route.fulfill(path=str(local), status=200, headers={
            "Content-Type": _CONTENT_TYPES.get(local.suffix, "application/octet-stream"),
            "Access-Control-Allow-Origin": "*"})

    with serve(single) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 1400})
            page.route(lambda url: not url.startswith(base) and not url.startswith("data:"),
                       outside)
            page.goto(f"{base}{pages[0]['doc']}.html", wait_until="load", timeout=120_000)
            facts = page.evaluate(WAIT)
            if facts["broken"] or facts["errors"] or facts["typeset"] < facts["math"]:
                raise SystemExit(f"the single page did not render completely: {facts}")
            entries = page.evaluate(PREPARE, [
                [{"doc": p["doc"], "part": p["part"], "kind": p["kind"]} for p in pages],
                cover, PRINT_CSS])
            page.evaluate("t => { document.title = t; }", title)
            page.emulate_media(media="print")
            page.pdf(path=str(out), format="A4", print_background=True, outline=True,
                     tagged=True, display_header_footer=True,
                     header_template="<span></span>", footer_template=FOOTER,
                     margin={"top": "16mm", "bottom": "18mm", "left": "15mm",
                             "right": "15mm"})
        finally:
            browser.close()
    if copy_to is not None and copy_to.is_dir():
        shutil.copyfile(out, copy_to / BOOK_PDF)
    return facts | {"contents": entries, "bytes": out.stat().st_size}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--single", type=Path, default=SINGLE)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    t0 = time.time()
    facts = print_book(args.single, args.out)
    print(f"{args.out}: {facts['bytes'] / 2**20:.1f} MiB, {facts['contents']} entries in its "
          f"contents, {facts['typeset']} formulas, {facts['images']} images, "
          f"{time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
