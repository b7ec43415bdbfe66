"""Rendering: run the report notebook with papermill, export it to one self-contained HTML file.

:func:`render_weekly_report` checks every parameter, executes the notebook shipped in the
package (:data:`REPORT_NOTEBOOK`, ``metrics_toolkit/notebooks/weekly_report.ipynb``) in a fresh
``python3`` kernel of this interpreter's environment, exports it with nbconvert (no code, charts
as embedded PNG images, nothing loaded from the internet when it is opened) and writes it
readable by its owner only. A failing cell becomes one of our errors.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .. import errors
from .._constants import DEFAULT_WEEKS, ENV_API_KEY
from ..errors import (
    InsecureTransportError,
    InvalidParameterError,
    MetricsError,
    ReportExecutionError,
)
from ..files import write_private
from ..params import check_base_url, check_flag, check_names, check_timezone
from .data import check_weeks
from .display import plain_text
from .family import check_acu_price
from .source import StoreSource
from .weeks import check_complete_week, last_complete_week, parse_week, week_title

__all__ = ["REPORT_NOTEBOOK", "ReportExecutionError", "render_weekly_report"]

#: The report notebook shipped in the package, and the kernel it runs in.
REPORT_NOTEBOOK = Path(__file__).parents[1] / "notebooks" / "weekly_report.ipynb"
KERNEL_NAME = "python3"
#: Where reports go by default, under the current directory.
DEFAULT_REPORT_DIR = "reports"
#: Seconds a kernel may take to start, and a report cell to run.
KERNEL_START_TIMEOUT = 120
CELL_TIMEOUT = 600
#: The kernel's own log (not the notebook's output): only what stops it.
KERNEL_LOG_LEVEL = "CRITICAL"

#: The lab template without the scripts it loads from CDNs (require.js, MathJax, mermaid,
#: the widget manager), which the report does not use; Markdown rendered as a document (no
#: input areas), and images with their alternative text.
OFFLINE_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block markdowncell scoped -%}
<div class="jp-Cell jp-MarkdownCell jp-Notebook-cell">
<div class="jp-RenderedHTMLCommon jp-RenderedMarkdown jp-MarkdownOutput">
{{ cell.source | markdown2html | strip_files_prefix }}
</div>
</div>
{%- endblock markdowncell -%}
{%- block data_png scoped -%}
<div class="jp-RenderedImage jp-OutputArea-output {{ extra_class }}">
<img src="data:image/png;base64,{{ output.data['image/png'] | escape_html }}"
 alt="{{ output.metadata.get('alt', 'Chart') | escape_html }}">
</div>
{%- endblock data_png -%}
{%- block extra_css -%}
<style type="text/css">
  body { max-width: 1100px; margin: 0 auto; }
  .report-table { border-collapse: collapse; margin: 0.5em 0 1em; }
  .report-table th, .report-table td { border-bottom: 1px solid #ddd; }
  .report-changes li, .report-notes li { margin: 0.25em 0; }
</style>
{%- endblock extra_css -%}
"""
TEMPLATE_NAME = "metrics_toolkit_offline.html.j2"
#: Cells with this tag (the notebook's own instructions) are left out of the HTML.
HIDDEN_TAG = "report-hide"
#: What must never appear in a report: a resource fetched from the network when opened.
REMOTE_RESOURCE = re.compile(
    r"""(?:\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//)|@import|url\(\s*["']?\s*(?:https?:)?//""",
    re.IGNORECASE,
)


def _interpreter_kernels() -> str:
    """The kernelspec directory of this interpreter's environment (``sys.prefix``)."""
    return str(Path(sys.prefix) / "share" / "jupyter" / "kernels")


def _kernel_manager_class(env: Mapping[str, str]) -> type[Any]:
    """A kernel manager that starts the ``python3`` kernel of this interpreter's environment.

    The kernelspec is looked up in ``sys.prefix/share/jupyter/kernels`` only (falling back to
    ipykernel's own, which runs ``sys.executable``), so a ``python3`` kernelspec in the user's
    Jupyter directories cannot send the report to another Python. The kernel gets ``env``,
    and its sockets are encrypted (CurveZMQ) when pyzmq supports it: the kernel holds the token.
    """
    import zmq
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    kernel_dirs = [_interpreter_kernels()]
    kernel_env = dict(env)
    encryption = "auto" if zmq.has("curve") else "disabled"

    class InterpreterKernelManager(AsyncKernelManager):  # type: ignore[misc]
        def __init__(self, **kwargs: Any) -> None:
            kwargs.setdefault("kernel_spec_manager", KernelSpecManager(kernel_dirs=kernel_dirs))
            if self.has_trait("transport_encryption"):  # jupyter_client 8.7 and later
                kwargs.setdefault("transport_encryption", encryption)
            super().__init__(**kwargs)

        async def start_kernel(self, **kwargs: Any) -> None:  # type: ignore[override]
            kwargs["env"] = {**kernel_env, **kwargs.get("env", {})}
            await super().start_kernel(**kwargs)

    return InterpreterKernelManager


def _kernel_env(demo: bool) -> dict[str, str]:
    """The kernel's environment: ours, without the token when the demo runs."""
    env = dict(os.environ)
    if demo:
        env.pop(ENV_API_KEY, None)
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"  # charts as PNG outputs
    return env


def _check_out(out: Any, week: str) -> Path:
    if out is None:
        return Path.cwd() / DEFAULT_REPORT_DIR / f"weekly-{week}.html"
    if not isinstance(out, str | os.PathLike) or not str(out).strip():
        raise InvalidParameterError("out", f"got {out!r}; expected a path ending in .html")
    path = Path(out)
    if path.suffix.lower() != ".html":
        raise InvalidParameterError("out", f"{str(out)!r} must end in .html")
    if path.exists() and path.is_dir():
        raise InvalidParameterError("out", f"{str(out)!r} is a directory; name an .html file")
    return path


def _now(demo: bool) -> pd.Timestamp:
    """The wall clock; for the demo, floored to the hour as the demo's "now" is."""
    now = pd.Timestamp.now(tz="UTC")
    return now.floor("h") if demo else now


def render_weekly_report(
    *,
    week: str | None = None,
    tz: str = "UTC",
    orgs: Sequence[str] | None = None,
    playbooks: Sequence[str] | None = None,
    weeks: int = DEFAULT_WEEKS,
    demo: bool = False,
    out: str | os.PathLike[str] | None = None,
    base_url: str | None = None,
    cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    acu_price: float | None = None,
    org_id: str | None = None,
    store: str | os.PathLike[str] | None = None,
) -> Path:
    """Execute the weekly report notebook and write it as one self-contained HTML file.

    Every parameter is checked before anything runs. The notebook then runs in a fresh
    ``python3`` kernel of this interpreter's environment with the parameters injected by
    papermill; the token, if any, reaches the kernel only through its environment. The
    executed notebook is exported without code or prompts, charts embedded as PNG images and
    no script, style or font loaded from the network, and written readable by its owner only.

    Parameters
    ----------
    week : str, optional
        ISO week ``"YYYY-Www"``, complete in ``tz``. Default: the last complete week.
    tz : str, default "UTC"
        IANA time zone of the calendar.
    orgs : list of str, optional
        Organizations (ids or names) to cover; default all.
    playbooks : list of str, optional
        Playbooks (ids or titles) to rank and chart.
    weeks : int, default 12
        Weeks of history in the charts, 1 to 104.
    demo : bool, default False
        Report on the synthetic demo enterprise (no key needed). Otherwise
        ``DEVIN_API_KEY`` must be set.
    out : path, optional
        The ``.html`` file to write; default ``reports/weekly-<week>.html`` under the
        current directory. Its directory is created.
    base_url : str, optional
        The API's base URL (default ``DEVIN_API_BASE_URL``, then ``https://api.devin.ai``).
    cache : bool, default True
        Use the answer cache.
    cache_dir : path, optional
        Where the answer cache lives.
    acu_price : float, optional
        A price per ACU, above 0, in your currency: the cost section then shows amounts of
        money. Without it, ACUs only; no price is ever assumed.
    org_id : str, optional
        The organization an organization-level key is scoped to: the report covers it alone
        and leaves out what exists only at enterprise scope (billing cycles, categories).
    store : path, optional
        A local history store (kept by ``metrics-toolkit sync``) to read instead of the API,
        as of its last sync: no request is made and no key is needed (see
        :func:`~metrics_toolkit.report.load_weekly_report` for what it leaves out).

    Returns
    -------
    pathlib.Path
        The HTML file written (mode 600).

    Raises
    ------
    InvalidParameterError
        For a malformed parameter, a week not complete yet, an unknown organization or
        playbook name, or no ``DEVIN_API_KEY`` without ``demo``.
    ReportExecutionError
        When a cell of the notebook fails for another reason.
    MetricsError
        A subclass for API errors met while fetching (the report is not written).
    """
    if week is not None:
        parse_week(week)
    zone = check_timezone(tz)
    org_names = check_names(orgs, "orgs")
    playbook_names = check_names(playbooks, "playbooks")
    weeks = check_weeks(weeks)
    price = check_acu_price(acu_price)
    if org_id is not None and not (isinstance(org_id, str) and org_id.strip()):
        raise InvalidParameterError("org_id", f"got {org_id!r}; expected an organization id")
    demo = check_flag(demo, "demo")
    cache = check_flag(cache, "cache")
    base_url = None if base_url is None else check_base_url(base_url)
    if cache_dir is not None and not isinstance(cache_dir, str | os.PathLike):
        raise InvalidParameterError("cache_dir", f"got {cache_dir!r}; expected a directory path")
    if store is not None:
        if not isinstance(store, str | os.PathLike) or not str(store).strip():
            raise InvalidParameterError("store", f"got {store!r}; expected the store's path")
        if org_id is not None:
            raise InvalidParameterError(
                "org_id", "a store is read at enterprise scope: report one organization with orgs"
            )
        store = str(Path(store).resolve())
        now = StoreSource.at_last_sync(store).now()
    else:
        now = _now(demo)
    if week is None:
        week = last_complete_week(now, zone)
    else:
        week = week.strip()
        check_complete_week(week, zone, now)
    path = _check_out(out, week)
    if store is None and not demo and not os.environ.get(ENV_API_KEY):
        raise InvalidParameterError(
            ENV_API_KEY,
            "is not set: set it to a service-user token (cog_...), or pass demo=True (--demo) "
            "for the synthetic demo enterprise",
        )
    parameters = {
        "week": week,
        "tz": zone,
        "orgs": org_names,
        "playbooks": playbook_names,
        "weeks": weeks,
        "acu_price": price,
        "org_id": org_id,
        "demo": demo,
        "base_url": base_url,
        "cache": cache,
        "cache_dir": None if cache_dir is None else str(cache_dir),
        "store": store,
    }
    notebook = _execute(parameters, demo=demo)
    body = _export(notebook, week_title(week, zone))
    _refuse_secrets(body)
    _write_private(path, body)
    return path


def _execute(parameters: Mapping[str, Any], *, demo: bool) -> Any:
    """Run the report notebook with papermill; map a failing cell to our errors."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    try:
        return papermill.execute_notebook(
            str(REPORT_NOTEBOOK),
            None,
            parameters=dict(parameters),
            kernel_name=KERNEL_NAME,
            progress_bar=False,
            log_output=False,
            request_save_on_cell_execute=False,
            start_timeout=KERNEL_START_TIMEOUT,
            execution_timeout=CELL_TIMEOUT,
            kernel_manager_class=_kernel_manager_class(_kernel_env(demo)),
            # the kernel logs its shutdown interrupt as an error: keep the terminal quiet
            extra_arguments=[f"--IPKernelApp.log_level={KERNEL_LOG_LEVEL}"],
        )
    except PapermillExecutionError as error:
        raise _mapped(str(error.ename), str(error.evalue), int(error.exec_count or 0)) from None


def _mapped(name: str, message: str, cell: int) -> MetricsError:
    """The error a failed report cell stands for: ours when it was one of ours."""
    if name == "InvalidParameterError":
        parameter, _, detail = message.partition(": ")
        return InvalidParameterError(parameter, detail or message)
    if name == "InsecureTransportError":
        return InsecureTransportError(message)
    known = getattr(errors, name, None)
    kept = {"error_name": name, "error_value": message}
    if isinstance(known, type) and issubclass(known, MetricsError):
        return ReportExecutionError(f"{name}: {message}", **kept)
    return ReportExecutionError(
        f"the report notebook failed in cell {cell}: {name}: {message}", **kept
    )


def _export(notebook: Any, title: str) -> str:
    """The executed notebook as HTML: no input, no prompts, no stderr, no cell tagged
    ``report-hide``, nothing remote."""
    import jinja2
    from nbconvert import HTMLExporter

    notebook.cells = [
        cell
        for cell in notebook.cells
        if HIDDEN_TAG not in cell.get("metadata", {}).get("tags", [])
    ]
    for cell in notebook.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = [
                output
                for output in cell.get("outputs", [])
                if not (output.get("output_type") == "stream" and output.get("name") == "stderr")
            ]
    _describe_images(notebook, title)
    notebook.metadata["title"] = title
    notebook.metadata.pop("widgets", None)
    exporter = HTMLExporter(  # type: ignore[no-untyped-call]
        extra_loaders=[jinja2.DictLoader({TEMPLATE_NAME: OFFLINE_TEMPLATE})],
        template_file=TEMPLATE_NAME,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": title}})
    # the exporter writes attributes in alphabetical order: put the image's source first
    body = re.sub(r'<img alt="([^"]*)" src="(data:image/[^"]*)"', r'<img src="\2" alt="\1"', body)
    found = REMOTE_RESOURCE.search(body)
    if found:
        raise ReportExecutionError(
            f"the exported report would load {body[found.start() : found.end() + 60]!r} from the "
            "network; refusing to write it"
        )
    return str(body)


def _describe_images(notebook: Any, title: str) -> None:
    """Give each chart an alternative text: the headings of the section it is in, below the
    title (``"Chart: Merged-PR rate: By size"``), numbered when one section holds several."""
    headings: dict[int, str] = {1: title}
    used: dict[str, int] = {}

    def enter(level: int, text: str) -> None:
        for deeper in [key for key in headings if key >= level]:
            del headings[deeper]
        headings[level] = text

    for cell in notebook.cells:
        if cell.get("cell_type") == "markdown":
            for found in re.finditer(r"^(#{1,6})\s*(.+?)\s*$", cell.get("source", ""), re.M):
                enter(len(found.group(1)), found.group(2))
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            markup = str(data.get("text/html", ""))
            for found in re.finditer(r"<h([1-6])[^>]*>(.*?)</h\1>", markup, re.S):
                enter(int(found.group(1)), plain_text(found.group(2)))
            if "image/png" in data:
                section = ": ".join(text for level, text in sorted(headings.items()) if level > 1)
                where = section or title
                used[where] = used.get(where, 0) + 1
                number = f" ({used[where]})" if used[where] > 1 else ""
                output.setdefault("metadata", {})["alt"] = f"Chart: {where}{number}"


def _refuse_secrets(body: str) -> None:
    token = os.environ.get(ENV_API_KEY)
    if token and token in body:
        raise ReportExecutionError("the report contains the API token; refusing to write it")


def _write_private(path: Path, body: str) -> None:
    """Write the report owner-only (it holds account data)."""
    write_private(path, body)
