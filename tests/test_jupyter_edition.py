"""The Jupyter and Colab edition (`make jupyter`): what any Jupyter front end renders.

Nothing MyST-only remains, every glued value of the source appears, answers are
collapsed, links go to the sibling notebook or the online book, outputs are kept.
"""

from __future__ import annotations

import re

import nbformat
import pytest
from conftest import CHAPTERS, EXERCISES, ROOT, SOLUTIONS, read

from tools import jupyter_edition as edition

SOURCES = CHAPTERS + EXERCISES + SOLUTIONS
GLUE_ROLE = re.compile(r"\{glue(?::text)?\}`(?P<key>[^`:]+)(?::(?P<fmt>[^`]*))?`")
GLOSSARY_TERM = re.compile(r"^([^\s:`][^\n]*)\n  \S", re.M)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("jupyter")
    edition.build(out)
    return out


def edition_of(built, path):
    return read(built / path.parent.name / path.name)


def markdown(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def test_the_edition_has_every_notebook_at_the_same_relative_path(built):
    written = sorted(p.relative_to(built) for p in built.rglob("*.ipynb"))
    assert written == sorted(p.relative_to(ROOT) for p in SOURCES)


@pytest.mark.parametrize("path", SOURCES, ids=str)
def test_nothing_myst_only_remains(built, path):
    text = markdown(edition_of(built, path))
    assert not edition.MYST_ONLY.search(text), edition.MYST_ONLY.search(text)[0]
    assert "{glue" not in text and "{term}" not in text and "{cite" not in text


@pytest.mark.parametrize("path", CHAPTERS + SOLUTIONS, ids=str)
def test_every_glued_value_of_the_source_appears_formatted_as_in_the_book(built, path):
    source = read(path)
    values = edition.glued_values(source)
    text = markdown(edition_of(built, path))
    for match in GLUE_ROLE.finditer(markdown(source)):
        shown = edition.format_glue(values[match["key"]], match["fmt"] or "")
        assert shown in text, f"{match['key']} = {shown} is missing"


@pytest.mark.parametrize("path", SOURCES, ids=str)
def test_answers_are_collapsed_and_admonitions_quoted(built, path):
    source, text = markdown(read(path)), markdown(edition_of(built, path))
    assert text.count("<details><summary>") == source.count("{dropdown}")
    assert text.count("<details>") == text.count("</details>")
    notes = len(re.findall(r"\{(?:note|tip|warning|important)\}", source))
    assert len(re.findall(r"^\s*> \*\*[A-Z][\w ]*\*\*$", text, re.M)) >= notes


@pytest.mark.parametrize("path", SOURCES, ids=str)
def test_outputs_are_kept_and_folded_cells_stay_runnable(built, path):
    source, converted = read(path), edition_of(built, path)
    kept = [c for c in source.cells if not (path.parent.name == "solutions"
                                            and "exercise-only" in c.metadata.get("tags", []))]
    assert len(converted.cells) == len(kept)
    for a, b in zip(kept, converted.cells):
        assert a.get("outputs") == b.get("outputs")
        if a.cell_type == "code" and "remove-cell" in a.metadata.get("tags", []):
            assert b.metadata["jupyter"]["source_hidden"] is True


def glossary_terms() -> set[str]:
    text = (ROOT / "book" / "glossary.md").read_text(encoding="utf-8")
    block = re.search(r"```\{glossary\}.*?\n(.*?)\n```", text, re.S)
    assert block, "the glossary is a {glossary} block"
    return {edition.glossary_anchor(t.strip()) for t in GLOSSARY_TERM.findall(block[1] + "\n")}


@pytest.mark.parametrize("path", SOURCES, ids=str)
def test_links_go_to_existing_glossary_terms_sibling_notebooks_and_online_pages(built, path):
    text = markdown(edition_of(built, path))
    base = edition.online_base(edition.load_config())
    anchors = glossary_terms()
    for anchor in re.findall(re.escape(base) + r"book/glossary\.html#([\w.-]+)", text):
        assert anchor in anchors, f"no glossary term with id {anchor}"
    for target in re.findall(r"\]\((\.\./[a-z]+/[^)#]+\.ipynb)", text):
        assert (ROOT / path.parent.name / target).resolve().exists(), target
    for page in re.findall(re.escape(base) + r"([^)#\s]+)\.html", text):
        assert (ROOT / f"{page}.md").exists() or (ROOT / f"{page}.ipynb").exists(), page


@pytest.mark.parametrize("path", SOLUTIONS, ids=str)
def test_solutions_show_no_markers_and_no_exercise_instructions(built, path):
    nb = edition_of(built, path)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "### BEGIN SOLUTION" not in code and "### END SOLUTION" not in code
    assert not [c for c in nb.cells if "exercise-only" in c.metadata.get("tags", [])]


@pytest.mark.parametrize("source, expected", [
    ("{term}`weights <Weight>`", "[*weights*](BASE/book/glossary.html#term-Weight)"),
    ("{term}`Gradient\ndescent`", "[*Gradient descent*](BASE/book/glossary.html#"
                                  "term-Gradient-descent)"),
    ("{cite}`key1`", "[(Rosenblatt, 1958)](BASE/book/references.html)"),
    ("{cite}`key1,key2`", "[(Rosenblatt, 1958; Minsky and Papert, 1969)](BASE/book/"
                          "references.html)"),
    ("{glue:text}`acc:.3f` and {glue:text}`n`", "0.988 and 12"),
    ("{chapter}`Chapter 6 <6>`", "[Chapter 6](../notebooks/06_loop.ipynb)"),
    ("(label)=\n# Title", "\n# Title"),
    ("1. Why?\n\n   ```{dropdown} Answer\n   Because $x^2$.\n   ```",
     "1. Why?\n\n   <details><summary>Answer</summary>\n\n   Because $x^2$.\n\n   </details>"),
    (":::{note}\nRead **this**.\n:::", "> **Note**\n>\n> Read **this**."),
])
def test_each_construct_becomes_plain_markdown(source, expected):
    cell = nbformat.v4.new_code_cell("glue", outputs=[
        nbformat.v4.new_output("display_data", data={
            "application/papermill.record/text/plain": value},
            metadata={"scrapbook": {"name": name}})
        for name, value in (("acc", "0.98765"), ("n", "12"))])
    nb = nbformat.v4.new_notebook(cells=[cell])
    cites = {"key1": ("Rosenblatt", "1958"), "key2": ("Minsky and Papert", "1969")}
    converter = edition.Converter(ROOT / "notebooks" / "01_x.ipynb", nb, "BASE/", cites,
                                  {6: "06_loop"})
    assert converter.markdown(source) == expected


@pytest.mark.parametrize("source, message", [
    ("{glue:text}`missing`", "is not glued here"),
    ("{numref}`fig`", "no plain form for the role"),
    ("```{figure} a.png\n```", "no plain form for the directive"),
    ("```{dropdown} Answer\nnever closed", "unclosed"),
])
def test_a_construct_without_a_plain_form_is_a_clear_error(source, message):
    nb = nbformat.v4.new_notebook()
    converter = edition.Converter(ROOT / "notebooks" / "01_x.ipynb", nb, "BASE/", {}, {})
    with pytest.raises(edition.EditionError, match=message):
        converter.markdown(source)
