"""`make bench`: its committed results are well-formed and current, and its logic is right.

Benchmarks are not tests: nothing here asserts a time.
"""

import json
import math
import re

import nbformat
import pytest
from conftest import CHAPTERS, read

from bench import execute, micro, report, run

TARGETS = report.load_targets()
# The page and the verdicts are tested on targets of their own, so that a chapter that
# changes its targets changes no test here (the real targets are checked further down).
SYNTHETIC_TARGETS = TARGETS | {"chapters": {
    "01": {"part": "I", "headline": "perceptron_updates", "report": ["novikoff_bound"],
           "checks": ["perceptron_updates <= novikoff_bound"]},
    "08": {"part": "II", "headline": "mlp_test_accuracy",
           "baselines": ["logreg_test_accuracy", "sklearn_mlp_test_accuracy"],
           "optional_baselines": ["majority_test_accuracy"],
           "checks": ["mlp_test_accuracy >= 0.98",
                      "mlp_test_accuracy > sklearn_mlp_test_accuracy"]},
    "09": {"part": "II", "headline": "mlp_test_accuracy",
           "baselines": ["logreg_test_accuracy", "knn_test_accuracy"],
           "published": {"value": 0.941, "source": "Kudo, Toyama and Shimbo, 1999"},
           "checks": ["mlp_test_accuracy >= 0.985"]},
}}


def glue_output(name, text, prefix="application/papermill.record/"):
    return nbformat.v4.new_output(
        "display_data", data={prefix + "text/plain": text},
        metadata={"scrapbook": {"name": name, "mime_prefix": prefix}})


def executed_notebook(values: dict) -> nbformat.NotebookNode:
    """A tiny notebook as papermill leaves it, with each value glued in its own cell."""
    cells = [nbformat.v4.new_markdown_cell("# 3. A title\n\nWhy it matters.")]
    for name, text in values.items():
        cell = nbformat.v4.new_code_cell(f"glue({name!r}, ..., display=False)")
        cell.outputs = [glue_output(name, text)]
        cells.append(cell)
    return nbformat.v4.new_notebook(cells=cells)


def runs(*glues, wall=10.0):
    return [{"seed": s, "wall_s": wall, "cpu_s": wall / 2, "peak_memory_mib": 300.0,
             "glue": g, "error": None} for s, g in enumerate(glues)]


def results_for(chapters, micro_results=()):
    """``build_results`` on synthetic chapters: ``[(number, [glue per seed]), ...]``."""
    entries = [{"id": n, "notebook": f"notebooks/{n}_x.ipynb", "title": f"{int(n)}. X",
                "runs": runs(*glues)} for n, glues in chapters]
    machine = {"cores": 2, "logical_cpus": 2, "physical_cores": 2, "cpu_model": "test CPU",
               "memory_gib": 8.0, "omp_num_threads": None, "torch_threads": 2,
               "platform": "test", "python": "3.11", "load_average": [0.5, 0.4, 0.3],
               "commit": None}
    return report.build_results(SYNTHETIC_TARGETS, entries, list(micro_results),
                                machine=machine,
                                versions={"torch": "0"}, generated="2026-01-02T03:04:05+00:00")


# ---------------------------------------------------------------------------------------
# The committed results


@pytest.fixture(scope="module")
def results():
    assert report.RESULTS.exists(), "bench/results.json is missing: run `make bench`"
    return json.loads(report.RESULTS.read_text(encoding="utf-8"))


def test_results_json_is_well_formed(results):
    for key, kind in {"schema": int, "generated": str, "partial": bool, "command": str,
                      "seeds": list,
                      "machine": dict, "versions": dict, "chapters": list, "book": dict,
                      "micro": list, "summary": dict}.items():
        assert isinstance(results.get(key), kind), f"results.json: '{key}' should be a {kind}"
    assert results["schema"] == report.SCHEMA
    for key in ("cores", "cpu_model", "python", "platform", "torch_threads"):
        assert key in results["machine"], f"results.json: machine lacks '{key}'"
    assert {"torch", "numpy", "papermill"} <= set(results["versions"])
    for chapter in results["chapters"]:
        for key in ("id", "notebook", "title", "part", "wall_s", "cpu_s", "peak_memory_mib",
                    "glue", "runs", "checks", "headline", "baselines"):
            assert key in chapter, f"chapter {chapter.get('id')} lacks '{key}'"
        assert isinstance(chapter["glue"], dict)
        for r in chapter["runs"]:
            assert {"seed", "wall_s", "cpu_s", "peak_memory_mib", "glue", "error"} <= set(r)
            if r["error"] is None:
                assert r["wall_s"] > 0 and r["cpu_s"] > 0 and r["peak_memory_mib"] > 0
        seeds = [r["seed"] for r in chapter["runs"]]
        assert seeds == (results["seeds"] if chapter["part"] == "II" else results["seeds"][:1])
        for check in chapter["checks"]:
            assert check["status"] in ("met", "missed", "missing")
    for m in results["micro"]:
        assert m["status"] in ("ok", "missing", "error")
        if m["status"] == "ok":
            assert m["scratch_s"] > 0 and m["pytorch_s"] > 0
            assert math.isclose(m["ratio"], m["scratch_s"] / m["pytorch_s"])


def test_results_page_agrees_with_results_json(results):
    assert report.PAGE.read_text(encoding="utf-8") == report.render_page(results), (
        "book/results.md does not match bench/results.json: run `make bench` "
        "(or `python -m bench --report-only` after changing only the page's layout)")


def test_results_are_current_for_every_committed_chapter(results):
    """A changed, added or removed chapter means `make bench` must run again."""
    assert not results["partial"], "bench/results.json comes from a partial run: run `make bench`"
    recorded = {c["notebook"]: c for c in results["chapters"]}
    committed = [p.relative_to(report.ROOT).as_posix() for p in CHAPTERS]
    added, removed = set(committed) - set(recorded), set(recorded) - set(committed)
    assert not added and not removed, (
        f"chapters added {sorted(added)} or removed {sorted(removed)} since `make bench`: "
        "run it again")
    for path in CHAPTERS:
        glue = recorded[path.relative_to(report.ROOT).as_posix()]["glue"]
        assert glue == report.glue_values(read(path)), (
            f"{path.name}: its glued values changed since `make bench`: run it again")


def test_recorded_verdicts_follow_from_recorded_values(results):
    for chapter in results["chapters"]:
        values = {k: report.mean_std([r["glue"].get(k) for r in chapter["runs"]])["mean"]
                  for k in chapter["glue"]}
        for check in chapter["checks"]:
            if "unit" in check:  # a time: no test asserts one, only the verdict's logic
                assert (check["status"] == "met") == (check["left"] <= check["right"])
            else:
                assert report.evaluate_check(check["check"], values)["status"] == \
                    check["status"]
    s = results["summary"]
    assert s["met"] + s["missed"] + s["missing"] == s["total"]


# ---------------------------------------------------------------------------------------
# The targets file


def test_targets_file_names_a_headline_and_valid_checks_for_every_chapter():
    assert TARGETS["seeds"][0] == 0 and len(set(TARGETS["seeds"])) == len(TARGETS["seeds"]) >= 3
    for number, spec in TARGETS["chapters"].items():
        assert spec.get("headline"), f"chapter {number}: name its headline glue value"
        for check in spec.get("checks") or []:
            assert report.check_names(check), f"chapter {number}: {check!r} uses no value"
    assert {n for n, s in TARGETS["chapters"].items() if s["part"] == "II"} == {
        "08", "09", "10", "11", "12"}


def test_targets_file_rejects_a_malformed_check(tmp_path):
    bad = tmp_path / "targets.yaml"
    bad.write_text("seeds: [0]\nchapter_max_seconds: 1\nbook_max_seconds: 1\nchapters:\n"
                   "  '01': {part: I, headline: a, checks: ['a =< 1']}\n")
    with pytest.raises(ValueError, match="not an expression"):
        report.load_targets(bad)


# ---------------------------------------------------------------------------------------
# Glue values


@pytest.mark.parametrize("text, value", [
    ("4", 4), ("0.9812", 0.9812), ("'Adam'", "Adam"), ("np.float64(0.5)", 0.5),
    ("tensor(0.2500)", 0.25), ("(1, 2)", [1, 2]), ("True", True),
    ("<Figure size 640x480>", "<Figure size 640x480>"),
    ("tensor(1., dtype=x)", "tensor(1., dtype=x)"),
])
def test_glued_text_is_read_back_as_its_value(text, value):
    assert report.parse_glue_text(text) == value


def test_glue_values_reads_every_glued_value_and_nothing_else():
    nb = executed_notebook({"accuracy": "0.98", "best_optimizer": "'Adam'", "n": "7"})
    nb.cells[1].outputs.append(nbformat.v4.new_output("stream", text="printed, not glued\n"))
    nb.cells[2].outputs.append(nbformat.v4.new_output(
        "display_data", data={"text/plain": "0.5"}))  # displayed, not glued
    shown = nbformat.v4.new_code_cell("glue('shown', 3)")  # glue(display=True)
    shown.outputs = [glue_output("shown", "3", prefix="")]
    nb.cells.append(shown)
    nb.cells.append(nbformat.v4.new_markdown_cell("{glue:text}`accuracy`"))
    assert report.glue_values(nb) == {"accuracy": 0.98, "best_optimizer": "Adam", "n": 7,
                                      "shown": 3}
    assert report.notebook_title(nb) == "3. A title"


# ---------------------------------------------------------------------------------------
# Checks and statistics


@pytest.mark.parametrize("check, values, status", [
    ("acc >= 0.98", {"acc": 0.985}, "met"),
    ("acc >= 0.98", {"acc": 0.975}, "missed"),
    ("acc >= 0.98", {}, "missing"),
    ("acc >= 0.98", {"acc": "Adam"}, "missing"),
    ("acc >= 0.98", {"acc": float("nan")}, "missing"),
    ("updates <= bound", {"updates": 4, "bound": 92.4}, "met"),
    ("updates <= bound", {"updates": 93, "bound": 92.4}, "missed"),
    ("mlp < bigram - 0.25", {"mlp": 2.0, "bigram": 2.3}, "met"),
    ("mlp < bigram - 0.25", {"mlp": 2.1, "bigram": 2.3}, "missed"),
    ("abs(obs - th) / th <= 0.01", {"obs": 0.505, "th": 0.5}, "met"),
    ("abs(obs - th) / th <= 0.01", {"obs": 0.49, "th": 0.5}, "missed"),
    ("abs(obs - th) / th <= 0.01", {"obs": 0.5, "th": 0}, "missing"),
    ("gap == 0.0", {"gap": 0.0}, "met"),
])
def test_evaluate_check(check, values, status):
    assert report.evaluate_check(check, values)["status"] == status


@pytest.mark.parametrize("value, text", [(None, "missing"), (4, "4"), (0.981234, "0.9812"),
                                         (1e-06, "1e-6"), (1.1e-15, "1.1e-15"), ("Adam", "Adam")])
def test_values_are_shown_with_four_significant_digits(value, text):
    assert report.fmt(value) == text


def test_a_missing_check_names_what_is_missing():
    result = report.evaluate_check("a > b", {"a": 1})
    assert result["missing"] == ["b"] and result["left"] is None


@pytest.mark.parametrize("check", ["__import__('os').system('true') > 0", "a < b < c", "a",
                                   "a and b", "open(a) > 1", "a.real > 1", "a ** 2 > 1",
                                   "'x' == a"])
def test_parse_check_accepts_only_simple_comparisons(check):
    with pytest.raises(ValueError):
        report.parse_check(check)


@pytest.mark.parametrize("values, mean, std, n", [
    ([1.0, 2.0, 3.0], 2.0, 1.0, 3),
    ([0.5], 0.5, None, 1),
    ([1.0, None, 3.0], 2.0, math.sqrt(2), 2),
    ([None, "Adam"], None, None, 0),
])
def test_mean_std_over_seeds(values, mean, std, n):
    result = report.mean_std(values)
    assert result["n"] == n and result["mean"] == mean
    assert result["std"] == (None if std is None else pytest.approx(std))


def test_application_chapter_is_judged_on_the_mean_of_its_seeds():
    glues = [{"mlp_test_accuracy": a, "sklearn_mlp_test_accuracy": 0.97,
              "logreg_test_accuracy": 0.92} for a in (0.99, 0.985, 0.96)]
    chapter = results_for([("08", glues)])["chapters"][0]
    assert chapter["headline"]["mean"] == pytest.approx(0.9783333) and chapter["headline"]["n"] == 3
    floor = next(c for c in chapter["checks"] if c["check"] == "mlp_test_accuracy >= 0.98")
    assert floor["status"] == "missed" and floor["runs_met"] == 2 and floor["runs"] == 3
    assert [b["key"] for b in chapter["baselines"]] == ["logreg_test_accuracy",
                                                        "sklearn_mlp_test_accuracy"]
    glues[0]["majority_test_accuracy"] = 0.11  # an optional baseline shows once recorded
    chapter = results_for([("08", glues)])["chapters"][0]
    assert chapter["baselines"][-1]["key"] == "majority_test_accuracy"


def test_slow_chapter_misses_its_time_target():
    results = results_for([("01", [{"perceptron_updates": 4, "novikoff_bound": 92.4}])])
    assert results["chapters"][0]["checks"][0]["status"] == "met"
    slow = results["chapters"][0]["runs"][0] | {"wall_s": 61.0}
    chapter = report.summarise_chapter(SYNTHETIC_TARGETS["chapters"]["01"], [slow],
                                       max_seconds=60)
    assert chapter["checks"][0]["status"] == "missed"


# ---------------------------------------------------------------------------------------
# The page


def test_page_says_plainly_when_all_targets_are_met():
    results = results_for([("01", [{"perceptron_updates": 4, "novikoff_bound": 92.4}])])
    assert results["summary"]["missed"] == 0 and results["summary"]["missing"] == 0
    page = report.render_page(results)
    assert page.startswith("# Results at a glance\n")
    comment = re.search(r"<!--(.*?)-->", page, re.S)
    assert comment and "make bench" in comment[1] and "2026-01-02" in comment[1]
    assert "do not edit" not in reader_view(page)
    assert f"meets all {results['summary']['total']} targets" in page
    assert "(missed)" not in page and "missing" not in page and "busy" not in page


def test_page_says_plainly_when_a_target_is_missed_or_cannot_be_checked():
    results = results_for([
        ("01", [{"perceptron_updates": 100, "novikoff_bound": 92.4}]),  # missed
        ("09", [{"logreg_test_accuracy": 0.9}] * 3),  # the headline is not recorded yet
    ])
    page = report.render_page(results)
    assert "The book misses 1 of its" in page
    assert "- 01: `perceptron_updates <= novikoff_bound` (100, target ≤ 92.4)" in page
    assert "**NO (missed)**" in page and "partial" not in page
    assert "`mlp_test_accuracy` missing" in page
    assert "- 09: `mlp_test_accuracy >= 0.985` (missing: `mlp_test_accuracy`)" in page
    assert "published 0.941" in page and "seed by seed" in page
    busy = results | {"machine": results["machine"] | {"load_average": [6.1, 5.0, 4.2]}}
    assert "load average up to 6.1 on 2 cores" in report.render_page(busy)
    table = report.render_table(results)
    assert "MISSED  01: perceptron_updates <= novikoff_bound" in table


def reader_view(page: str) -> str:
    """The part of the page a reader reads first: before the dashboard, no comments."""
    return re.sub(r"<!--.*?-->", "", page.split("## The dashboard")[0], flags=re.S)


def test_page_tells_readers_each_headline_and_its_strongest_baseline_in_words():
    glues = [{"mlp_test_accuracy": a, "sklearn_mlp_test_accuracy": b,
              "logreg_test_accuracy": 0.92} for a, b in ((0.99, 0.97), (0.985, 0.975),
                                                          (0.995, 0.972))]
    results = results_for([("01", [{"perceptron_updates": 4, "novikoff_bound": 92.4}]),
                           ("08", glues)])
    page = report.render_page(results)
    reader = reader_view(page)
    assert "## What each chapter shows" in reader and page.index("## The dashboard") > 0
    assert "sample standard deviation" in reader and "n − 1" in reader
    line = next(x for x in reader.splitlines() if "8. X" in x)
    assert "the MLP's test accuracy: **99.0 % ± 0.5 %** (mean over 3 seeds)" in line
    assert "strongest baseline, scikit-learn's MLPClassifier, reaches 97.2 % ± 0.3 %" in line
    assert "the result is better" in line
    # No internal names, file names or banners where readers read.
    assert not re.search(r"`|_test_|results\.json|targets\.yaml|make bench", reader)
    assert "|" not in reader, "the reader's part has no table (phones)"


def test_comparisons_are_computed_with_the_spread_and_the_interval():
    def stat(key, mean, std):
        return {"key": key, "mean": mean, "std": std, "n": 3, "values": [mean] * 3}

    acc = stat("mlp_test_accuracy", 0.90, 0.01)
    assert report.comparison(acc, stat("logreg_test_accuracy", 0.85, 0.01)) == \
        "the result is better"
    assert "level" in report.comparison(acc, stat("logreg_test_accuracy", 0.895, 0.01))
    assert report.comparison(acc, stat("logreg_test_accuracy", 0.95, 0.0)) == \
        "the result is worse"
    assert "inside" in report.comparison(acc, stat("logreg_test_accuracy", 0.85, 0.0),
                                         interval=(0.8, 0.95))
    nll = stat("lm_mlp_test_nll", 2.2, 0.01)
    assert report.comparison(nll, stat("lm_bigram_test_nll", 2.5, 0.01)) == \
        "the result is better"
    chapter = {"headline": acc, "baselines": [stat("leaky_test_accuracy", 0.99, 0.0),
                                              stat("logreg_test_accuracy", 0.8, 0.0),
                                              stat("knn_test_accuracy", 0.85, 0.0)]}
    assert report.strongest_baseline(chapter)["key"] == "knn_test_accuracy"


def test_page_for_a_book_without_chapters_says_so():
    assert "No chapter notebook was found." in report.render_page(results_for([]))


# ---------------------------------------------------------------------------------------
# Running: which runs, and the from-scratch comparisons


def test_application_chapters_run_once_per_seed(tmp_path):
    for name in ("01_a.ipynb", "08_b.ipynb", "13_new.ipynb", "notes.ipynb"):
        (tmp_path / name).write_text("{}")
    notebooks = run.chapter_notebooks(tmp_path)
    assert [p.name for p in notebooks] == ["01_a.ipynb", "08_b.ipynb", "13_new.ipynb"]
    jobs = [(p.name[:2], s) for p, s in run.jobs_for(notebooks, TARGETS)]
    assert jobs == [("01", 0), ("08", 0), ("13", 0)] + [("08", s) for s in TARGETS["seeds"][1:]]


MANUAL_BACKWARD = '''
def manual_backward(X, y, W1, b1, W2, b2):
    n = X.shape[0]
    h = torch.tanh(X @ W1.T + b1)  # (n, d) @ (d, H) -> (n, H); W1 is (H, d)
    probs = torch.softmax(h @ W2.T + b2, dim=1)  # (n, C); W2 is (C, H)
    loss = -probs[torch.arange(n), y].log().mean()
    d_logits = (probs - torch.nn.functional.one_hot(y, probs.shape[1])) / n
    dz1 = d_logits @ W2 * (1 - h**2)
    return loss, {"W1": dz1.T @ X, "b1": dz1.sum(0), "W2": d_logits.T @ h,
                  "b2": d_logits.sum(0)}

print(manual_backward(X_train, y_train, W1, b1, W2, b2))  # needs the notebook's data
'''

TRAIN_BY_HAND = '''
def train_by_hand(model, loss_fn, optimizer, X, y, epochs, batch_size, seed):
    history = []
    for epoch in range(epochs):
        generator = torch.Generator().manual_seed(train.epoch_seed(seed, epoch))
        order = torch.randperm(len(X), generator=generator)
        total = 0.0
        for idx in order.split(batch_size):
            optimizer.zero_grad()
            loss = loss_fn(model(X[idx]), y[idx])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        history.append(total / len(X))
    return history
'''


def write_chapter(folder, name, *sources):
    cells = [nbformat.v4.new_code_cell("%matplotlib inline"),
             nbformat.v4.new_code_cell("import torch\nfrom mlpbook import train")]
    cells += [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / name)


def test_from_scratch_functions_are_read_from_the_notebook_and_compared(tmp_path):
    write_chapter(tmp_path, "01_perceptron.ipynb", "def perceptron_update(w, b, x, t, lr=1.0):\n"
                  "    return (w + lr * t * x, b + lr * t) if t * (x @ w + b) <= 0 else (w, b)")
    write_chapter(tmp_path, "05_backprop.ipynb", MANUAL_BACKWARD)
    write_chapter(tmp_path, "06_loop.ipynb", "x = 1")  # the function is not written yet
    found = {m["chapter"]: m for m in micro.run_all(repeats=1, notebooks=tmp_path)}
    for number in ("01", "05"):
        assert found[number]["status"] == "ok", found[number]["detail"]
        assert found[number]["max_abs_diff"] < 1e-10 and found[number]["ratio"] > 0
    assert found["06"]["status"] == "missing" and "train_by_hand" in found["06"]["detail"]


def test_training_loop_comparison_and_chapters_that_do_not_exist(tmp_path):
    write_chapter(tmp_path, "06_loop.ipynb", TRAIN_BY_HAND)
    found = {m["chapter"]: m for m in micro.run_all(repeats=1, notebooks=tmp_path)}
    assert found["06"]["status"] == "ok" and found["06"]["max_abs_diff"] < 1e-6
    assert found["01"]["status"] == "missing" and "no notebook" in found["01"]["detail"]


def test_a_wrong_from_scratch_function_is_reported_not_raised(tmp_path):
    write_chapter(tmp_path, "05_backprop.ipynb", "def manual_backward(X, y):\n    return 0")
    found = {m["chapter"]: m for m in micro.run_all(repeats=1, notebooks=tmp_path)}
    assert found["05"]["status"] == "error" and "TypeError" in found["05"]["detail"]


@pytest.mark.slow
def test_a_notebook_run_measures_its_kernel_and_records_its_glue(tmp_path):
    params = nbformat.v4.new_code_cell("SEED = 0")
    params.metadata["tags"] = ["parameters"]
    work = nbformat.v4.new_code_cell(
        "import time\nfrom myst_nb import glue\nblock = b'x' * (200 * 2**20)\n"
        "t0 = time.process_time()\nwhile time.process_time() - t0 < 0.5:\n    pass\n"
        "glue('seed_seen', SEED, display=False)")
    nb = nbformat.v4.new_notebook(cells=[params, work])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, tmp_path / "in.ipynb")
    record = execute.run_notebook(tmp_path / "in.ipynb", tmp_path / "out.ipynb", {"SEED": 5})
    assert record["error"] is None
    assert record["cpu_s"] >= 0.5 and record["wall_s"] > 0
    assert record["peak_memory_mib"] >= 200  # the kernel's memory, not the runner's
    assert report.glue_values(read(tmp_path / "out.ipynb")) == {"seed_seen": 5}
