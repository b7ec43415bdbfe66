"""The explore notebook served by Voilà and driven in headless Chromium, all on 127.0.0.1.

Voilà serves the widget JavaScript itself; the page must not fetch any script from a CDN, and
neither Voilà nor its kernel may open a connection off this machine (an audit hook loaded in
both refuses and records any attempt). Screenshots land in ``test-artifacts/browser/``.

Without Chromium at ``/usr/bin/chromium`` (or ``chromium`` on the PATH) the test is skipped,
except when ``CI`` is set: then a missing browser fails it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from .voila_support import (
    CHROMIUM,
    NOTEBOOK,
    ROOT,
    PageWatch,
    VoilaError,
    VoilaServer,
    launch_chromium,
    serve_notebook,
    tail,
)

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts" / "browser"
#: How long to wait for the kernel to run the notebook.
PANEL_TIMEOUT_MS = 60_000
#: Seconds to wait for an Apply to finish (the demo answers in well under one).
APPLY_TIMEOUT_MS = 30_000
#: External requests the page may attempt (and that are blocked): Voilà's lab template links
#: the Font Awesome stylesheet from a CDN (voila-dashboards/voila#539); the icons still come
#: from the copy bundled in Voilà's own JavaScript.
TOLERATED_EXTERNAL = ("https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@",)

#: Loaded in Voilà and its kernel through PYTHONPATH: refuse and record any connection or name
#: lookup that does not stay on loopback.
NETWORK_GUARD = """
import ipaddress, os, sys

_LOG = os.environ["METRICS_TOOLKIT_NETWORK_LOG"]


def _local(host):
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str) or host in ("", "localhost") or host.startswith("/"):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _guard(event, args):
    host = None
    if event == "socket.connect" and isinstance(args[1], tuple):
        host = args[1][0]
    elif event == "socket.getaddrinfo":
        host = args[0]
    if host is not None and not _local(host):
        with open(_LOG, "a") as log:
            log.write(f"{os.getpid()} {event} {host!r}\\n")
        raise OSError(f"blocked by the browser test: {event} to {host!r}")


sys.addaudithook(_guard)
"""


def chromium_or_skip() -> str:
    """The browser's path; skip (or fail, under CI) with the reason when it is missing."""
    found = str(CHROMIUM) if CHROMIUM.exists() else shutil.which("chromium")
    problem = None
    if found is None:
        problem = f"no Chromium at {CHROMIUM} or on the PATH (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright package is not installed (pip install -e '.[test]')"
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"browser test cannot run under CI: {problem}", pytrace=False)
        pytest.skip(f"browser test skipped: {problem}")
    assert found is not None
    return found


@pytest.fixture
def chromium() -> str:
    return chromium_or_skip()


@pytest.fixture
def network_log(tmp_path: Path) -> Path:
    """Where the network guard records what Voilà or its kernel tried to reach."""
    return tmp_path / "network.log"


@pytest.fixture
def voila(chromium: str, network_log: Path, tmp_path: Path) -> Iterator[VoilaServer]:
    """Voilà serving the explore notebook on 127.0.0.1 (started once the browser is known)."""
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(NETWORK_GUARD)
    env = {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(guard), os.environ.get("PYTHONPATH")])),
        "METRICS_TOOLKIT_NETWORK_LOG": str(network_log),
    }
    try:
        with serve_notebook(NOTEBOOK, cwd=ROOT, scratch=tmp_path, env=env) as server:
            yield server
    except VoilaError as error:
        pytest.fail(str(error), pytrace=False)


def test_the_panel_in_voila(
    chromium: str, voila: VoilaServer, network_log: Path, tmp_path: Path
) -> None:
    """Load, Apply, change the frequency and a filter, Apply again, switch the metric to
    active users of Platform (the user filter disabled, saying why), Apply: the chart and
    status change each time, nothing goes wrong in the page, and nothing leaves the machine."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    watch = PageWatch(voila.origin)
    with sync_playwright() as playwright:
        browser, page = launch_chromium(
            playwright, chromium, tmp_path / "chromium-profile", {"width": 1200, "height": 2000}
        )
        page.route("**/*", watch.route)
        page.on("pageerror", lambda error: watch.page_errors.append(str(error)))

        def fail(step: str, error: BaseException) -> None:
            page.screenshot(path=ARTIFACTS / "failure.png", full_page=True)
            problems = page.locator(".mt-problems").all_inner_texts()
            pytest.fail(
                f"{step}: {type(error).__name__}: {error}\n"
                f"panel messages: {problems}\npage errors: {watch.page_errors}\n"
                f"screenshot: {ARTIFACTS / 'failure.png'}\n"
                f"voila: {' '.join(voila.command)}\n{tail(voila.log)}",
                pytrace=False,
            )

        def chart_source() -> str | None:
            image = page.locator(".mt-chart img")
            return image.first.get_attribute("src") if image.count() else None

        def apply_and_wait(step: str, previous_status: str, previous_chart: str | None) -> None:
            page.locator(".mt-apply").click()
            try:
                page.wait_for_function(
                    """([before, chart]) => {
                        const status = document.querySelector('.mt-status');
                        const image = document.querySelector('.mt-chart img');
                        const text = status ? status.innerText : '';
                        return text !== before && /fetched/.test(text)
                            && image && image.src !== chart;
                    }""",
                    arg=[previous_status, previous_chart or ""],
                    timeout=APPLY_TIMEOUT_MS,
                )
            except PlaywrightTimeout as error:
                fail(f"{step}: the status line and chart did not change after Apply", error)

        try:
            page.goto(voila.url, timeout=PANEL_TIMEOUT_MS)
            page.wait_for_selector(".mt-apply", timeout=PANEL_TIMEOUT_MS)
        except PlaywrightTimeout as error:
            fail("the panel did not appear", error)
        page.screenshot(path=ARTIFACTS / "01-loaded.png", full_page=True)

        banner = page.locator(".report-banner").inner_text()
        assert "demo data" in banner.lower(), banner
        status = page.locator(".mt-status").inner_text()
        assert "press Apply" in status, status  # nothing fetched yet
        assert chart_source() is None

        apply_and_wait("first Apply (weekly)", status, None)
        weekly_status = page.locator(".mt-status").inner_text()
        weekly_chart = chart_source()
        assert "weekly buckets" in weekly_status and "0 failed" in weekly_status, weekly_status
        page.screenshot(path=ARTIFACTS / "02-weekly.png", full_page=True)

        page.locator(".mt-freq button", has_text="month").click()
        page.locator(".mt-breakdown select").select_option(label="organization")
        page.locator(".mt-org-ids select").select_option(label="Platform")
        apply_and_wait("second Apply (monthly, Platform)", weekly_status, weekly_chart)
        monthly_status = page.locator(".mt-status").inner_text()
        assert "monthly buckets x 1 organization" in monthly_status, monthly_status
        table = page.locator(".mt-table").inner_text()
        assert "Platform" in table and "Growth" not in table, table[:500]
        assert page.locator(".mt-problems").inner_text().strip() == ""
        page.screenshot(path=ARTIFACTS / "03-monthly-platform.png", full_page=True)

        monthly_chart = chart_source()
        page.locator(".mt-metric button", has_text="Active users").click()
        users = page.locator(".mt-user-ids")
        page.wait_for_function(
            "() => document.querySelector('.mt-user-ids select')?.disabled === true",
            timeout=APPLY_TIMEOUT_MS,
        )
        tooltip = users.evaluate("el => el.title || el.querySelector('[title]')?.title || ''")
        assert tooltip.startswith("active users take only the filter of organizations"), tooltip
        page.locator(".mt-breakdown select").select_option(label="none")
        apply_and_wait("third Apply (active users)", monthly_status, monthly_chart)
        users_status = page.locator(".mt-status").inner_text()
        assert users_status.startswith("Active users"), users_status
        assert "monthly buckets" in users_status and " x " not in users_status, users_status
        assert page.locator(".mt-problems").inner_text().strip() == ""
        page.screenshot(path=ARTIFACTS / "04-active-users.png", full_page=True)
        browser.close()

    assert watch.page_errors == [], watch.page_errors
    unexpected = [
        (url, kind) for url, kind in watch.external if not url.startswith(TOLERATED_EXTERNAL)
    ]
    assert unexpected == [], f"the page tried to reach beyond 127.0.0.1: {unexpected}"
    assert all(kind == "stylesheet" for _, kind in watch.external), watch.external
    widget_scripts = [url for url in watch.local if "jupyter-widgets" in url and ".js" in url]
    assert widget_scripts, "the widget JavaScript was not served by Voilà"
    reached = network_log.read_text() if network_log.exists() else ""
    assert reached == "", f"Voilà or its kernel tried to reach the network:\n{reached}"
