"""Run one notebook with papermill and measure its kernel.

    python -m bench.execute IN.ipynb OUT.ipynb '{"SEED": 1}'

prints one line of JSON: ``wall_s``, ``cpu_s``, ``peak_memory_mib`` and ``error``.

``run_notebook`` starts this module in a fresh process for each notebook. The kernel is
that process's only child, so once papermill has shut the kernel down (and waited for
it), ``getrusage(RUSAGE_CHILDREN)`` holds exactly the kernel's CPU time and its peak
resident memory, and nothing of another run.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def execute(src: Path, out: Path, parameters: dict) -> dict:
    """Execute ``src`` into ``out`` in this process; return its cost and any error."""
    import papermill

    error = None
    start = time.perf_counter()
    try:
        papermill.execute_notebook(str(src), str(out), parameters=parameters,
                                   kernel_name="python3", cwd=str(Path(src).parent),
                                   progress_bar=False, log_output=False)
    except Exception as exc:  # a failing notebook is a result to report, not a crash
        error = f"{getattr(exc, 'ename', type(exc).__name__)}: " \
                f"{getattr(exc, 'evalue', str(exc))}".strip()[:300]
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    # ru_maxrss is in KiB on Linux and in bytes on macOS.
    peak_bytes = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    return {"wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_memory_mib": round(peak_bytes / 2**20, 1), "error": error}


def run_notebook(src: Path, out: Path, parameters: dict) -> dict:
    """Execute ``src`` into ``out`` in a fresh process (see the module docstring)."""
    env = os.environ | {"MPLBACKEND": "Agg", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    env.setdefault("MLPBOOK_STATIC", "1")
    done = subprocess.run([sys.executable, "-m", "bench.execute", str(src), str(out),
                           json.dumps(parameters)], cwd=ROOT, env=env, capture_output=True,
                          text=True)
    lines = done.stdout.strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"wall_s": None, "cpu_s": None, "peak_memory_mib": None,
                "error": f"the runner failed (exit {done.returncode}): {tail}"[:300]}


if __name__ == "__main__":
    src, out, parameters = sys.argv[1:]
    print(json.dumps(execute(Path(src), Path(out), json.loads(parameters))))
