"""The shape every chapter shares, and papermill runs with another seed at the smallest settings."""

import json
import re
import struct
import subprocess
import sys

import papermill
import pytest
import yaml
from conftest import CHAPTERS, EXERCISES, ROOT, SOLUTIONS, parameters_cell, read, smoke_parameters

GENERIC_ALT = {"", "png", "image", "output", "figure", "plot", "graph"}


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_opens_with_title_objectives_prerequisites_and_time(path):
    intro = read(path).cells[0]
    assert intro.cell_type == "markdown" and intro.source.startswith("# ")
    for phrase in ("You will be able to", "Prerequisites", "Estimated time"):
        assert phrase in intro.source, f"the opening cell should state '{phrase}'"


@pytest.mark.parametrize("path", CHAPTERS + SOLUTIONS + EXERCISES, ids=str)
def test_first_code_cell_installs_the_helper_on_colab_only(path):
    first = code_cells(read(path))[0].source
    assert 'if "google.colab" in sys.modules' in first and "pip" in first


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_parameters_cell_sets_seed_and_smoke_settings(path):
    nb = read(path)
    source = parameters_cell(nb).source
    assert re.search(r"^SEED = \d+", source, re.M)
    assert smoke_parameters(nb), "mark the smallest setting of each cost knob: `# smoke: N`"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_ends_with_summary_questions_and_exercise_link(path):
    markdown = "\n".join(c.source for c in read(path).cells if c.cell_type == "markdown")
    assert "## Summary" in markdown and "## Check your understanding" in markdown
    assert f"../exercises/{path.name}" in markdown


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_headline_numbers_are_glued_and_compared_by_nbval(path):
    nb = read(path)
    glued = [c for c in code_cells(nb) if "glue(" in c.source]
    assert glued, "a chapter glues its headline numbers"
    for cell in glued:
        tags = set(cell.metadata.get("tags", []))
        assert not tags & {"nbval-ignore-output", "nbval-skip", "raises-exception"}, (
            "a cell that glues a headline number must have its output compared by nbval")
        records = [o for o in cell.outputs
                   if any(k.startswith("application/papermill.record") for k in o.get("data", {}))]
        assert records, "the committed outputs must hold the glued values"


@pytest.mark.parametrize("path", CHAPTERS + SOLUTIONS, ids=str)
def test_every_figure_has_meaningful_alt_text(path):
    for k, cell in enumerate(code_cells(read(path))):
        if any("image/png" in o.get("data", {}) for o in cell.outputs):
            alt = cell.metadata.get("mystnb", {}).get("image", {}).get("alt", "")
            assert alt.strip().lower() not in GENERIC_ALT and len(alt) >= 20, (
                f"code cell {k} draws a figure: give it alt text in mystnb.image.alt")


@pytest.mark.parametrize("path", CHAPTERS + SOLUTIONS, ids=str)
def test_committed_outputs_hold_no_errors_or_widget_placeholders(path):
    for cell in code_cells(read(path)):
        assert cell.execution_count is not None, "run `make execute` to commit outputs"
        for output in cell.outputs:
            assert output.output_type != "error"
            assert "application/vnd.jupyter.widget-view+json" not in output.get("data", {})


def test_toc_lists_every_chapter_exercise_and_solution():
    toc = json.dumps(yaml.safe_load((ROOT / "_toc.yml").read_text()))
    for folder, paths in (("notebooks", CHAPTERS), ("exercises", EXERCISES),
                          ("solutions", SOLUTIONS)):
        for path in paths:
            assert f'"{folder}/{path.stem}"' in toc, f"{folder}/{path.stem} is not in _toc.yml"


def test_nbval_compares_glued_values(tmp_path):
    """A notebook whose committed glue value is wrong must fail nbval."""
    import nbformat

    cell = nbformat.v4.new_code_cell(
        "from myst_nb import glue\nglue('answer', 6 * 7, display=False)", execution_count=1)
    cell.outputs = [nbformat.v4.new_output(
        "display_data", data={"application/papermill.record/text/plain": "41"},
        metadata={"scrapbook": {"mime_prefix": "application/papermill.record/", "name": "answer"}})]
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / "planted.ipynb"
    nbformat.write(nb, path)
    run = subprocess.run([sys.executable, "-m", "pytest", "--nbval", str(path), "-q",
                          "-p", "no:cacheprovider", "-p", "no:xdist", "--rootdir", str(tmp_path),
                          "-c", "/dev/null"], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 1 and "41" in run.stdout and "42" in run.stdout


@pytest.mark.slow
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_runs_with_another_seed_at_its_smallest_settings(path, tmp_path):
    nb = read(path)
    parameters = smoke_parameters(nb) | {"SEED": 1}
    out = tmp_path / path.name
    papermill.execute_notebook(str(path), str(out), parameters=parameters, kernel_name="python3",
                               cwd=str(path.parent), progress_bar=False)
    ran = read(out)
    injected = [c for c in ran.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "SEED = 1" in injected[0].source
    # The parameters reached the computation: the printed and glued results change.
    assert text_outputs(ran) != text_outputs(nb)


def text_outputs(nb) -> list[str]:
    texts = []
    for cell in code_cells(nb):
        for output in cell.outputs:
            texts.append(str(output.get("text", "")))
            texts += [str(v) for k, v in output.get("data", {}).items() if k != "image/png"]
    return texts


# --- what readers see: machinery hidden, nothing wider than the column --------------------

COLUMN_PX = 753  # the book's text column at desktop width
MAX_OUTPUT_CHARS = 80


def tags_of(cell) -> set[str]:
    return set(cell.metadata.get("tags", []))


@pytest.mark.parametrize("path", CHAPTERS + SOLUTIONS + EXERCISES, ids=str)
def test_the_colab_cell_and_its_note_are_hidden_from_the_book(path):
    nb = read(path)
    first = next(k for k, c in enumerate(nb.cells) if c.cell_type == "code")
    assert "remove-cell" in tags_of(nb.cells[first])
    before = nb.cells[first - 1]
    if before.cell_type == "markdown" and "Colab" in before.source:
        assert "remove-cell" in tags_of(before), "hide the note that explains the Colab cell"


@pytest.mark.parametrize("path", CHAPTERS + SOLUTIONS, ids=str)
def test_glue_calls_sit_in_hidden_cells(path):
    for k, cell in enumerate(code_cells(read(path))):
        code = re.sub(r"#.*", "", cell.source)
        if re.search(r"\bglue\(", code):
            assert tags_of(cell) & {"remove-cell", "remove-input"}, (
                f"code cell {k} calls glue(): put the calls in a cell tagged remove-cell")


@pytest.mark.parametrize("path", CHAPTERS + SOLUTIONS, ids=str)
def test_figure_code_folds_unless_it_is_the_lesson(path):
    for k, cell in enumerate(code_cells(read(path))):
        draws = any("image/png" in o.get("data", {}) or "<img" in str(
            o.get("data", {}).get("text/html", "")) for o in cell.outputs)
        if draws:
            assert tags_of(cell) & {"hide-input", "remove-input", "show-code"}, (
                f"code cell {k} draws a figure: tag it hide-input (or show-code when the "
                "plotting is the lesson)")


def shown_text(output) -> str:
    """The text the book shows for an output: streams, and plain text that has no richer
    form (an HTML table or a figure is shown instead of its text)."""
    if output.output_type == "stream":
        return output.text
    data = output.get("data", {})
    if "text/plain" in data and not any(k.startswith(("image/", "text/html", "text/latex"))
                                        for k in data):
        return data["text/plain"]
    return ""


@pytest.mark.parametrize("path", CHAPTERS + SOLUTIONS, ids=str)
def test_printed_output_fits_in_eighty_columns(path):
    for k, cell in enumerate(code_cells(read(path))):
        if "remove-cell" in tags_of(cell) or "remove-output" in tags_of(cell):
            continue
        for output in cell.outputs:
            for line in shown_text(output).splitlines():
                assert len(line) <= MAX_OUTPUT_CHARS, (
                    f"code cell {k} prints a line of {len(line)} characters: {line[:60]}...")


def png_width(b64: str) -> int:
    import base64

    header = base64.b64decode(b64[:64])
    return struct.unpack(">I", header[16:20])[0]


@pytest.mark.parametrize("path", CHAPTERS + SOLUTIONS, ids=str)
def test_figures_are_drawn_at_twice_their_size_and_fit_the_column(path):
    for k, cell in enumerate(code_cells(read(path))):
        for output in cell.outputs:
            if "image/png" not in output.get("data", {}):
                continue
            shown = output.get("metadata", {}).get("image/png", {}).get("width")
            assert shown, f"code cell {k}: a figure without its displayed width: call " \
                          "plot.use_style() (retina figures)"
            assert shown <= COLUMN_PX, f"code cell {k}: {shown} px is wider than the column"
            assert png_width(output["data"]["image/png"]) >= 1.5 * shown, (
                f"code cell {k}: the figure has fewer than 1.5 pixels per displayed pixel")
