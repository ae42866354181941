"""The pure half of the benchmark: glue values, targets, statistics, and the two reports.

Nothing here runs a notebook or times anything, so the tests call all of it directly.
``build_results`` turns the measurements into the dictionary saved as
``bench/results.json``; ``render_page`` and ``render_table`` turn that dictionary, and
nothing else, into ``book/results.md`` and the terminal summary.
"""

from __future__ import annotations

import ast
import math
import operator
import re
import statistics
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TARGETS = ROOT / "bench" / "targets.yaml"
RESULTS = ROOT / "bench" / "results.json"
PAGE = ROOT / "book" / "results.md"
SCHEMA = 1

# ---------------------------------------------------------------------------------------
# Glue values, as an executed notebook records them


def parse_glue_text(text: str):
    """The value behind a glued ``text/plain`` repr.

    ``'4'`` -> 4, ``"'Adam'"`` -> 'Adam', ``'np.float64(0.5)'`` -> 0.5,
    ``'tensor(0.25)'`` -> 0.25; anything else is kept as the text itself.
    """
    wrapped = re.fullmatch(r"[A-Za-z_][\w.]*\((?P<inner>[^()]*)\)", text.strip())
    for candidate in (text, wrapped and wrapped["inner"]):
        if not candidate:
            continue
        try:
            return _plain(ast.literal_eval(candidate.strip()))
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
    return text


def _plain(value):
    """``value`` as JSON can hold it: tuples become lists, odd types their repr."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def glue_values(nb) -> dict:
    """``{name: value}`` for every ``myst_nb.glue`` call in an executed notebook."""
    values = {}
    for cell in nb["cells"]:
        for output in cell.get("outputs", []) if cell["cell_type"] == "code" else []:
            scrapbook = output.get("metadata", {}).get("scrapbook", {})
            text = output.get("data", {}).get(scrapbook.get("mime_prefix", "") + "text/plain")
            if "name" in scrapbook and text is not None:
                values[scrapbook["name"]] = parse_glue_text(text)
    return values


def notebook_title(nb) -> str:
    """The chapter title: the first line of the first markdown cell, without ``#``."""
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown" and cell["source"].strip():
            return cell["source"].strip().splitlines()[0].lstrip("#").strip()
    return ""


# ---------------------------------------------------------------------------------------
# Targets

COMPARE = {ast.Lt: ("<", operator.lt), ast.LtE: ("<=", operator.le), ast.Gt: (">", operator.gt),
           ast.GtE: (">=", operator.ge), ast.Eq: ("==", operator.eq),
           ast.NotEq: ("!=", operator.ne)}
ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
              ast.Div: operator.truediv}


def load_targets(path: Path = TARGETS) -> dict:
    """``bench/targets.yaml``, with every check parsed once so that a typo fails early."""
    targets = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    for key in ("seeds", "chapter_max_seconds", "book_max_seconds", "chapters"):
        if key not in targets:
            raise ValueError(f"{path}: expected a top-level '{key}'")
    for number, spec in targets["chapters"].items():
        if not re.fullmatch(r"\d\d", str(number)):
            raise ValueError(f"{path}: chapter keys are two digits in quotes, received {number!r}")
        if spec.get("part") not in ("I", "II"):
            raise ValueError(f"{path}: chapter {number}: part must be I or II")
        for check in spec.get("checks") or []:
            parse_check(check)
    return targets


def parse_check(text: str) -> ast.Compare:
    """The comparison in ``text``: names, numbers, + - * /, abs(), and one comparison."""
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as exc:
        raise ValueError(f"check {text!r}: not an expression ({exc.msg})") from None
    if not (isinstance(tree, ast.Compare) and len(tree.ops) == 1):
        raise ValueError(f"check {text!r}: expected one comparison such as 'a >= 0.98'")
    if type(tree.ops[0]) not in COMPARE:
        raise ValueError(f"check {text!r}: unsupported comparison")
    for side in (tree.left, tree.comparators[0]):
        _arithmetic(side, text, values=None)
    return tree


def check_names(text: str) -> list[str]:
    """The glue names a check uses, in order of appearance."""
    names = [n.id for n in ast.walk(parse_check(text)) if isinstance(n, ast.Name)]
    return [n for n in dict.fromkeys(names) if n != "abs"]


def _arithmetic(node, text, values):
    """Evaluate (or, with ``values=None``, only validate) one side of a check."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.Name):
        return None if values is None else values[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _arithmetic(node.operand, text, values)
        return None if values is None else (-inner if isinstance(node.op, ast.USub) else inner)
    if isinstance(node, ast.BinOp) and type(node.op) in ARITHMETIC:
        left = _arithmetic(node.left, text, values)
        right = _arithmetic(node.right, text, values)
        return None if values is None else ARITHMETIC[type(node.op)](left, right)
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "abs"
            and len(node.args) == 1 and not node.keywords):
        inner = _arithmetic(node.args[0], text, values)
        return None if values is None else abs(inner)
    raise ValueError(f"check {text!r}: unsupported part {ast.unparse(node)!r}")


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def evaluate_check(text: str, values: dict) -> dict:
    """Check ``text`` against glue ``values``.

    Returns ``status`` ("met", "missed" or "missing"), the two sides' values ``left``
    and ``right``, the comparison ``op`` and, when missing, what is ``missing``.
    """
    tree = parse_check(text)
    op, compare = COMPARE[type(tree.ops[0])]
    result = {"check": text, "op": op, "left": None, "right": None}
    absent = [n for n in check_names(text) if not is_number(values.get(n))]
    if absent:
        return result | {"status": "missing", "missing": absent}
    try:
        left = _arithmetic(tree.left, text, values)
        right = _arithmetic(tree.comparators[0], text, values)
    except ZeroDivisionError:
        return result | {"status": "missing", "missing": ["(division by zero)"]}
    left, right = _round(left), _round(right)  # glued values are rounded: ignore float noise
    return result | {"left": left, "right": right,
                     "status": "met" if compare(left, right) else "missed"}


def _round(x: float) -> float:
    """Drop float noise such as 0.1 + 0.2 = 0.30000000000000004 from what is shown."""
    return float(f"{x:.12g}") if isinstance(x, float) and math.isfinite(x) else x


# ---------------------------------------------------------------------------------------
# Statistics over seeds


def mean_std(values: list) -> dict:
    """Mean and sample standard deviation (n - 1) of the numbers among ``values``.

    Non-numbers (a missing value is None) are left out; ``n`` counts the numbers.
    ``std`` needs two numbers and ``mean`` one, else they are None.
    """
    numbers = [v for v in values if is_number(v)]
    return {"mean": _round(statistics.fmean(numbers)) if numbers else None,
            "std": _round(statistics.stdev(numbers)) if len(numbers) >= 2 else None,
            "n": len(numbers)}


# ---------------------------------------------------------------------------------------
# Assembling results.json


def summarise_chapter(spec: dict | None, runs: list[dict], *, max_seconds: float) -> dict:
    """One chapter's entry of ``results.json`` from its runs (the book's own seed first).

    Each run is ``{seed, wall_s, cpu_s, peak_memory_mib, glue, error}``. With more than
    one run, every value shown is the mean over the runs and the checks use the means;
    each check also counts the runs that meet it on their own.
    """
    spec = spec or {}
    main = runs[0]
    entry = {key: main[key] for key in ("wall_s", "cpu_s", "peak_memory_mib", "glue")}
    entry["error"] = next((f"seed {r['seed']}: {r['error']}" for r in runs if r["error"]), None)

    def stat(key):
        per_run = [r["glue"].get(key) for r in runs]
        return {"key": key, "values": per_run} | (
            mean_std(per_run) if any(is_number(v) for v in per_run)
            else {"mean": per_run[0], "std": None, "n": sum(v is not None for v in per_run)})

    names = {k for check in spec.get("checks") or [] for k in check_names(check)}
    shown = ([spec["headline"]] if spec.get("headline") else []) + list(
        spec.get("headline_ci") or []) + list(spec.get("baselines") or []) + list(
        spec.get("report") or []) + sorted(names)
    means = {key: stat(key)["mean"] for key in dict.fromkeys(shown)}
    checks = [_time_check(main["wall_s"], max_seconds)]
    for text in spec.get("checks") or []:
        check = evaluate_check(text, means)
        if len(runs) > 1:
            check["runs_met"] = sum(evaluate_check(text, r["glue"])["status"] == "met"
                                    for r in runs)
            check["runs"] = len(runs)
        checks.append(check)
    optional = [k for k in spec.get("optional_baselines") or []
                if any(k in r["glue"] for r in runs)]
    return entry | {
        "headline": stat(spec["headline"]) if spec.get("headline") else None,
        "headline_ci": [stat(k) for k in spec.get("headline_ci") or []],
        "baselines": [stat(k) for k in list(spec.get("baselines") or []) + optional],
        "published": spec.get("published"),
        "report": [stat(k) for k in spec.get("report") or []],
        "checks": checks,
    }


def _time_check(seconds: float | None, max_seconds: float, what: str = "run time") -> dict:
    text = f"{what} <= {max_seconds:g} s"
    if seconds is None:
        return {"check": text, "op": "<=", "left": None, "right": max_seconds, "unit": "s",
                "status": "missing", "missing": ["run time"]}
    return {"check": text, "op": "<=", "left": round(seconds, 1), "right": max_seconds,
            "unit": "s", "status": "met" if seconds <= max_seconds else "missed"}


def build_results(targets: dict, chapters: list[dict], micro: list[dict], *, machine: dict,
                  versions: dict, generated: str, partial: bool = False) -> dict:
    """The whole of ``results.json``.

    ``chapters``: one dict per notebook, in order, with ``id``, ``notebook``, ``title``
    and ``runs`` (the book's own seed first). ``partial``: not every chapter ran.
    """
    entries = []
    for chapter in chapters:
        spec = targets["chapters"].get(chapter["id"])
        max_seconds = (spec or {}).get("max_seconds", targets["chapter_max_seconds"])
        entries.append({"id": chapter["id"], "notebook": chapter["notebook"],
                        "title": chapter["title"], "part": (spec or {}).get("part", "?"),
                        "seeds": [r["seed"] for r in chapter["runs"]],
                        "runs": chapter["runs"]}
                       | summarise_chapter(spec, chapter["runs"], max_seconds=max_seconds))
    walls = [c["wall_s"] for c in entries]
    book_wall = round(sum(walls), 1) if walls and None not in walls else None
    book = {"chapters": len(entries), "wall_s": book_wall,
            "cpu_s": round(sum(c["cpu_s"] or 0 for c in entries), 1),
            "check": _time_check(book_wall, targets["book_max_seconds"],
                                 "all chapters, one run each")}
    return {"schema": SCHEMA, "generated": generated, "partial": partial,
            "command": "make bench",
            "targets_file": "bench/targets.yaml", "seeds": list(targets["seeds"]),
            "machine": machine, "versions": versions, "chapters": entries, "book": book,
            "micro": micro, "summary": summarise(entries, book)}


def summarise(chapters: list[dict], book: dict) -> dict:
    """Counts of met, missed and missing targets, and what was missed."""
    rows = [(c["id"], check) for c in chapters for check in c["checks"]] + [
        ("book", book["check"])]
    count = {s: sum(check["status"] == s for _, check in rows) for s in ("met", "missed",
                                                                        "missing")}
    return count | {
        "total": len(rows),
        "missed_list": [f"{cid}: {check['check']}" for cid, check in rows
                        if check["status"] == "missed"],
        "missing_list": [f"{cid}: {check['check']}" for cid, check in rows
                         if check["status"] == "missing"],
        "failed_notebooks": [c["notebook"] for c in chapters if c["error"]],
    }


# ---------------------------------------------------------------------------------------
# The page and the terminal table

SYMBOL = {"<": "<", "<=": "≤", ">": ">", ">=": "≥", "==": "=", "!=": "≠"}
VERDICT = {"met": "yes", "missed": "**NO (missed)**", "missing": "missing"}


def fmt(value, digits: int = 4) -> str:
    """A value for a table: ``digits`` significant digits, 'missing' for None."""
    if value is None:
        return "missing"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return str(value)
    return re.sub(r"e([+-])0(\d)", r"e\1\2", f"{value:.{digits}g}")  # 1e-06 -> 1e-6


def fmt_mean(stat: dict) -> str:
    """``mean ± std``, or the one value, of a stat from ``summarise_chapter``."""
    if stat["n"] == 0 or stat["mean"] is None:
        return "missing"
    text = fmt(stat["mean"])
    if stat["std"] is not None:
        text += f" ± {fmt(stat['std'], digits=2)}"
    if 0 < stat["n"] < len(stat["values"]):
        text += f" ({stat['n']} of {len(stat['values'])} runs)"
    return text


def fmt_stat(stat: dict | None) -> str:
    """``name = mean ± std`` for a stat, or ``name missing``."""
    if stat is None:
        return "—"
    value = fmt_mean(stat)
    return f"`{stat['key']}` missing" if value == "missing" else f"`{stat['key']}` = {value}"


def fmt_check_values(check: dict) -> str:
    if check["status"] == "missing":
        return "missing: " + ", ".join(f"`{m}`" if m.isidentifier() else m
                                       for m in check["missing"])
    unit = f" {check['unit']}" if check.get("unit") else ""
    text = f"{fmt(check['left'])}{unit}, target {SYMBOL[check['op']]} {fmt(check['right'])}{unit}"
    if "runs_met" in check:
        text += f"; mean of {check['runs']} seeds, {check['runs_met']} of which meet it alone"
    return text


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    return lines + ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]


def _seconds(x) -> str:
    return "missing" if x is None else f"{x:.1f} s"


def _mib(x) -> str:
    return "missing" if x is None else f"{x:.0f} MiB"


def _chapter_link(chapter: dict) -> str:
    """The chapter's title, linked to its notebook while that notebook exists (a chapter
    renamed since the last `make bench` keeps its title, unlinked, so the book builds)."""
    title = chapter["title"] or chapter["notebook"]
    if not (ROOT / chapter["notebook"]).exists():
        return title
    return f"[{title}](../{chapter['notebook']})"


def verdict_lines(results: dict) -> list[str]:
    """The plain statement at the top of the page: are the targets met?"""
    s = results["summary"]
    rows = [(c["id"], check) for c in results["chapters"] for check in c["checks"]] + [
        ("book", results["book"]["check"])]
    lines = []
    if s["failed_notebooks"]:
        lines += ["**Some notebooks failed to run:** "
                  + ", ".join(f"`{n}`" for n in s["failed_notebooks"]) + ".", ""]
    if s["missed"]:
        lines += [f"**The book misses {s['missed']} of its {s['total']} targets:**", ""]
        lines += [f"- {where}: {_check_text(check)} ({fmt_check_values(check)})"
                  for where, check in rows if check["status"] == "missed"] + [""]
    elif s["missing"]:
        lines += [f"**The book meets {s['met']} of its {s['total']} targets; "
                  f"{s['missing']} cannot be checked yet.**", ""]
    else:
        lines += [f"**The book meets all {s['total']} of its targets.**", ""]
    if s["missing"]:
        lines += ["Targets that cannot be checked, because a chapter does not record the "
                  "value it needs:", ""]
        lines += [f"- {where}: {_check_text(check)} ({fmt_check_values(check)})"
                  for where, check in rows if check["status"] == "missing"] + [""]
    return lines


# What each glue value means, in words a reader understands: (label, better, percent).
# ``better`` is "higher", "lower" or None (a value that is not a score); a percent is shown
# as one. A label naming a comparison model reads "<label>: <value>". Values not listed
# here are described from their names (``_describe``).
METRICS = {
    "perceptron_updates": ("updates the perceptron makes before it separates the data",
                           "lower", False),
    "novikoff_bound": ("Novikoff's bound on that number", None, False),
    "gd_rate_observed": ("the factor by which gradient descent shrinks the error at each "
                         "step, measured", "lower", False),
    "gd_rate_theory": ("the factor that theory predicts", None, False),
    "max_derivative_error": ("the largest gap between the book's derivatives of the "
                             "activation functions and PyTorch's", "lower", False),
    "xor_learned_accuracy": ("the accuracy of a small MLP on XOR", "higher", True),
    "xor_linear_accuracy": ("the best a linear model does on XOR", "higher", True),
    "max_forward_error": ("the largest gap between the book's activation values and "
                          "PyTorch's", "lower", False),
    "sequential_max_abs_diff": ("the largest gap between the hand-written forward pass and "
                                "nn.Sequential's", "lower", False),
    "manual_vs_autograd_max_diff": ("the largest gap between hand-written backpropagation "
                                    "and PyTorch's autograd", "lower", False),
    "finite_difference_rel_error": ("the relative gap between autograd and finite "
                                    "differences", "lower", False),
    "scalar_engine_train_accuracy": ("the training accuracy of the scalar autograd engine's "
                                     "MLP", "higher", True),
    "resume_max_weight_diff": ("the largest weight difference between a run resumed from a "
                               "checkpoint and an uninterrupted one", "lower", False),
    "iterations_per_epoch": ("optimiser steps per epoch", None, False),
    "overfit_gap_after_regularization": ("the gap between training and validation accuracy "
                                         "after regularisation", "lower", True),
    "overfit_gap_before": ("the same gap without regularisation", "lower", True),
    "mlp_test_accuracy": ("the MLP's test accuracy", "higher", True),
    "logreg_test_accuracy": ("logistic regression", "higher", True),
    "sklearn_mlp_test_accuracy": ("scikit-learn's MLPClassifier", "higher", True),
    "majority_test_accuracy": ("always predicting the most common class", "higher", True),
    "knn_test_accuracy": ("k-nearest neighbours", "higher", True),
    "mlp_directional_accuracy": ("the share of test days on which the MLP predicts the "
                                 "direction of the next day's return", "higher", True),
    "baseline_directional_accuracy": ("logistic regression", "higher", True),
    "leaky_directional_accuracy": ("a model evaluated with a leaky, shuffled split (the "
                                   "chapter's warning, not a fair baseline)", "higher", True),
    "mlp_rmse_ratio_vs_zero": ("the MLP's error relative to forecasting a zero return",
                               "lower", False),
    "mlp_cv_auc": ("the MLP's cross-validated area under the ROC curve (AUC)", "higher",
                   False),
    "logreg_cv_auc": ("logistic regression", "higher", False),
    "mlp_cv_accuracy": ("the MLP's cross-validated accuracy", "higher", True),
    "sensitivity_at_operating_point": ("the share of cancers found at the chosen threshold",
                                       "higher", True),
    "specificity_at_operating_point": ("the share of benign cases cleared at that threshold",
                                       "higher", True),
    "lm_mlp_test_nll": ("the MLP language model's test loss, in nats per character (lower "
                        "is better)", "lower", False),
    "lm_bigram_test_nll": ("a bigram model (counts of character pairs)", "lower", False),
    "lm_unigram_test_nll": ("a unigram model (character frequencies)", "lower", False),
    "langid_mlp_accuracy": ("the MLP's language-identification accuracy", "higher", True),
    "langid_nb_accuracy": ("naive Bayes", "higher", True),
    # Part II, second edition: headlines over many splits, seeds or folds, and the
    # strongest classical baselines measured on the same ones.
    "mlp_split_mean_accuracy": ("the MLP's test accuracy, averaged over the chapter's "
                                "random splits", "higher", True),
    "svm_split_mean_accuracy": ("an RBF-kernel SVM tuned by cross-validation on the same "
                                "splits", "higher", True),
    "logreg_split_mean_accuracy": ("logistic regression on the same splits", "higher",
                                   True),
    "svm_test_accuracy": ("an RBF-kernel SVM tuned by cross-validation", "higher", True),
    "mlp_seed_mean_accuracy": ("the MLP's test accuracy, averaged over training seeds",
                               "higher", True),
    "best_baseline_test_accuracy": ("the classical model that cross-validation picks "
                                    "(logistic regression, k-NN or an SVM)", "higher",
                                    True),
    "dtw_test_accuracy": ("1-nearest neighbour with dynamic time warping", "higher",
                          True),
    "pooling_mlp_test_accuracy": ("an MLP on each frame with mean and standard-deviation "
                                  "pooling (x-vector style)", "higher", True),
    "stats_mlp_test_accuracy": ("the MLP on summary statistics of the frames", "higher",
                                True),
    "mlp_walk_forward_accuracy": ("the share of days on which the MLP predicts the "
                                  "direction of the next day's return, walk-forward over "
                                  "the years", "higher", True),
    "always_up_walk_forward_accuracy": ("always predicting a rise", "higher", True),
    "logistic_walk_forward_accuracy": ("logistic regression", "higher", True),
    "always_up_directional_accuracy": ("always predicting a rise", "higher", True),
    "mlp_vs_always_up_p": ("the p-value of the paired test of the MLP against always "
                           "predicting a rise", None, False),
    "strategy_sharpe": ("the Sharpe ratio of trading on the MLP committee's walk-forward "
                        "forecasts, after costs", "higher", False),
    "buy_and_hold_sharpe": ("buy-and-hold on the same days", "higher", False),
    "sharpe_difference": ("the strategy's Sharpe ratio minus buy-and-hold's", None, False),
    "sharpe_difference_ci_low": ("the low end of its 95 % block-bootstrap interval (blocks "
                                 "of 20 days)", None, False),
    "sharpe_difference_ci_high": ("the high end of that interval", None, False),
    "strategy_exposure": ("the share of days the strategy holds the stock", None, True),
    "test_strategy_sharpe": ("the strategy's Sharpe ratio on the test period alone",
                             "higher", False),
    "test_buy_and_hold_sharpe": ("buy-and-hold's on the test period alone", "higher",
                                 False),
    "platt_a": ("the MLP's out-of-fold calibration slope (1 means calibrated)", None,
                False),
    "platt_a_low": ("the low end of its bootstrap interval", None, False),
    "platt_a_high": ("the high end of that interval", None, False),
    "logreg_test_brier": ("logistic regression's test Brier score", "lower", False),
    "brier_difference": ("the MLP's test Brier score minus logistic regression's", None,
                         False),
    "brier_difference_ci_low": ("the low end of its paired bootstrap interval", None,
                                False),
    "brier_difference_ci_high": ("the high end of that interval", None, False),
    "centred_leak_accuracy": ("a model given a centred moving average, which looks ahead "
                              "(the chapter's warning, not a fair baseline)", "higher",
                              True),
    "mlp_rcv_auc": ("the MLP's area under the ROC curve (AUC), over repeated "
                    "cross-validation", "higher", False),
    "logreg_rcv_auc": ("logistic regression", "higher", False),
    "rcv_auc_difference": ("the MLP's AUC minus logistic regression's", None, False),
    "brier_before_calibration": ("the Brier score before recalibration", "lower", False),
    "brier_after_calibration": ("the Brier score after recalibration", "lower", False),
    "lm_interpolated_test_nll": ("an interpolated Kneser-Ney count model", "lower",
                                 False),
    "lm_ngram_test_nll": ("the best add-alpha count model of a single order", "lower",
                          False),
    "langid_logreg_accuracy": ("logistic regression", "higher", True),
    "langid_mcnemar_p": ("the p-value of McNemar's test, MLP against logistic regression",
                         None, False),
}
# Values listed as baselines that are not fair comparisons (the chapter shows them as a
# warning); they never count as the strongest baseline.
NOT_A_BASELINE = re.compile(r"^leaky_")


def _describe(key: str) -> tuple[str, str | None, bool]:
    if key in METRICS:
        return METRICS[key]
    words = key.replace("_", " ")
    better = ("higher" if re.search(r"accuracy|auc|f1|precision|recall", key) else
              "lower" if re.search(r"nll|loss|error|diff|gap|rmse", key) else None)
    return words, better, bool(re.search(r"accuracy", key))


def _readable(stat: dict | None) -> str | None:
    """A stat as a reader reads it: "97.6 % ± 0.1 %", "2.201 ± 0.004", or None."""
    if stat is None or stat["n"] == 0 or not is_number(stat["mean"]):
        return None
    _, _, percent = _describe(stat["key"])
    if percent:
        text = f"{100 * stat['mean']:.1f} %"
        if stat["std"] is not None:
            text += f" ± {100 * stat['std']:.1f} %"
        return text
    text = fmt(stat["mean"])
    if stat["std"] is not None:
        text += f" ± {fmt(stat['std'], digits=2)}"
    return text


def strongest_baseline(chapter: dict) -> dict | None:
    """The fair baseline that scores best, in the headline's direction; None if none."""
    headline = chapter.get("headline")
    if headline is None:
        return None
    better = _describe(headline["key"])[1]
    fair = [b for b in chapter.get("baselines") or []
            if not NOT_A_BASELINE.match(b["key"]) and is_number(b["mean"])]
    if not fair or better is None:
        return None
    pick = max if better == "higher" else min
    return pick(fair, key=lambda b: b["mean"])


def comparison(headline: dict, baseline: dict, interval: tuple | None = None) -> str:
    """How the headline compares with a baseline, in words, computed from the numbers.

    Level when the gap is within the larger standard deviation over seeds, or when the
    baseline lies inside the headline's confidence ``interval`` (low, high).
    """
    better = _describe(headline["key"])[1]
    gap = headline["mean"] - baseline["mean"]
    spread = max(headline["std"] or 0.0, baseline["std"] or 0.0)
    if interval is not None and interval[0] <= baseline["mean"] <= interval[1]:
        return "the two are level: the baseline lies inside that interval"
    if abs(gap) <= spread or abs(gap) < 1e-12:
        return "the two are level, within the spread over seeds"
    ahead = gap > 0 if better == "higher" else gap < 0
    return "the result is better" if ahead else "the result is worse"


def reader_lines(results: dict) -> list[str]:
    """One plain paragraph per chapter: its headline and its strongest baseline."""
    lines = []
    for c in results["chapters"]:
        link = _chapter_link(c)
        headline = c.get("headline")
        value = _readable(headline)
        if headline is None or value is None:
            lines += [f"- **{link}**: its headline number is not recorded yet.", ""]
            continue
        label = _describe(headline["key"])[0]
        runs = len(c["runs"])
        text = f"- **{link}**: {label}: **{value}**"
        text += f" (mean over {runs} seeds)" if runs > 1 else ""
        text += "."
        ci = c["headline_ci"]
        interval = ((ci[0]["values"][0], ci[1]["values"][0]) if len(ci) == 2 and all(
            is_number(s["values"][0]) for s in ci) else None)
        if interval is not None:
            low, high = interval
            ends = ([f"{100 * v:.1f} %" for v in interval] if _describe(headline["key"])[2]
                    else [fmt(v) for v in interval])
            text += (f" With the book's seed, the 95 % confidence interval runs from "
                     f"{ends[0]} to {ends[1]}.")
        base = strongest_baseline(c)
        if base is not None and c.get("part") == "II":
            text += (f" Its strongest baseline, {_describe(base['key'])[0]}, reaches "
                     f"{_readable(base)}: {comparison(headline, base, interval)}.")
        elif c.get("baselines"):  # Part I: reference values, not competing models
            shown = [f"{_describe(b['key'])[0]}: {_readable(b)}" for b in c["baselines"]
                     if _readable(b) is not None]
            if shown:
                text += " Compared with " + "; ".join(shown) + "."
        if c.get("published"):
            text += (f" The published result is {100 * c['published']['value']:.1f} %"
                     if _describe(headline["key"])[2] else
                     f" The published result is {fmt(c['published']['value'])}")
            text += f" ({c['published']['source']})."
        lines += [text, ""]
    return lines


def render_page(results: dict) -> str:
    """``book/results.md`` from ``results.json`` alone: for readers first, then the
    dashboard that maintainers use."""
    date = results["generated"][:10]
    seeds = results["seeds"]
    s = results["summary"]
    lines = ["# Results at a glance", "",
             f"<!-- Generated by `make bench` (bench/report.py) on {date} from "
             "bench/results.json; do not edit by hand: run `python -m bench --report-only` "
             "after changing bench/report.py, `make bench` after changing a notebook. -->",
             ""]
    chapters = results["chapters"]
    if not chapters:
        return "\n".join(lines + ["No chapter notebook was found.", ""])
    lines += [
        "Every number below was measured by running the book's notebooks again, from top "
        "to bottom, at their full settings, on the machine described at the end of the "
        f"page (on {date}). The application chapters (Part II) ran once for each of the "
        f"seeds {_and(seeds)}: their numbers are the mean over those runs, and the value "
        "after ± is the sample standard deviation (with n − 1 in the denominator), the "
        "spread you can expect from one run to the next. Each result stands next to the "
        "strongest simple baseline measured in the same run, because a number means "
        "little without one.", ""]
    if results["partial"]:
        lines += ["This is a partial run: only some chapters ran.", ""]
    if s["missed"] or s["missing"] or s["failed_notebooks"]:
        lines += [f"The book meets {s['met']} of the {s['total']} targets its chapters set "
                  "themselves; the dashboard below lists the others.", ""]
    else:
        lines += [f"The book meets all {s['total']} targets its chapters set themselves.",
                  ""]
    lines += ["## What each chapter shows", ""] + reader_lines(results)
    lines += ["## The dashboard", "",
              "For maintainers: every target, the run times, each seed, and how fast the "
              "book's from-scratch code runs against PyTorch. Values are named as the "
              "notebooks record them. On a phone, the wide tables scroll sideways.", ""]
    lines += [line.replace("**", "") if line.startswith("**The book") else line
              for line in verdict_lines(results)]
    lines += [
        "Every chapter notebook ran with papermill, each in a fresh kernel, one after "
        "another. Run time is wall-clock time; CPU time and peak memory are those of the "
        "kernel process. Targets are checked on the mean over seeds and come from "
        "`bench/targets.yaml`.", ""]
    lines += ["### Run times", ""]
    rows = []
    for c in chapters:
        met = sum(check["status"] == "met" for check in c["checks"])
        rows.append([f"{c['id']}", _seconds(c["wall_s"]), _seconds(c["cpu_s"]),
                     _mib(c["peak_memory_mib"]), f"{met} of {len(c['checks'])}"])
    book = results["book"]
    rows.append(["book", _seconds(book["wall_s"]), _seconds(book["cpu_s"]), "",
                 "1 of 1" if book["check"]["status"] == "met" else
                 VERDICT[book["check"]["status"]]])
    lines += _table(["chapter", "run time", "CPU time", "peak memory", "targets met"],
                    rows) + [""]
    lines += ["### Targets", ""]
    rows = [[c["id"], _check_text(check), fmt_check_values(check), VERDICT[check["status"]]]
            for c in chapters for check in c["checks"]]
    rows.append(["book", book["check"]["check"], fmt_check_values(book["check"]),
                 VERDICT[book["check"]["status"]]])
    lines += _table(["chapter", "target", "value", "met"], rows) + [""]
    lines += ["### Headline values and baselines", ""]
    rows = [[c["id"], _headline(c), _baselines(c)] for c in chapters]
    lines += _table(["chapter", "headline", "baselines"], rows) + [""]
    lines += [line.replace("## ", "### ", 1) if line.startswith("## ") else line
              for line in _seed_section(chapters, seeds) + _micro_section(results["micro"])
              + _machine_section(results)]
    return "\n".join(lines).rstrip() + "\n"


def _and(items) -> str:
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _check_text(check: dict) -> str:
    return check["check"] if check["check"].startswith(("run time", "all chapters")) \
        else f"`{check['check']}`"


def _headline(c: dict) -> str:
    text = fmt_stat(c["headline"])
    ci = c["headline_ci"]
    if len(ci) == 2 and all(is_number(s["values"][0]) for s in ci):
        text += f", CI of seed {c['seeds'][0]} [{fmt(ci[0]['values'][0])}, " \
                f"{fmt(ci[1]['values'][0])}]"
    return text


def _baselines(c: dict) -> str:
    parts = [fmt_stat(s) for s in c["baselines"]]
    if c.get("published"):
        parts.append(f"published {fmt(c['published']['value'])} "
                     f"({c['published']['source']})")
    return "; ".join(parts) or "—"


def _seed_section(chapters: list[dict], seeds: list[int]) -> list[str]:
    multi = [c for c in chapters if len(c["runs"]) > 1]
    if not multi:
        return []
    lines = ["## Application chapters, seed by seed", "",
             "The headline metric and the baselines of each run, so that no number is one "
             "lucky seed.", ""]
    rows = []
    for c in multi:
        for stat in [c["headline"], *c["baselines"], *c["report"]]:
            if stat is None:
                continue
            by_seed = dict(zip(c["seeds"], stat["values"]))
            rows.append([c["id"], f"`{stat['key']}`"] + [fmt(by_seed.get(s)) for s in seeds]
                        + [fmt_mean(stat)])
        rows.append([c["id"], "run time"] + [
            _seconds(dict(zip(c["seeds"], [r["wall_s"] for r in c["runs"]])).get(s))
            for s in seeds] + [""])
    header = ["chapter", "value"] + [f"seed {s}" for s in seeds] + ["mean ± sd"]
    return lines + _table(header, rows) + [""]


def _micro_section(micro: list[dict]) -> list[str]:
    if not micro:
        return []
    lines = ["## From scratch versus PyTorch", "",
             "Each chapter's own from-scratch function, taken from the notebook, is timed "
             "against its PyTorch counterpart in one process, on the same inputs, with the "
             "same result. The ratio is the from-scratch time divided by the PyTorch time: "
             "above 1, the from-scratch version is slower. Times are the best of several "
             "repeats.", ""]
    for m in micro:
        lines += [f"- **{m['name']}**: {m['description']}"]
    lines += [""]
    rows = []
    for m in micro:
        if m["status"] != "ok":
            rows.append([m["name"], m["status"] + (f": {m['detail']}" if m["detail"] else ""),
                         "", "", "", ""])
            continue
        rows.append([m["name"], m["workload"], _ms(m["scratch_s"]), _ms(m["pytorch_s"]),
                     f"{m['ratio']:.3g}", m["agreement"]])
    return lines + _table(["comparison", "workload", "from scratch", "PyTorch", "ratio",
                           "same result"], rows) + [""]


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms"


def _machine_section(results: dict) -> list[str]:
    m = results["machine"]
    rows = [["CPU", m["cpu_model"]],
            ["cores", f"{m['cores']} usable ({m['logical_cpus']} logical)"],
            ["threads", f"OMP_NUM_THREADS={m['omp_num_threads'] or 'unset'}, "
                        f"PyTorch uses {m['torch_threads']}"],
            ["memory", f"{m['memory_gib']:.1f} GiB"],
            ["system", m["platform"]], ["Python", m["python"]]]
    load = m.get("load_average")
    if load:
        rows.append(["load average", f"{', '.join(map(str, load))} (1, 5 and 15 minutes, "
                                     "at the end of the run)"])
    if m.get("commit"):
        rows.append(["commit", f"`{m['commit']}`"])
    lines = ["## Machine and versions", ""]
    if m["cores"] != 2:
        lines += [f"The time targets are set for 2 cores; this run had {m['cores']}.", ""]
    if load and max(load) > m["cores"]:
        lines += [f"Other work kept the machine busy during this run (load average up to "
                  f"{max(load)} on {m['cores']} cores), so its wall-clock times are longer "
                  "than on an idle machine; CPU times suffer less.", ""]
    lines += _table(["", ""], rows) + [""]
    lines += _table(["package", "version"], [[k, v] for k, v in results["versions"].items()])
    return lines + [""]


def render_table(results: dict) -> str:
    """The summary printed in the terminal at the end of ``make bench``."""
    header = ["chapter", "wall s", "cpu s", "MiB", "headline", "targets"]
    rows = []
    for c in results["chapters"]:
        met = sum(check["status"] == "met" for check in c["checks"])
        rows.append([c["notebook"].split("/")[-1].removesuffix(".ipynb"),
                     _num(c["wall_s"], 1), _num(c["cpu_s"], 1),
                     _num(c["peak_memory_mib"], 0),
                     fmt_stat(c["headline"]).replace("`", ""),
                     f"{met}/{len(c['checks'])}" + (" FAILED" if c["error"] else "")])
    book = results["book"]
    rows.append(["whole book", _num(book["wall_s"], 1), _num(book["cpu_s"], 1), "", "",
                 book["check"]["status"]])
    rows += [[m["name"], "", "", "", f"ratio {m['ratio']:.3g}" if m["status"] == "ok"
              else m["status"], ""] for m in results["micro"]]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip()
             for r in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    s = results["summary"]
    lines += ["", f"targets: {s['met']} met, {s['missed']} missed, {s['missing']} missing "
                  f"(of {s['total']})"]
    lines += [f"  MISSED  {m}" for m in s["missed_list"]]
    lines += [f"  missing {m}" for m in s["missing_list"]]
    lines += [f"  FAILED  {n}" for n in s["failed_notebooks"]]
    return "\n".join(lines)


def _num(x, digits: int) -> str:
    return "-" if x is None else f"{x:.{digits}f}"
