"""The GitHub Actions workflows: what they run, read from their YAML (no runner here).

- book.yml builds the book and the Jupyter edition's branch, publishes the book to Pages
  and the edition to its branch (tools/edition_branch.py), only from main;
- portability.yml runs the smoke notebooks on Python 3.10 to 3.13 with the newest
  releases that pyproject.toml allows, weekly and on every push.
"""

from __future__ import annotations

import re

import pytest
import yaml
from conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"


def load(name: str) -> dict:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads `on` as true
    return workflow


def commands(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


@pytest.mark.parametrize("name", sorted(p.name for p in WORKFLOWS.glob("*.yml")))
def test_every_workflow_is_valid_yaml_with_jobs_that_have_steps(name):
    workflow = load(name)
    assert workflow["on"] and workflow["jobs"]
    for job in workflow["jobs"].values():
        assert job["runs-on"] and job["steps"]
        for step in job["steps"]:
            assert "uses" in step or "run" in step


def test_pages_workflow_builds_and_publishes_the_edition_branch_from_main_only():
    workflow = load("book.yml")
    build, edition = workflow["jobs"]["build"], workflow["jobs"]["edition"]
    assert "make jupyter-branch" in commands(build)
    assert edition["needs"] == "build"
    assert "refs/heads/main" in edition["if"] and "pull_request" in edition["if"]
    assert edition["permissions"] == {"contents": "write"}
    assert workflow["permissions"] == {"contents": "read"}, "only the edition job may push"
    assert re.search(r"tools/edition_branch\.py publish _build/jupyter-branch", commands(edition))
    assert "chmod +x" in commands(edition), "binder/postBuild must stay executable"


def test_portability_workflow_runs_the_smoke_notebooks_on_four_pythons_with_newest_releases():
    workflow = load("portability.yml")
    assert "push" in workflow["on"] and workflow["on"]["schedule"][0]["cron"]
    (job,) = workflow["jobs"].values()
    assert job["strategy"]["matrix"]["python"] == ["3.10", "3.11", "3.12", "3.13"]
    assert job["strategy"]["fail-fast"] is False
    run = commands(job)
    assert 'pip install ".[apps]"' in run
    assert "requirements.txt" not in run and "==" not in run, "loose dependencies only"
    assert "tests/test_notebooks.py -m slow" in run
    assert "test_chapter_runs_with_another_seed_at_its_smallest_settings" in run
    assert job["env"]["MLPBOOK_STATIC"] == "1" and job["env"]["OMP_NUM_THREADS"] == "1"
