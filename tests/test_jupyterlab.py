"""The Jupyter edition in a real JupyterLab, driven in Debian's Chromium (marked browser).

A learner's session: JupyterLab starts on 127.0.0.1 (a free port, a random token, its
own configuration, runtime, data, settings and workspaces folders, no update checks and
no news) from the Jupyter edition of chapter 1 and of exercise notebook 1, with the
widgets live (``MLPBOOK_STATIC=0``, which ``CI`` does not override). Chromium opens each
notebook and runs all its cells; then:

- chapter: the explorer's sliders are live widgets and moving one redraws the figure;
  the explorer prints no ``Out[...]``; the answers are collapsed, and the maths inside
  one renders when it is opened; no raw MyST is visible; no cell fails;
- exercises: "Run All" stops at the first unfinished exercise, with its hint, and no
  line of a check's code or of a solution is visible;
- no error in the browser's console, and no request leaves 127.0.0.1.

The cells are found by their content (``plot.explorer(``, ``raise NotImplementedError(``),
not by position, so the chapters can change. Screenshots go to
_build/screenshots/jupyterlab/.
"""

from __future__ import annotations

import ast
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, SCREENSHOTS
from conftest import CHAPTERS, EXERCISES, ROOT, SOLUTIONS, check_code_lines, read

from tools import jupyter_edition
from tools.nbtools import BEGIN, END

pytestmark = pytest.mark.browser

SHOTS = SCREENSHOTS / "jupyterlab"
CHAPTER = CHAPTERS[0]
EXERCISE = next(p for p in EXERCISES if p.name == CHAPTER.name)
SOLUTION = next(p for p in SOLUTIONS if p.name == CHAPTER.name)
# Generous waits: the test machine is shared and slow; a wait that runs out still fails.
START_S, RUN_S, STEP_S = 240, 600, 90


# --- JupyterLab on the edition ---------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def edition(tmp_path_factory) -> Path:
    """The Jupyter edition of the chapter and its exercise notebook, at their paths."""
    out = tmp_path_factory.mktemp("edition")
    config = jupyter_edition.load_config()
    args = (jupyter_edition.online_base(config),
            jupyter_edition.citations(ROOT / "book" / "references.bib"),
            jupyter_edition.chapter_stems())
    import nbformat

    for path in (CHAPTER, EXERCISE):
        (out / path.parent.name).mkdir(exist_ok=True)
        nbformat.write(jupyter_edition.convert(path, *args), out / path.parent.name / path.name)
    return out


def settings(folder: Path) -> None:
    """A learner's defaults, except that JupyterLab asks no question and fetches nothing."""
    files = {"@jupyterlab/apputils-extension/notification.jupyterlab-settings":
             {"fetchNews": "false", "checkForUpdates": False}}
    for name, value in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(json.dumps(value))


def live_environment() -> dict[str, str]:
    """This process's environment with the widgets switched on.

    ``MLPBOOK_STATIC=0``, not merely unset: CI services set ``CI``, which alone makes
    ``utils.is_static()`` true, and a static kernel shows the explorer as a PNG.
    """
    return os.environ | {"MLPBOOK_STATIC": "0"}


def kernel_is_static(env: dict[str, str]) -> bool:
    """``utils.is_static()`` as a kernel started with ``env`` sees it."""
    probe = "import sys; from mlpbook import utils; sys.exit(int(utils.is_static()))"
    return subprocess.run([sys.executable, "-c", probe], env=env).returncode == 1


@pytest.mark.parametrize("ci", ["", "true"])
def test_the_kernel_environment_has_live_widgets_even_on_a_ci_service(ci, monkeypatch):
    monkeypatch.setenv("CI", ci)
    monkeypatch.setenv("MLPBOOK_STATIC", "1")  # as the Makefile exports it
    assert not kernel_is_static(live_environment())
    assert kernel_is_static(os.environ | {"MLPBOOK_STATIC": ""}) == bool(ci)  # the old way


@pytest.fixture(scope="module")
def lab(edition, tmp_path_factory):
    """JupyterLab serving the edition; yields (base URL, token)."""
    home = tmp_path_factory.mktemp("lab")
    for name in ("config", "runtime", "data", "settings", "workspaces"):
        (home / name).mkdir()
    settings(home / "settings")
    port, token = free_port(), secrets.token_hex(24)
    env = live_environment()
    env.update(JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTER_DATA_DIR=str(home / "data"), OMP_NUM_THREADS="1")
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
               f"--port={port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={edition}",
               f"--LabApp.user_settings_dir={home / 'settings'}",
               f"--LabApp.workspaces_dir={home / 'workspaces'}",
               "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
               "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements."
               "NeverCheckForUpdate", "--ServerApp.terminals_enabled=False",
               "--LanguageServerManager.autodetect=False", "--allow-root"]
    log = (home / "server.log").open("w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                              cwd=edition)
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + START_S
        while True:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited: {(home / 'server.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{base}api/status?token={token}", timeout=10):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer in {START_S} s")
                time.sleep(1)
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Session:
    """One notebook opened in JupyterLab, with what the browser reported meanwhile."""

    def __init__(self, page, path: Path):
        self.page, self.path = page, path
        self.console: list[str] = []
        self.outside: list[str] = []

    def cells(self) -> list[dict]:
        return self.page.evaluate("""() => {
          const panel = window.jupyterapp.shell.currentWidget;
          return panel.content.widgets.map(cell => {
            const model = cell.model;
            const outputs = model.type === 'code' ? model.outputs.toJSON() : [];
            return {type: model.type, source: model.sharedModel.getSource(),
                    count: model.type === 'code' ? model.executionCount : null, outputs};
          });
        }""")

    def cell(self, k: int):
        """The DOM node of the k-th cell of the notebook's model."""
        self.page.evaluate("""k => window.jupyterapp.shell.currentWidget.content.widgets[k]
            .node.setAttribute('data-test-cell', String(k))""", k)
        return self.page.locator(f'[data-test-cell="{k}"]')


def open_and_run(context, base: str, token: str, path: Path) -> Session:
    """Open ``path`` of the edition in JupyterLab, run all its cells, wait for the end."""
    page = context.new_page()
    session = Session(page, path)
    origin = base.rstrip("/")

    def on_console(message):
        if message.type == "error":
            session.console.append(f"{message.text} ({(message.location or {}).get('url')})")

    def outside(route):
        session.outside.append(route.request.url)
        route.abort("blockedbyclient")

    page.on("console", on_console)
    page.on("pageerror", lambda error: session.console.append(f"uncaught: {error}"))
    page.route(lambda url: not url.startswith(origin) and not url.startswith(
        ("data:", "blob:", "ws://127.0.0.1")), outside)
    relative = f"{path.parent.name}/{path.name}"
    page.goto(f"{base}lab/tree/{relative}?token={token}", wait_until="domcontentloaded",
              timeout=START_S * 1000)
    page.wait_for_function(
        """path => {
          const app = window.jupyterapp;
          const panel = app && app.shell.currentWidget;
          const kernel = panel && panel.sessionContext && panel.sessionContext.session &&
                         panel.sessionContext.session.kernel;
          return panel && panel.context && panel.context.path === path && kernel &&
                 kernel.status === 'idle';
        }""", arg=relative, timeout=START_S * 1000, polling=500)
    page.evaluate("""() => {
      window.__ran = null;
      window.jupyterapp.commands.execute('notebook:run-all-cells').then(
        ok => { window.__ran = ok === false ? 'stopped' : 'done'; },
        error => { window.__ran = 'failed: ' + error; });
    }""")
    page.wait_for_function("() => window.__ran !== null", timeout=RUN_S * 1000, polling=1000)
    page.wait_for_function("""() => {
      const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
      return kernel.status === 'idle';
    }""", timeout=STEP_S * 1000, polling=500)
    session.ran = page.evaluate("window.__ran")
    return session


@pytest.fixture(scope="module")
def context(chromium):
    context = chromium.new_context(viewport=DESKTOP)
    yield context
    context.close()


@pytest.fixture(scope="module")
def chapter(lab, context) -> Session:
    return open_and_run(context, *lab, CHAPTER)


@pytest.fixture(scope="module")
def exercises(lab, context) -> Session:
    return open_and_run(context, *lab, EXERCISE)


def shoot(locator_or_page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    locator_or_page.screenshot(path=str(SHOTS / name))


def errors_of(cells: list[dict]) -> list[tuple[int, dict]]:
    return [(k, o) for k, c in enumerate(cells) for o in c["outputs"]
            if o.get("output_type") == "error"]


# --- the chapter ----------------------------------------------------------------------------

def test_the_chapter_runs_to_the_end_without_a_failing_cell(chapter):
    cells = chapter.cells()
    assert chapter.ran == "done", chapter.ran
    assert not errors_of(cells), errors_of(cells)[:1]
    unrun = [k for k, c in enumerate(cells) if c["type"] == "code" and c["count"] is None]
    assert not unrun, f"cells {unrun} did not run"
    shoot(chapter.page, "chapter-after-run-all.png")


def explorer_cell(session: Session) -> int:
    found = [k for k, c in enumerate(session.cells())
             if c["type"] == "code" and "plot.explorer(" in c["source"]]
    assert found, f"{session.path.name}: no cell calls plot.explorer"
    return found[0]


def test_the_explorer_prints_no_out_prompt(chapter):
    k = explorer_cell(chapter)
    outputs = chapter.cells()[k]["outputs"]
    assert not [o for o in outputs if o.get("output_type") == "execute_result"], outputs
    text = chapter.cell(k).text_content()  # off-screen cells have no innerText
    assert "Out[" not in text and "<function" not in text, text[:300]


FIGURE = ".widget-output img, .jupyter-widgets-output-area img"


def reveal(session: Session, k: int, selector: str):
    """The first ``selector`` inside cell ``k``, scrolled into view and visible; None
    if it is not there within ``STEP_S`` seconds.

    JupyterLab lays out off-screen cells lazily (``content-visibility``), so the heights
    of the cells above change as they are drawn and a cell scrolled to once can slide
    out of view again; this scrolls until the element stays visible.
    """
    cell = session.cell(k)
    target = cell.locator(selector).first
    deadline = time.monotonic() + STEP_S
    while time.monotonic() < deadline:
        if target.count():
            target.scroll_into_view_if_needed(timeout=STEP_S * 1000)
            if target.is_visible():
                return target
        else:
            cell.scroll_into_view_if_needed(timeout=STEP_S * 1000)
        session.page.wait_for_timeout(500)
    return None


def describe(session: Session, k: int) -> str:
    """What cell ``k`` holds and shows, for a failure message."""
    kinds = [sorted(o.get("data", {})) or o["output_type"] for o in session.cells()[k]["outputs"]]
    shown = " ".join((session.cell(k).text_content() or "").split())
    static = any("image/png" in kind for kind in kinds) and not any(
        "application/vnd.jupyter.widget-view+json" in kind for kind in kinds)
    hint = " (a PNG and no widget: the kernel ran static)" if static else ""
    return f"outputs {kinds}{hint}, text {shown[-400:]!r}"


def explorer_widget(session: Session, k: int):
    """The explorer's figure in cell ``k``, rendered as a live widget."""
    figure = reveal(session, k, FIGURE)
    if figure is None:
        shoot(session.page, f"cell-{k}-widget-missing.png")
    assert figure is not None, f"cell {k}: no live figure; {describe(session, k)}"
    return figure


def test_the_explorer_sliders_are_live_and_moving_one_redraws_the_figure(chapter):
    k = explorer_cell(chapter)
    cell = chapter.cell(k)
    before = explorer_widget(chapter, k).get_attribute("src")
    slider = reveal(chapter, k, ".widget-slider")
    assert slider is not None, f"cell {k}: no slider; {describe(chapter, k)}"
    readout = slider.locator(".widget-readout")
    value = readout.text_content()
    shoot(cell, "explorer-before.png")
    handle = slider.locator(".noUi-handle").first
    handle.focus()
    for _ in range(5):  # the arrow keys step the slider, as a learner's keyboard does
        handle.press("ArrowRight")
    chapter.page.wait_for_function(
        """([cell, before]) => {
          const img = document.querySelector(`[data-test-cell="${cell}"]`)
              .querySelector('.widget-output img, .jupyter-widgets-output-area img');
          return img && img.getAttribute('src') !== before;
        }""", arg=[k, before], timeout=STEP_S * 1000, polling=500)
    assert readout.text_content() != value, "the slider did not move"
    chapter.page.wait_for_function("""() => window.jupyterapp.shell.currentWidget
        .sessionContext.session.kernel.status === 'idle'""", timeout=STEP_S * 1000)
    chapter.page.wait_for_timeout(500)  # the last redraw reaches the page
    after = cell.locator(FIGURE).first
    assert after.get_attribute("src") != before
    shoot(cell, "explorer-after.png")


def test_answers_are_collapsed_and_the_maths_inside_renders_when_opened(chapter):
    page = chapter.page
    answers = page.locator(".jp-RenderedMarkdown details")
    expected = sum(c["source"].count("<details>") for c in chapter.cells()
                   if c["type"] == "markdown")
    assert expected >= 1, "the chapter has no collapsed answer"
    assert answers.count() == expected, "an answer is not rendered as <details>"
    assert page.evaluate("""() => [...document.querySelectorAll(
        '.jp-RenderedMarkdown details')].filter(d => d.open).length""") == 0
    with_maths = page.locator(".jp-RenderedMarkdown details:has(mjx-container)")
    assert with_maths.count() >= 1, "no answer has maths rendered by MathJax"
    answer = with_maths.first
    answer.locator("summary").first.scroll_into_view_if_needed()
    answer.locator("summary").first.click()
    page.wait_for_function("""() => [...document.querySelectorAll(
        '.jp-RenderedMarkdown details')].some(d => d.open)""", timeout=STEP_S * 1000)
    maths = answer.locator("mjx-container")
    assert maths.first.is_visible() and maths.first.bounding_box()["width"] > 0
    assert answer.locator("mjx-merror").count() == 0
    text = answer.inner_text()
    assert "$" not in text and "\\frac" not in text, text[:200]
    shoot(answer, "answer-opened.png")


def raw_myst(session: Session) -> list[str]:
    # textContent, not innerText: JupyterLab skips rendering cells outside the window
    # (content-visibility), and folded answers count too.
    texts = session.page.locator(".jp-MarkdownCell .jp-RenderedMarkdown").all_text_contents()
    return [jupyter_edition.MYST_ONLY.search(t)[0] for t in texts
            if jupyter_edition.MYST_ONLY.search(t)]


def test_no_raw_myst_is_visible_in_the_chapter(chapter):
    rendered = chapter.page.locator(".jp-MarkdownCell .jp-RenderedMarkdown")
    markdown = [c for c in chapter.cells() if c["type"] == "markdown"]
    assert rendered.count() == len(markdown), "a Markdown cell is not rendered"
    assert not raw_myst(chapter), raw_myst(chapter)[:3]
    for mark in ("{term}", "{glue", "{cite", "{dropdown}", ":::", "{chapter}"):
        assert not [t for t in rendered.all_text_contents() if mark in t], mark


# --- the exercises ------------------------------------------------------------------------------

def stub_hint(source: str) -> str | None:
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
                and getattr(node.exc.func, "id", "") == "NotImplementedError"):
            return node.exc.args[0].value
    return None


def test_run_all_stops_at_the_first_unfinished_exercise_with_its_hint(exercises):
    cells = exercises.cells()
    stubs = [k for k, c in enumerate(cells) if c["type"] == "code"
             and "raise NotImplementedError(" in c["source"]]
    assert stubs, "the exercise notebook has no stub"
    assert exercises.ran == "stopped", exercises.ran
    errors = errors_of(cells)
    assert len(errors) == 1, [(k, o["ename"]) for k, o in errors]
    k, error = errors[0]
    next_stub = stubs[1] if len(stubs) > 1 else len(cells)
    assert stubs[0] <= k < next_stub, f"the run stopped at cell {k}, not at the first exercise"
    assert error["ename"] in ("NotImplementedError", "ExerciseNotDone"), error["ename"]
    hint = stub_hint(cells[stubs[0]]["source"])
    exercises.cell(k).scroll_into_view_if_needed()
    shown = exercises.cell(k).locator(".jp-OutputArea").text_content()
    assert "NotImplementedError" in shown or "ExerciseNotDone" in shown
    assert " ".join(hint.split()) in " ".join(shown.split()), f"the hint is not shown: {hint}"
    ran = [j for j, c in enumerate(cells) if c["type"] == "code" and c["count"] is not None]
    assert max(ran) == k, "cells after the failing one ran"
    shoot(exercises.page, "exercises-stopped-at-the-first-stub.png")


def solution_lines() -> set[str]:
    """The lines of the answers (between the solution markers), at least 12 characters."""
    lines, inside = set(), False
    for cell in read(SOLUTION).cells:
        if cell.cell_type != "code":
            continue
        for line in cell.source.splitlines():
            if BEGIN.match(line):
                inside = True
            elif END.match(line):
                inside = False
            elif inside and len(line.strip()) >= 12 and not line.strip().startswith("#"):
                lines.add(line.strip())
    return lines


def test_no_line_of_a_check_or_of_a_solution_is_visible(exercises):
    shown = exercises.page.locator(".jp-Notebook").text_content()  # hidden parts too
    own = {line.strip() for c in read(EXERCISE).cells for line in c.source.splitlines()}
    leaks = [line for line in sorted(solution_lines() | set(check_code_lines()))
             if line in shown and line not in own]
    assert not leaks, f"visible in JupyterLab: {leaks[:3]}"


def test_no_raw_myst_is_visible_in_the_exercises(exercises):
    assert not raw_myst(exercises), raw_myst(exercises)[:3]


# --- the browser -----------------------------------------------------------------------------

def test_no_error_in_the_console_and_no_request_leaves_the_machine(chapter, exercises):
    for session in (chapter, exercises):
        assert not session.console, f"{session.path.name}: {session.console[:5]}"
        assert not session.outside, f"{session.path.name}: {session.outside[:5]}"
