"""Make the README's images from the demo enterprise: a chart, and a screenshot of the panel.

Run from the repository root (``make images``)::

    .venv/bin/python scripts/make_images.py [--out docs/images] [--chromium /usr/bin/chromium]

Everything is drawn from the synthetic demo at a fixed "now", so the images change only when
the code does. The chart is drawn with matplotlib; the screenshot serves a copy of
``notebooks/explore.ipynb`` (with that fixed "now" and the panel already applied) with Voilà on
127.0.0.1 and photographs it in headless Chromium. The page may not reach anything but that
server: every other request is blocked.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.voila_support import (  # noqa: E402  (needs ROOT on sys.path)
    CHROMIUM,
    NOTEBOOK,
    PageWatch,
    VoilaError,
    launch_chromium,
    serve_notebook,
)

DEFAULT_OUT = ROOT / "docs" / "images"
#: The demo's "now" in every image: a Wednesday, 03:00 UTC.
NOW = dt.datetime(2026, 11, 25, 3, tzinfo=dt.timezone.utc)
#: The range shown: 26 whole weeks and the current one.
START, END = "2026-06-01", "2026-11-25"
CHART_FILE = "sessions-by-org.png"
PANEL_FILE = "panel.png"
CHART_DPI = 110
#: Pixels of page kept around the panel in the screenshot.
MARGIN = 12
VIEWPORT = {"width": 1100, "height": 2400}
RENDER_TIMEOUT_MS = 90_000
#: What replaces the notebook's panel cell: the same panel, preset and applied.
PANEL_CELL = f"""panel = MetricsPanel(client, start="{START}", end="{END}", by="org")
panel.apply()
panel"""


def make_chart(out: Path) -> Path:
    """Weekly sessions per organization, as ``charts.sessions_over_time`` draws them."""
    from metrics_toolkit import MetricsClient
    from metrics_toolkit.widgets import draw_chart

    with MetricsClient.demo(now=NOW) as client:
        frame = client.session_metrics_frame(
            START, "2026-11-26", "week", by="org", directory=client.directory(), progress=False
        )
    figure = draw_chart(frame, "sessions_over_time")
    target = out / CHART_FILE
    figure.savefig(target, dpi=CHART_DPI)
    return target


def screenshot_notebook(directory: Path) -> Path:
    """A copy of the explore notebook at the fixed "now", with the panel applied."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    replaced = {"client": 0, "panel": 0}
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        if "MetricsClient.demo()" in cell.source:
            cell.source = cell.source.replace(
                "MetricsClient.demo()",
                f"MetricsClient.demo(now=datetime.fromisoformat({NOW.isoformat()!r}))",
            )
            cell.source = "from datetime import datetime\n" + cell.source
            replaced["client"] += 1
        elif "MetricsPanel(client)" in cell.source:
            cell.source = PANEL_CELL
            replaced["panel"] += 1
    if replaced != {"client": 1, "panel": 1}:
        raise SystemExit(f"{NOTEBOOK} changed shape ({replaced}); update {__file__}")
    target = directory / "explore.ipynb"
    nbformat.write(notebook, target)
    return target


def make_panel_screenshot(out: Path, chromium: str) -> Path:
    """Serve the notebook copy with Voilà and photograph the panel."""
    from playwright.sync_api import sync_playwright

    target = out / PANEL_FILE
    with tempfile.TemporaryDirectory(prefix="metrics-images-") as scratch:
        work = Path(scratch)
        notebook = screenshot_notebook(work)
        try:
            with serve_notebook(notebook, cwd=work, scratch=work) as server:
                try:
                    with sync_playwright() as playwright:
                        photograph_panel(playwright, server.origin, chromium, work, target)
                except Exception:
                    print(server.log.read_text(errors="replace")[-4000:], file=sys.stderr)
                    raise
        except VoilaError as error:
            raise SystemExit(str(error)) from None
    return target


def photograph_panel(playwright: Any, origin: str, chromium: str, work: Path, target: Path) -> None:
    """Open the page at ``origin``, let it reach nothing else, and save the panel to ``target``."""
    browser, page = launch_chromium(
        playwright, chromium, work / "chromium-profile", VIEWPORT, device_scale_factor=1
    )
    page.route("**/*", PageWatch(origin).route)
    page.goto(origin + "/", timeout=RENDER_TIMEOUT_MS)
    page.wait_for_selector(".mt-chart img", timeout=RENDER_TIMEOUT_MS)
    page.wait_for_selector(".mt-table table", timeout=RENDER_TIMEOUT_MS)
    page.wait_for_timeout(500)  # let the layout settle
    box = page.locator(".mt-panel").bounding_box()
    if box is None:
        raise SystemExit("the panel is not visible on the page")
    page.screenshot(
        path=target,
        clip={
            "x": max(0.0, box["x"] - MARGIN),
            "y": max(0.0, box["y"] - MARGIN),
            "width": box["width"] + 2 * MARGIN,
            "height": box["height"] + 2 * MARGIN,
        },
    )
    browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the PNGs go")
    parser.add_argument(
        "--chromium",
        default=shutil.which("chromium") or str(CHROMIUM),
        help="the Chromium executable (default: chromium on the PATH)",
    )
    parser.add_argument("--no-screenshot", action="store_true", help="only draw the chart")
    options = parser.parse_args(argv)
    options.out.mkdir(parents=True, exist_ok=True)
    print(make_chart(options.out))
    if not options.no_screenshot:
        if not Path(options.chromium).exists():
            raise SystemExit(
                f"no Chromium at {options.chromium}: pass --chromium or --no-screenshot"
            )
        print(make_panel_screenshot(options.out, options.chromium))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
