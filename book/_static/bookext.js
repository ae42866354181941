// The book's own script (loaded, deferred, by tools/bookext.py on every page).
"use strict";

(() => {
  // Output figures open at full size on a tap or a click. Sphinx already links the
  // figures it scales; the others get the same link here.
  function linkFigures() {
    const figures = document.querySelectorAll(
      ".bd-article .cell_output img, .bd-article .output img");
    for (const img of figures) {
      const src = img.getAttribute("src") || "";
      if (img.closest("a") || img.closest(".animation") || src.startsWith("data:")) {
        continue;
      }
      const link = document.createElement("a");
      link.href = src;
      link.className = "figure-full-size";
      link.title = "Open the figure at full size";
      img.before(link);
      link.appendChild(img);
    }
  }

  // Code, outputs, display maths and tables that are wider than their box get the
  // class is-scrollable (an edge shadow, bookext.css) and can be scrolled with the
  // keyboard (tabindex), as a scrollable region should.
  const SCROLLERS = [
    ".bd-article pre", ".bd-article div.math",
    ".bd-article mjx-container[display='true']",
    ".bd-article .pst-scrollable-table-container",
  ].join(", ");

  function markScrollable() {
    for (const box of document.querySelectorAll(SCROLLERS)) {
      const scrolls = box.scrollWidth > box.clientWidth + 1;
      box.classList.toggle("is-scrollable", scrolls);
      if (scrolls && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
      }
    }
  }

  // Search snippets are cut from the pages' text, where inline maths is still TeX
  // source between \( and \): drop the delimiters, keep the formula.
  function cleanSearchSnippets() {
    if (typeof Search === "undefined" || !Search.htmlToText || Search.bookextClean) {
      return;
    }
    const original = Search.htmlToText;
    Search.htmlToText = (htmlString, anchor) =>
      original(htmlString, anchor).replace(/\\[()[\]]/g, "").replace(/\$\$/g, "");
    Search.bookextClean = true;
  }

  cleanSearchSnippets();
  const ready = () => {
    linkFigures();
    markScrollable();
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      MathJax.startup.promise.then(markScrollable);
    }
  };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
  window.addEventListener("load", () => {
    markScrollable();
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      MathJax.startup.promise.then(markScrollable);
    }
  });
  window.addEventListener("resize", markScrollable);
})();
