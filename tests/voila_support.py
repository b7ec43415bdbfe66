"""Serving the explore notebook with Voilà on 127.0.0.1 and opening it in headless Chromium.

Shared by the browser test (``tests/test_browser.py``) and the README's images
(``scripts/make_images.py``). Voilà runs as ``python -m voila`` on a free loopback port, with the
Devin API variables removed from its environment and every Jupyter, IPython and matplotlib
directory pointed into a scratch folder; Chromium is Playwright's, driven headless from an
executable on this machine. Playwright is imported only when the browser is launched.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "explore.ipynb"
#: Where Chromium is looked for first.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Seconds to wait for Voilà to listen on its port.
STARTUP_TIMEOUT = 60
#: Seconds to wait for Voilà to stop once asked to, and then once killed.
STOP_TIMEOUT = 15
KILL_TIMEOUT = 5
#: Left out of Voilà's environment: the notebook runs on demo data and needs no key.
HIDDEN_VARIABLES = ("DEVIN_API_KEY", "DEVIN_API_BASE_URL")


class VoilaError(RuntimeError):
    """Voilà exited, or did not listen, before serving the notebook."""


@dataclass
class VoilaServer:
    """A running Voilà: its URL (ending in ``/``), the command that started it and its log."""

    url: str
    command: list[str]
    log: Path

    @property
    def origin(self) -> str:
        """The URL without its trailing ``/``: what every request of the page starts with."""
        return self.url.rstrip("/")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def voila_environment(scratch: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without the API variables, its caches and configuration in
    ``scratch``, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in HIDDEN_VARIABLES}
    env.update(
        {
            "XDG_CACHE_HOME": str(scratch / "cache"),
            "JUPYTER_CONFIG_DIR": str(scratch / "jupyter-config"),
            "JUPYTER_DATA_DIR": str(scratch / "jupyter-data"),
            "JUPYTER_RUNTIME_DIR": str(scratch / "jupyter-runtime"),
            "IPYTHONDIR": str(scratch / "ipython"),
            "MPLCONFIGDIR": str(scratch / "matplotlib"),
            "MPLBACKEND": "Agg",
        }
    )
    env.update(extra or {})
    return env


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise VoilaError(f"Voilà exited with {process.returncode}:\n{tail(log)}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise VoilaError(f"Voilà did not listen on {port} in {STARTUP_TIMEOUT} s:\n{tail(log)}")


@contextmanager
def serve_notebook(
    notebook: Path, *, cwd: Path, scratch: Path, env: Mapping[str, str] | None = None
) -> Iterator[VoilaServer]:
    """Serve ``notebook`` (inside ``cwd``) with Voilà on 127.0.0.1 and yield it once it listens.

    Voilà runs in ``cwd`` with :func:`voila_environment` (``scratch``, plus ``env``) and logs to
    ``scratch / "voila.log"``; it serves no file of the notebook's folder. It is stopped on the
    way out. Raises :class:`VoilaError` when it does not start.
    """
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "voila",
        "--no-browser",
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
        "--VoilaConfiguration.file_allowlist=^$",  # serve no file of the notebook folder
        str(notebook.relative_to(cwd)),
    ]
    log = scratch / "voila.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=voila_environment(scratch, env),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, process, log)
        yield VoilaServer(f"http://127.0.0.1:{port}/", command, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=KILL_TIMEOUT)


@dataclass
class PageWatch:
    """Lets the page reach only ``origin`` (and ``data:``/``blob:`` URLs), blocking every other
    request; records what it asked for and what went wrong in it."""

    origin: str
    external: list[tuple[str, str]] = field(default_factory=list)
    local: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith((self.origin, "data:", "blob:")):
            self.local.append(url)
            route.continue_()
        else:
            self.external.append((url, route.request.resource_type))
            route.abort()


def launch_chromium(
    playwright: Any, executable: str, profile: Path, viewport: Mapping[str, int], **options: Any
) -> tuple[Any, Any]:
    """Headless Chromium from ``executable`` with :data:`CHROMIUM_ARGS` and a fresh profile in
    ``profile``: the browser context and its first page. ``options`` go to Playwright's
    ``launch_persistent_context``."""
    browser = playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=executable,
        headless=True,
        args=CHROMIUM_ARGS,
        viewport=dict(viewport),
        **options,
    )
    page = browser.pages[0] if browser.pages else browser.new_page()
    return browser, page
