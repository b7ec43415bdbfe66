"""With DEVIN_API_KEY set, the notebooks and the report use the API at DEVIN_API_BASE_URL, not
the demo: here the demo server over HTTP on 127.0.0.1, with a token of its own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from metrics_toolkit.demo import DemoAPI, DemoEnterprise, DemoServer
from metrics_toolkit.demo.simulator import ALL_PERMISSIONS
from metrics_toolkit.report import render_weekly_report

from .conftest import NOW

TOKEN = "cog_notebook_key_that_must_not_leak_42"
NOTEBOOKS_DIR = Path(__file__).parents[1] / "notebooks"


@pytest.fixture
def account(enterprise: DemoEnterprise, monkeypatch: pytest.MonkeyPatch) -> Iterator[DemoServer]:
    api = DemoAPI(enterprise, now=NOW, tokens={TOKEN: ALL_PERMISSIONS})
    with DemoServer(api) as server:
        monkeypatch.setenv("DEVIN_API_KEY", TOKEN)
        monkeypatch.setenv("DEVIN_API_BASE_URL", server.url)
        yield server


@pytest.mark.notebook
def test_the_quickstart_uses_the_key_and_keeps_it_out_of_its_outputs(
    account: DemoServer, tmp_path: Path
) -> None:
    notebook = nbformat.read(NOTEBOOKS_DIR / "quickstart.ipynb", as_version=4)
    NotebookClient(
        notebook, timeout=240, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    ).execute()
    assert account.request_count > 0  # it asked the API, not the in-process demo
    outputs = json.dumps([cell.get("outputs", []) for cell in notebook.cells])
    assert TOKEN not in outputs
    assert "synthetic" not in outputs.lower()  # no demo banner against a real account


@pytest.mark.notebook
@pytest.mark.slow
def test_the_report_uses_the_key_and_keeps_it_out_of_the_html(
    account: DemoServer, tmp_path: Path
) -> None:
    path = render_weekly_report(
        week="2026-W46", weeks=6, base_url=account.url, out=tmp_path / "r.html"
    )
    assert account.request_count > 0
    body = path.read_text()
    assert TOKEN not in body
    assert "2026-W46" in body
    assert "Synthetic demo data" not in body
    assert path.stat().st_mode & 0o777 == 0o600
