"""Every notebook runs top to bottom in a real kernel, on the demo (no key, no network), and
connects the same way; every teaching exercise starts as a placeholder whose check asks for an
answer, catches a wrong one and passes the folded solution."""

from __future__ import annotations

import copy
import functools
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbconvert import HTMLExporter

from metrics_toolkit import labels
from metrics_toolkit.report import render

NOTEBOOKS_DIR = Path(__file__).parents[1] / "notebooks"
NOTEBOOKS = sorted(
    path for path in NOTEBOOKS_DIR.rglob("*.ipynb") if ".ipynb_checkpoints" not in path.parts
)
TEACHING = sorted((NOTEBOOKS_DIR / "teaching").glob("*.ipynb"))
#: Seconds a cell may run (the slowest fetch a few hundred in-process calls).
CELL_TIMEOUT = 240
#: How every notebook but the report template connects (the report takes the CLI's choices).
CONNECT = (
    'client = mt.MetricsClient() if os.environ.get("DEVIN_API_KEY") else mt.MetricsClient.demo()'
)
#: What an answer cell holds until the learner fills it in.
PLACEHOLDER = re.compile(r"(=|return) \.\.\.  # your code here")
#: What a check says while its answer cell still holds the placeholder.
FILL_IN = "fill in the cell above"

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
    ("02_buckets_timezones_averages", "ex4-answer"): 'per_hour = around["sessions"] / 24',
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
    ("05_distinct_counts", "ex1-answer"): 'naive_week = int(dau["active_users"].max())',
    ("05_distinct_counts", "ex2-answer"): (
        'repeat_days = naive_week - int(dau["active_users"].max())'
    ),
    ("05_distinct_counts", "ex3-answer"): 'wau_at_least = int(dau["active_users"].min())',
    ("05_distinct_counts", "ex4-answer"): (
        'berlin_minus_utc = berlin["active_users"] - utc["active_users"]'
    ),
    ("05_distinct_counts", "ex5-answer"): ('month_users = int(month_days["active_users"].sum())'),
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


@functools.cache
def executed(path: Path) -> Any:
    """The notebook at ``path`` run top to bottom on the demo, once per test session."""
    assert "DEVIN_API_KEY" not in os.environ
    notebook = nbformat.read(path, as_version=4)
    new_client(notebook, path).execute()
    return notebook


def cell_text(notebook: Any, cell_id: str) -> str:
    """Everything the cell ``cell_id`` showed: streams, plain text and HTML."""
    [cell] = [cell for cell in notebook.cells if cell.get("id") == cell_id]
    return " ".join(text_of(output) for output in cell.get("outputs", []))


def solution_code(cell: Any) -> str:
    """The Python code of a folded solution cell."""
    found = re.search(r"```python\n(.*?)```", cell.source, re.S)
    assert found is not None, f"{cell.get('id')}: no ```python block in the solution"
    return found.group(1)


def exercises(notebook: Any) -> list[tuple[int, Any, Any, Any]]:
    """(index, answer cell, check cell, solution cell) of each exercise of a lesson."""
    found = []
    for index, cell in enumerate(notebook.cells):
        if "answer" in tags(cell):
            following = [c for c in notebook.cells[index + 2 :] if c.cell_type == "markdown"]
            assert following, f"no solution after {cell.id}"
            found.append((index, cell, notebook.cells[index + 1], following[0]))
    return found


class _Details(HTMLParser):
    """The text inside ``<details>`` elements, and the text outside them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.inside: list[str] = []
        self.outside: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.depth += tag == "details"

    def handle_endtag(self, tag: str) -> None:
        self.depth -= tag == "details"

    def handle_data(self, data: str) -> None:
        (self.inside if self.depth else self.outside).append(data)


def squeezed(text: str) -> str:
    """``text`` without white space (highlighted code is split into tokens)."""
    return "".join(text.split())


def test_every_notebook_is_collected() -> None:
    names = {notebook_id(path) for path in NOTEBOOKS}
    assert {
        "quickstart.ipynb",
        "weekly_report.ipynb",
        "teaching/01_json_to_dataframe.ipynb",
        "teaching/02_buckets_timezones_averages.ipynb",
        "teaching/03_comparing_groups_fairly.ipynb",
        "teaching/05_distinct_counts.ipynb",
        "cost.ipynb",
        "history.ipynb",
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
def test_teaching_exercises_are_left_to_the_learner(path: Path) -> None:
    """Each answer cell holds a placeholder, its check asks for it, a solution is folded."""
    notebook = nbformat.read(path, as_version=4)
    found = exercises(notebook)
    if path.stem != "04_your_own_widget":
        assert len(found) >= 5
    for _, answer, check, solution in found:
        assert answer.cell_type == "code" and re.match(r"(def )?\w+", answer.source)
        assert PLACEHOLDER.search(answer.source), f"{answer.id} is not left to the learner"
        assert check.cell_type == "code" and "check" in tags(check), f"after {answer.id}"
        assert "assert " in check.source and "filled(" in check.source, check.id
        assert solution.source.startswith("<details><summary>Solution</summary>"), solution.id
        assert solution.source.rstrip().endswith("</details>"), solution.id
        solution_code(solution)
        assert (path.stem, answer.id) in WRONG_ANSWERS, f"add a wrong answer for {answer.id}"


@pytest.mark.parametrize("path", TEACHING, ids=notebook_id)
def test_solutions_are_folded_in_the_html_export(path: Path) -> None:
    """nbconvert's HTML puts each solution's code inside a ``<details>`` element (JupyterLab
    renders the same markdown folded too), and nowhere outside one."""
    notebook = nbformat.read(path, as_version=4)
    body, _ = HTMLExporter().from_notebook_node(notebook)
    parser = _Details()
    parser.feed(body)
    inside, outside = squeezed(" ".join(parser.inside)), squeezed(" ".join(parser.outside))
    for _, answer, _, solution in exercises(notebook):
        code = squeezed(solution_code(solution))
        assert code in inside, f"{solution.id} is not folded"
        assert code not in outside, f"{answer.id}: the solution shows outside its fold"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_id)
def test_formulas_need_no_network_to_render(path: Path) -> None:
    """No LaTeX: nbconvert's HTML would load MathJax from a CDN to typeset it."""
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            assert not re.search(r"\$\$|\\frac|\\sqrt|\$[^$\n]+\$", cell.source), cell.id


@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_id)
def test_a_minimum_of_sessions_is_the_one_the_report_and_charts_use(path: Path) -> None:
    """A lesson that keeps groups with enough sessions reads ``report.MIN_SESSIONS``: one
    threshold for the report's ranking, the charts' hollow points and the lessons."""
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        literal = re.search(r"sessions_created_count\"\]\s*>=?\s*\d", cell.source)
        assert literal is None, f"{cell.id}: {literal.group(0)!r}; use report.MIN_SESSIONS"


@pytest.mark.parametrize(
    "path", [p for p in NOTEBOOKS if p.name != "weekly_report.ipynb"], ids=notebook_id
)
def test_every_notebook_connects_the_same_way(path: Path) -> None:
    """``MetricsClient()`` with a key, ``MetricsClient.demo()`` without, and the one banner, as
    in the README; the weekly report's template takes the CLI's choices instead."""
    notebook = nbformat.read(path, as_version=4)
    sources = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    connecting = [source for source in sources if "client =" in source]
    assert connecting and CONNECT in connecting[0], path.name
    assert "report.banner(client)" in connecting[0]
    assert not any("report.connect(" in source or "mt-banner" in source for source in sources)


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_id)
def test_notebook_runs_top_to_bottom_on_the_demo(path: Path) -> None:
    notebook = executed(path)
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    errors = [output for output in outputs if output.get("output_type") == "error"]
    assert errors == []
    shown = " ".join(text_of(output) for output in outputs).lower()
    assert "demo data" in shown, "a notebook on the demo must say so in a visible banner"


@pytest.mark.notebook
def test_the_quickstart_shows_formatted_numbers() -> None:
    notebook = executed(NOTEBOOKS_DIR / "quickstart.ipynb")
    series = cell_text(notebook, "series")
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", series)
    assert len(cells) == 12 * 3, series[:500]
    counts, rates, acus = cells[0::3], cells[1::3], cells[2::3]
    assert all(re.fullmatch(r"\d{1,3}(,\d{3})*", text) for text in counts + acus), cells
    assert any("," in text for text in counts + acus)  # thousands are separated
    assert all(re.fullmatch(r"\d{1,3}\.\d%", text) for text in rates), rates
    weeks = re.findall(r'class="row_heading[^"]*" >([^<]*)</th>', series)
    assert len(weeks) == 12 and all(re.search(r"\d{4}$", week) for week in weeks), weeks
    one_call = cell_text(notebook, "call")
    assert "UTC</caption>" in one_call and re.search(r">\d{1,3}(,\d{3})*</td>", one_call)
    flat = re.findall(r"<td[^>]*>([^<]*)</td>", cell_text(notebook, "frame"))
    assert flat and not any(re.search(r"\.\d{3,}", text) for text in flat), flat


@pytest.mark.notebook
def test_the_quickstart_shows_one_organization_through_its_own_key() -> None:
    notebook = executed(NOTEBOOKS_DIR / "quickstart.ipynb")
    text = cell_text(notebook, "org-scope")
    assert re.search(r"scope: organization \(org-[0-9a-f]+\)", text), text[:300]
    assert "prs_created_count" in text or "PRs" in text, text[:300]


@pytest.mark.notebook
def test_the_23_hour_day_holds_fewer_sessions_than_24_hours_from_its_midnight() -> None:
    notebook = executed(TEACHING[1])
    said = cell_text(notebook, "dst-effect")
    found = re.search(r"(\d+) sessions in its (\d+) hours.*?counts (\d+),", said)
    assert found is not None, said
    calendar, hours, naive = (int(group) for group in found.groups())
    assert hours == 23
    assert naive > calendar, said  # the hour the short day gives up is a busy one
    table = cell_text(notebook, "dst-around")
    assert "23.0" in table and "24.0" in table


@pytest.mark.notebook
@pytest.mark.parametrize("path", TEACHING, ids=notebook_id)
def test_each_check_asks_for_an_answer_catches_a_wrong_one_and_passes_the_solution(
    path: Path,
) -> None:
    """Run the notebook once; at each exercise run its check three times: after the committed
    placeholder (it says to fill in the cell above), after a wrong answer (it fails with a
    message naming the answer), and after the folded solution (it passes)."""
    notebook = nbformat.read(path, as_version=4)
    client = new_client(notebook, path)
    client.reset_execution_trackers()
    solutions = {
        answer.id: solution_code(solution) for _, answer, _, solution in exercises(notebook)
    }
    checked = 0
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            if "answer" not in tags(cell):
                client.execute_cell(cell, index)
                continue
            check = notebook.cells[index + 1]
            client.execute_cell(copy.deepcopy(cell), index)
            asked = client.execute_cell(copy.deepcopy(check), index + 1)
            assert FILL_IN in " ".join(map(text_of, asked.outputs)).lower(), check.id
            wrong = copy.deepcopy(cell)
            wrong.source = WRONG_ANSWERS[(path.stem, cell.id)]
            client.execute_cell(wrong, index)
            with pytest.raises(CellExecutionError) as failure:
                client.execute_cell(copy.deepcopy(check), index + 1)
            assert failure.value.ename == "AssertionError", failure.value
            name = re.match(r"(?:def )?(\w+)", wrong.source)  # the answer's variable
            assert name is not None and name.group(1) in failure.value.evalue
            assert len(failure.value.evalue) > 40, "the message should say what to do"
            solved = copy.deepcopy(cell)
            solved.source = solutions[cell.id]
            client.execute_cell(solved, index)
            passed = client.execute_cell(copy.deepcopy(check), index + 1)
            assert "correct" in " ".join(map(text_of, passed.outputs)).lower(), check.id
            checked += 1
    assert checked == len(solutions) == sum("answer" in tags(c) for c in notebook.cells)


@pytest.mark.notebook
def test_the_distinct_counts_lesson_shows_the_bounds_and_the_refusals() -> None:
    """Busiest day <= WAU <= sum of the days, on the demo's data; another zone refused by the
    native lists and a rollup of active users refused, each pointing to the distinct count."""
    notebook = executed(NOTEBOOKS_DIR / "teaching" / "05_distinct_counts.ipynb")
    said = cell_text(notebook, "bounds")
    found = re.search(r"busiest day ([\d,]+) <= week ([\d,]+) <= sum of the days ([\d,]+)", said)
    assert found is not None, said
    busiest, week, total = (int(group.replace(",", "")) for group in found.groups())
    assert busiest < week < total, said  # people come back on several days of a week
    assert "metric='active_users'" in cell_text(notebook, "tz-refused")
    assert "distinct count" in cell_text(notebook, "rollup-refused")


def _with_price(notebook: Any, price: str) -> Any:
    """``notebook`` with its ``parameters`` cell setting ``acu_price = price``."""
    priced = copy.deepcopy(notebook)
    [cell] = [cell for cell in priced.cells if "parameters" in tags(cell)]
    assert re.fullmatch(r"acu_price = None\b.*", cell.source), cell.source
    cell.source = f"acu_price = {price}"
    return priced


@pytest.mark.notebook
def test_the_cost_notebook_shows_money_only_at_a_given_price() -> None:
    """Without a price every number is in ACUs and no amount appears; with one, the cycles and
    ACUs per merged PR gain amounts that are the ACUs times the price."""
    path = NOTEBOOKS_DIR / "cost.ipynb"
    unpriced = executed(path)
    shown = " ".join(text_of(o) for cell in unpriced.cells for o in cell.get("outputs", []))
    assert "amount at" not in shown and "amount per" not in shown
    assert "at your price" not in shown
    assert "billing cycle" in cell_text(unpriced, "cycles")
    priced = _with_price(nbformat.read(path, as_version=4), "2.5")
    new_client(priced, path).execute()
    cycles = cell_text(priced, "cycles")
    assert "amount at 2.50 per ACU" in cycles, cycles[:500]
    rows = re.findall(
        r"<td[^>]*>([^<]*)</td>\s*<td[^>]*>([^<]*)</td>\s*<td[^>]*>([^<]*)</td>", cycles
    )
    assert len(rows) == 4, cycles[:800]
    for _, acus, amount in rows:
        number = float(acus.rstrip(labels.PROVISIONAL_MARK).replace(",", ""))
        money = float(amount.rstrip(labels.PROVISIONAL_MARK).replace(",", ""))
        assert abs(money - number * 2.5) <= 2.5 / 2 + 0.005, (acus, amount)  # ACUs shown rounded
    assert "amount per merged PR at 2.50 per ACU" in cell_text(priced, "per-pr")
    assert "at your price" in cell_text(priced, "burn")


def test_the_cost_notebook_refuses_a_price_that_is_not_one() -> None:
    """A price is a finite number above 0: text, a flag, 0, NaN or infinity stop the run."""
    path = NOTEBOOKS_DIR / "cost.ipynb"
    notebook = nbformat.read(path, as_version=4)
    [check] = [cell for cell in notebook.cells if cell.get("id") == "price-check"]
    for price in (0, -1.5, "2.25", True, float("nan"), float("inf")):
        namespace: dict[str, Any] = {"acu_price": price}
        code = check.source.split("now = client.now()")[0]
        with pytest.raises(ValueError, match="acu_price"):
            exec(code, namespace)
    accepted: dict[str, Any] = {"acu_price": 2.25}
    exec(check.source.split("now = client.now()")[0], accepted)


@pytest.mark.notebook
def test_the_quickstart_ends_with_the_common_table_formatted() -> None:
    """The last cell: ``mt.overview`` by week with human headers, one number format
    (thousands separated, rates as percentages, ratios with one decimal), the settling
    columns of provisional weeks marked, and a sentence naming what each rate divides."""
    notebook = executed(NOTEBOOKS_DIR / "quickstart.ipynb")
    assert notebook.cells[-1].id == "overview"
    html = cell_text(notebook, "overview")
    headers = re.findall(r'class="col_heading[^"]*" >([^<]*)</th>', html)
    rates = [
        "Merged / created PRs",
        "ACUs per merged PR",
        "Searches per active user",
        "Sessions per active user",
    ]
    counts = ["Sessions", "PRs created", "PRs merged", "Searches", "Active users", "ACUs"]
    assert headers == counts + rates, headers
    weeks = re.findall(r'class="row_heading[^"]*" >([^<]*)</th>', html)
    assert len(weeks) == 4 and all(re.search(r"\d{4}$", week) for week in weeks), weeks
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", html)
    rows = [cells[i : i + len(headers)] for i in range(0, len(cells), len(headers))]
    assert len(rows) == 4, cells
    mark = labels.PROVISIONAL_MARK
    settling = {headers.index(name) for name in ("PRs merged", "ACUs", *rates[:2])}
    for row in rows:
        values = [text.rstrip(mark) for text in row]
        assert all(re.fullmatch(r"\d{1,3}(,\d{3})*", text) for text in values[:6]), row
        assert re.fullmatch(r"\d{1,3}\.\d%", values[6]), row
        assert all(re.fullmatch(r"\d{1,3}(,\d{3})*\.\d", text) for text in values[7:]), row
        assert {i for i, text in enumerate(row) if text.endswith(mark)} in (set(), settling)
    assert rows[-1][6].endswith(mark), rows[-1]  # the last complete week ended < 14 days ago
    assert not rows[0][6].endswith(mark), rows[0]  # four weeks back ended 21 days ago or more
    assert "Provisional" in html
    said = " ".join(notebook.cells[-2].source.lower().split())
    for rate in rates:
        assert rate.lower() in said, rate
    assert said.count(" over ") >= 3  # each rate says what it divides by
