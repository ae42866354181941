"""``make bench``: run every chapter, time the from-scratch code, write the results.

    python -m bench                 # everything; writes bench/results.json, book/results.md
    python -m bench --only 01 08    # a partial run, to try things out
    python -m bench --report-only   # rewrite book/results.md from bench/results.json

Chapters run one after another (never in parallel), each in a fresh kernel, with the
thread count the environment gives them: ``make bench`` sets one thread, as for the
committed outputs, so that the book's seed reproduces the book's glued numbers.
Executed copies go to bench/runs/ (ignored by git); the committed notebooks are not
touched. Missed targets do not make the command fail, a
notebook that fails to run does (after both files are written, saying so).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import math
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from tqdm.auto import tqdm

from . import execute, report

ROOT = report.ROOT
NOTEBOOKS = ROOT / "notebooks"
RUNS = ROOT / "bench" / "runs"
PACKAGES = ["torch", "numpy", "scipy", "scikit-learn", "pandas", "matplotlib", "papermill",
            "ipykernel", "nbformat", "myst-nb", "jupyter-book"]


def chapter_notebooks(folder: Path = NOTEBOOKS, only: list[str] | None = None) -> list[Path]:
    """``NN_topic.ipynb`` files in ``folder``, in order; with ``only``, those numbers."""
    found = sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))
    return [p for p in found if only is None or p.name[:2] in only]


def jobs_for(notebooks: list[Path], targets: dict) -> list[tuple[Path, int]]:
    """Every chapter with the book's seed first, then Part II again with the other seeds."""
    seeds = targets["seeds"]
    jobs = [(nb, seeds[0]) for nb in notebooks]
    for nb in notebooks:
        if targets["chapters"].get(nb.name[:2], {}).get("part") == "II":
            jobs += [(nb, s) for s in seeds[1:]]
    return jobs


def run_chapters(notebooks: list[Path], targets: dict, bar) -> list[dict]:
    """Execute every job; return one dict per chapter with its runs (book's seed first)."""
    RUNS.mkdir(parents=True, exist_ok=True)
    runs: dict[Path, list[dict]] = {nb: [] for nb in notebooks}
    for nb, seed in jobs_for(notebooks, targets):
        bar.set_description(f"{nb.stem} seed {seed}")
        out = RUNS / f"{nb.stem}-seed{seed}.ipynb"
        record = execute.run_notebook(nb, out, {"SEED": seed})
        record["glue"] = report.glue_values(nbformat.read(out, 4)) if out.exists() else {}
        runs[nb].append({"seed": seed} | record)
        tqdm.write(f"{nb.stem} seed {seed}: " + (
            f"{record['wall_s']} s wall, {record['cpu_s']} s CPU, "
            f"{record['peak_memory_mib']} MiB" if record["wall_s"] is not None else "")
            + (f"  FAILED: {record['error']}" if record["error"] else ""))
        bar.update()
    return [{"id": nb.name[:2], "notebook": nb.relative_to(ROOT).as_posix(),
             "title": report.notebook_title(nbformat.read(nb, 4)), "runs": runs[nb]}
            for nb in notebooks]


def machine() -> dict:
    """The machine the numbers come from."""
    import psutil
    import torch

    model = platform.processor()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]
        model = names[0] if names else model
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cores": cores, "logical_cpus": os.cpu_count(),
            "physical_cores": psutil.cpu_count(logical=False), "cpu_model": model or "unknown",
            "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
            "torch_threads": torch.get_num_threads(),
            "platform": platform.platform(), "python": platform.python_version(),
            "load_average": [round(x, 1) for x in os.getloadavg()]
            if hasattr(os, "getloadavg") else None,
            "commit": _commit()}


def _commit() -> str | None:
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip() or None


def versions() -> dict:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def strict_json(value):
    """``value`` with NaN and infinities as strings, so that the file is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [strict_json(v) for v in value]
    return value


def write(results: dict) -> None:
    report.RESULTS.write_text(json.dumps(strict_json(results), indent=1, allow_nan=False)
                              + "\n", encoding="utf-8")
    report.PAGE.write_text(report.render_page(results), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", metavar="NN",
                        help="run only these chapters (a partial run, to try things out)")
    parser.add_argument("--repeats", type=int, default=7,
                        help="timed repeats of each from-scratch comparison (default 7)")
    parser.add_argument("--no-micro", action="store_true",
                        help="skip the from-scratch versus PyTorch timings")
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite book/results.md from bench/results.json; run nothing")
    args = parser.parse_args(argv)
    os.environ.setdefault("MLPBOOK_STATIC", "1")
    os.environ.setdefault("MPLBACKEND", "Agg")
    if args.report_only:
        results = json.loads(report.RESULTS.read_text(encoding="utf-8"))
        write(results)
        print(report.render_table(results))
        return 0

    targets = report.load_targets()
    notebooks = chapter_notebooks(only=args.only)
    shutil.rmtree(RUNS, ignore_errors=True)
    total = len(jobs_for(notebooks, targets)) + (0 if args.no_micro else 1)
    with tqdm(total=total, unit="run", file=sys.stderr) as bar:
        chapters = run_chapters(notebooks, targets, bar)
        micro = []
        if not args.no_micro:
            from . import micro as micro_module  # imports torch: only when needed

            bar.set_description("from scratch vs PyTorch")
            micro = micro_module.run_all(repeats=args.repeats)
            bar.update()
    generated = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    results = report.build_results(targets, chapters, micro, machine=machine(),
                                   versions=versions(), generated=generated,
                                   partial=bool(args.only or args.no_micro))
    write(results)
    print()
    print(report.render_table(results))
    print(f"\nwrote {report.RESULTS.relative_to(ROOT)} and {report.PAGE.relative_to(ROOT)}")
    return 1 if results["summary"]["failed_notebooks"] else 0
