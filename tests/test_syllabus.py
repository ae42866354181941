"""Nothing is used before it is taught: the code of chapter NN (and of its exercises) uses
only the APIs and ideas that book/syllabus.yaml says chapters 1 to NN introduce, outside
cells tagged ``preview`` that the prose announces."""

import io
import re
import tokenize

import pytest
import yaml
from conftest import CHAPTERS, ROOT, SOLUTIONS, read

SYLLABUS = yaml.safe_load((ROOT / "book" / "syllabus.yaml").read_text(encoding="utf-8"))
ENTRIES = [(e["name"], re.compile(e["pattern"]), int(e["chapter"]))
           for e in SYLLABUS["entries"]]
ANNOUNCED = re.compile(r"preview", re.I)


def code_only(source: str) -> str:
    """``source`` with its comments and strings blanked (lines kept), magics dropped."""
    lines = [("" if line.lstrip().startswith(("%", "!")) else line)
             for line in source.splitlines()]
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return "\n".join(lines)
    for token in reversed(tokens):  # from the end, so that earlier positions stay valid
        if token.type in (tokenize.COMMENT, tokenize.STRING) or \
                tokenize.tok_name[token.type].startswith("FSTRING"):
            (r0, c0), (r1, c1) = token.start, token.end
            if r0 == r1:
                lines[r0 - 1] = lines[r0 - 1][:c0] + "''" + lines[r0 - 1][c1:]
            else:
                lines[r0 - 1] = lines[r0 - 1][:c0] + "''"
                for r in range(r0, r1 - 1):
                    lines[r] = ""
                lines[r1 - 1] = lines[r1 - 1][c1:]
    return "\n".join(lines)


def uses(source: str) -> list[tuple[str, int]]:
    code = code_only(source)
    return [(name, chapter) for name, pattern, chapter in ENTRIES if pattern.search(code)]


def test_the_syllabus_lists_each_entry_once_with_a_part_one_chapter():
    names = [name for name, _, _ in ENTRIES]
    assert len(names) == len(set(names))
    assert all(1 <= chapter <= 7 for _, _, chapter in ENTRIES)


@pytest.mark.parametrize("source, expected", [
    ("loss.backward()", [".backward()"]),
    ("opt = torch.optim.Adam(model.parameters())",
     ["torch.optim (SGD, step, zero_grad)", "adaptive optimisers (Adam, AdamW, RMSprop, Adagrad)"]),
    ("# we will call loss.backward() in Chapter 5\nx = 1", []),
    ("print('call .backward() later')", []),
    ("model = nn.Sequential(nn.Linear(2, 3))", ["torch.nn layers and containers"]),
])
def test_uses_finds_code_and_ignores_comments_and_strings(source, expected):
    assert [name for name, _ in uses(source)] == expected


@pytest.mark.parametrize("path", CHAPTERS + SOLUTIONS, ids=str)
def test_no_chapter_uses_an_api_before_the_chapter_that_teaches_it(path):
    number = int(path.name[:2])
    nb = read(path)
    previous_markdown = ""
    for k, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            previous_markdown = cell.source
            continue
        if cell.cell_type != "code":
            continue
        early = [(name, chapter) for name, chapter in uses(cell.source) if chapter > number]
        if not early:
            continue
        tagged = "preview" in cell.metadata.get("tags", [])
        assert tagged, (f"cell {k} uses {early} before the chapter that teaches it; tag the "
                        "cell 'preview' and announce it in the prose, or move it")
        assert ANNOUNCED.search(previous_markdown) and re.search(
            r"Chapter \d", previous_markdown), (
            f"cell {k} is a preview: the markdown before it must announce it "
            "(say 'preview' and name the chapter that explains it)")


@pytest.mark.parametrize("path", [p for p in CHAPTERS + SOLUTIONS if int(p.name[:2]) <= 3],
                         ids=str)
def test_chapters_one_to_three_call_no_backward_and_no_optimiser(path):
    for cell in read(path).cells:
        if cell.cell_type == "code":
            code = code_only(cell.source)
            assert not re.search(r"\.backward\(|\boptim\b", code), cell.source


@pytest.mark.parametrize("path", [p for p in CHAPTERS + SOLUTIONS if int(p.name[:2]) <= 4],
                         ids=str)
def test_chapters_one_to_four_use_no_adam(path):
    for cell in read(path).cells:
        if cell.cell_type == "code":
            assert not re.search(r"\bAdam", code_only(cell.source)), cell.source
