"""Every notebook runs top to bottom in a real kernel, on the demo (no key, no network), and
every teaching exercise's check catches a wrong answer."""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from metrics_toolkit.report import render

NOTEBOOKS_DIR = Path(__file__).parents[1] / "notebooks"
NOTEBOOKS = sorted(
    path for path in NOTEBOOKS_DIR.rglob("*.ipynb") if ".ipynb_checkpoints" not in path.parts
)
TEACHING = sorted((NOTEBOOKS_DIR / "teaching").glob("*.ipynb"))
#: Seconds a cell may run (the slowest fetch a few hundred in-process calls).
CELL_TIMEOUT = 240

#: A typical mistake for each exercise, by notebook and answer cell id; its check must fail.
WRONG_ANSWERS: dict[tuple[str, str], str] = {
    ("01_json_to_dataframe", "ex1-answer"): "slack_sessions = metrics.sessions_created_count",
    ("01_json_to_dataframe", "ex2-answer"): (
        "origin_total = len([k for k in flat if k.startswith('sessions_created_by_origin.')])"
    ),
    ("01_json_to_dataframe", "ex3-answer"): (
        'my_rate = weekly["sessions_with_merged_prs_count"] / '
        'weekly["sessions_created_count"].sum()'
    ),
    ("01_json_to_dataframe", "ex4-answer"): (
        'busiest_week = weekly["sessions_created_count"].max()'
    ),
    ("01_json_to_dataframe", "ex5-answer"): "berlin_hour = weekly.index[-1].hour",
    ("01_json_to_dataframe", "ex6-answer"): (
        "slack_total = long.query(\"metric == 'sessions_created_by_origin'\")['value'].sum()"
    ),
    ("02_buckets_timezones_averages", "ex1-answer"): (
        'week_from_days = int(daily["sessions_created_count"].iloc[1:].sum())'
    ),
    ("02_buckets_timezones_averages", "ex2-answer"): (
        "shift_hours = berlin_start.hour - utc_start.hour"
    ),
    ("02_buckets_timezones_averages", "ex3-answer"): (
        "berlin_from_utc = utc_week + before_hour - after_hour + 1"
    ),
    ("02_buckets_timezones_averages", "ex4-answer"): (
        "short_day = lengths[lengths == pd.Timedelta(hours=25)].index[0]"
    ),
    ("02_buckets_timezones_averages", "ex5-answer"): (
        'four_week_avg = four["avg_acus_per_session"].mean()'
    ),
    ("02_buckets_timezones_averages", "ex6-answer"): 'overall_rate = by_size["rate"].mean()',
    ("03_comparing_groups_fairly", "ex1-answer"): (
        "lower_2_of_2 = p - z * math.sqrt(p * (1 - p) / n)"
    ),
    ("03_comparing_groups_fairly", "ex2-answer"): (
        'best_user = per_user["merged_pr_rate"].idxmax()'
    ),
    ("03_comparing_groups_fairly", "ex3-answer"): "elapsed_share = 1.0",
    ("03_comparing_groups_fairly", "ex4-answer"): (
        'higher_overall = totals["merged_pr_rate"].idxmin()'
    ),
    ("03_comparing_groups_fairly", "ex5-answer"): "platform_wins = []",
    ("03_comparing_groups_fairly", "ex6-answer"): "adjusted = (merged / created).mean(axis=1)",
    ("04_your_own_widget", "ex1-answer"): (
        "def draw(org_name, share=False):\n    return charts.origin_mix(by_org, share=share)"
    ),
}


def notebook_id(path: Path) -> str:
    return str(path.relative_to(NOTEBOOKS_DIR))


def tags(cell: Any) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def new_client(notebook: Any, path: Path) -> NotebookClient:
    """A client in a fresh python3 kernel of this environment, cwd the notebook's folder."""
    return NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=CELL_TIMEOUT,
        startup_timeout=120,
        resources={"metadata": {"path": str(path.parent)}},
        kernel_manager_class=render._kernel_manager_class(os.environ),
        extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
    )


def text_of(output: Any) -> str:
    data = output.get("data", {})
    return (
        str(output.get("text", ""))
        + str(data.get("text/html", ""))
        + str(data.get("text/markdown", ""))
    )


def test_every_notebook_is_collected() -> None:
    names = {notebook_id(path) for path in NOTEBOOKS}
    assert {
        "quickstart.ipynb",
        "weekly_report.ipynb",
        "teaching/01_json_to_dataframe.ipynb",
        "teaching/02_buckets_timezones_averages.ipynb",
        "teaching/03_comparing_groups_fairly.ipynb",
    } <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_id)
def test_notebook_is_committed_clean(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata.get("kernelspec", {}).get("name") == "python3"
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {cell.get('id')} has outputs"
            assert cell.execution_count is None, f"cell {cell.get('id')} has an execution count"


@pytest.mark.parametrize("path", TEACHING, ids=notebook_id)
def test_teaching_exercises_have_a_check_and_a_solution(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    cells = notebook.cells
    answers = [i for i, cell in enumerate(cells) if "answer" in tags(cell)]
    if path.stem != "04_your_own_widget":
        assert len(answers) >= 5
    for index in answers:
        answer, check = cells[index], cells[index + 1]
        assert answer.cell_type == "code" and re.match(r"(def )?\w+", answer.source)
        assert check.cell_type == "code" and "check" in tags(check), f"after {answer.id}"
        assert "assert " in check.source
        following = [c for c in cells[index + 2 :] if c.cell_type == "markdown"][:1]
        assert following and "<details>" in following[0].source, f"no solution for {answer.id}"
        assert (path.stem, answer.id) in WRONG_ANSWERS, f"add a wrong answer for {answer.id}"


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_id)
def test_notebook_runs_top_to_bottom_on_the_demo(path: Path) -> None:
    assert "DEVIN_API_KEY" not in os.environ
    notebook = nbformat.read(path, as_version=4)
    new_client(notebook, path).execute()
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    errors = [output for output in outputs if output.get("output_type") == "error"]
    assert errors == []
    shown = " ".join(text_of(output) for output in outputs).lower()
    assert "demo data" in shown, "a notebook on the demo must say so in a visible banner"


@pytest.mark.notebook
@pytest.mark.parametrize("path", TEACHING, ids=notebook_id)
def test_checks_catch_wrong_answers(path: Path) -> None:
    """Run the notebook once; at each exercise, first a wrong answer (its check must fail with
    the assertion's message), then the real one."""
    notebook = nbformat.read(path, as_version=4)
    client = new_client(notebook, path)
    client.reset_execution_trackers()
    caught = 0
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            if "answer" in tags(cell):
                wrong = copy.deepcopy(cell)
                wrong.source = WRONG_ANSWERS[(path.stem, cell.id)]
                client.execute_cell(wrong, index)
                with pytest.raises(CellExecutionError) as failure:
                    client.execute_cell(copy.deepcopy(notebook.cells[index + 1]), index + 1)
                assert failure.value.ename == "AssertionError", failure.value
                name = re.match(r"(?:def )?(\w+)", wrong.source)  # the answer's variable
                assert name is not None and name.group(1) in failure.value.evalue
                assert len(failure.value.evalue) > 40, "the message should say what to do"
                caught += 1
            client.execute_cell(cell, index)
    assert caught == sum("answer" in tags(cell) for cell in notebook.cells)
