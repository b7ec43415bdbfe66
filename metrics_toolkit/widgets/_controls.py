"""The panel's controls: built and laid out, set from a :class:`PanelQuery` and read back.

Nothing here fetches or reacts to a change: :class:`~metrics_toolkit.widgets.MetricsPanel`
wires these controls to what they do.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from .._vocabulary import KINDS, Kind
from ..directory import Directory
from ..errors import InvalidParameterError
from ..params import check_timezone
from . import _render
from ._charts import CHARTS
from ._metrics import DEFAULT_METRIC, METRIC_CHOICES, breakdown_reason, filter_reason
from ._query import FREQUENCIES, PanelQuery, make_query, required_date

__all__ = ["BREAKDOWN_LABELS", "COMMON_TIME_ZONES", "PanelControls"]

#: Breakdown kinds and their labels in the panel (None: no breakdown).
BREAKDOWN_LABELS: dict[str | None, str] = {
    None: "none",
    **{name: kind.label for name, kind in KINDS.items()},
}
#: Time zones offered in the time-zone box (any other IANA name may be typed).
COMMON_TIME_ZONES = (
    "UTC",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Kyiv",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
)
#: The value of "none" (breakdown) and "any" (playbook) in the menus: a dropdown's None is
#: "nothing selected" to ipywidgets.
NO_CHOICE = ""
#: The kinds filtered by a list of ids (a list box and a text box each), in menu order.
LIST_FILTERS = tuple(kind for kind in KINDS.values() if not kind.single)
#: The kind filtered by a menu of one id.
PLAYBOOK = KINDS["playbook"]
#: Rows shown by each filter list.
FILTER_ROWS = 6
#: Separators of the typed ids or names.
TYPED_SEPARATORS = re.compile(r"[,;\n]+")
#: Width of the labels in front of the controls, and the controls' widths.
LABEL_STYLE = {"description_width": "76px"}
NARROW, MEDIUM, WIDE = "232px", "300px", "464px"


class PanelControls:
    """The panel's controls and outputs, laid out; set from a query and read back as one.

    Parameters
    ----------
    directory : Directory or None
        Names for the filter lists and the playbook menu (the lists are empty without one,
        and typed values are taken as ids).

    Attributes
    ----------
    metric_menu, start_picker, end_picker, freq_buttons, tz_box, breakdown, playbook_menu,
    chart_menu
        The choices, one control each. A filter, breakdown or chart the chosen metric does
        not take is disabled (or left out of the menu), its tooltip saying why.
    selectors, typed : dict
        By filter (``"org_ids"``, ``"user_ids"``, ``"service_user_ids"``): the list of names
        and the box for typed ids or names.
    apply_button, export_button, progress, pending_hint, tz_hint
        The buttons and what shows next to them.
    status, problems, download_link, chart_output, table_output
        What the panel shows below them.
    widget : ipywidgets.VBox
        All of them, laid out.
    """

    def __init__(self, directory: Directory | None) -> None:
        self.directory = directory
        self._ids: tuple[str, ...] | None = None
        metrics = [(choice.label, key) for key, choice in METRIC_CHOICES.items()]
        self.metric_menu = _control(
            widgets.ToggleButtons,
            "mt-metric",
            {"width": "auto"},
            options=metrics,
            value=DEFAULT_METRIC,
            description="Metric",
            style={"button_width": "110px", "description_width": LABEL_STYLE["description_width"]},
            tooltip="What to look at; Apply fetches it",
        )
        self.start_picker = _labelled(widgets.DatePicker, "mt-start", "From", NARROW)
        self.end_picker = _labelled(
            widgets.DatePicker,
            "mt-end",
            "Last day",
            NARROW,
            tooltip="included: data to the end of this day (for the same range, the command "
            "line's --end is the next day, which it does not include)",
        )
        self.freq_buttons = _control(
            widgets.ToggleButtons,
            "mt-freq",
            {"width": "auto"},
            options=[(name, name) for name in FREQUENCIES],
            style={"button_width": "70px"},
        )
        self.tz_box = _labelled(
            widgets.Combobox,
            "mt-tz",
            "Time zone",
            WIDE,
            options=list(COMMON_TIME_ZONES),
            ensure_option=False,
            continuous_update=False,
            placeholder="an IANA name, e.g. Europe/Berlin",
        )
        self.tz_hint = widgets.HTML()
        self.breakdown = _menu("mt-breakdown", "Breakdown", _breakdowns(DEFAULT_METRIC), MEDIUM)
        charts = [(spec.label, key) for key, spec in CHARTS.items()]
        self.chart_menu = _menu("mt-chart-menu", "Chart", charts, MEDIUM)
        playbooks = [("any", NO_CHOICE), *_choices(self.directory, PLAYBOOK)]
        self.playbook_menu = _menu("mt-playbook", PLAYBOOK.noun, playbooks, WIDE)
        self.selectors: dict[str, widgets.SelectMultiple] = {}
        self.typed: dict[str, widgets.Text] = {}
        for kind in LIST_FILTERS:
            css = "mt-" + kind.filter_param.replace("_", "-")
            self.selectors[kind.filter_param] = _control(
                widgets.SelectMultiple,
                css,
                {"width": "auto"},
                options=_choices(self.directory, kind),
                rows=FILTER_ROWS,
            )
            self.typed[kind.filter_param] = _control(
                widgets.Text,
                f"{css}-typed",
                {"width": "auto"},
                placeholder="or type ids / names, comma-separated",
                continuous_update=False,
            )
        self.apply_button = _control(
            widgets.Button,
            "mt-apply",
            description="Apply",
            button_style="primary",
            icon="refresh",
            tooltip="Fetch the metrics for these choices",
        )
        self.export_button = _control(
            widgets.Button,
            "mt-export",
            description="Export CSV",
            icon="download",
            disabled=True,
            tooltip="Write the current result (every column) as CSV and offer a download",
        )
        self.progress = _control(
            widgets.IntProgress, "mt-progress", {"width": "260px"}, max=1, description="Progress"
        )
        self.pending_hint = widgets.HTML()
        self.status = _control(
            widgets.HTML, "mt-status", value=_render.status_html(_render.Status())
        )
        self.problems = _control(widgets.HTML, "mt-problems")
        self.download_link = _control(widgets.HTML, "mt-download")
        self.chart_output = _control(widgets.Output, "mt-chart", {"min_height": "120px"})
        self.table_output = _control(
            widgets.Output, "mt-table", {"max_height": "320px", "overflow": "auto"}
        )
        self.widget = _arrange(self)

    @property
    def query(self) -> PanelQuery:
        """The current choices, names resolved to ids.

        Setting it moves the controls (ids the directory knows are selected by name, others
        are typed), and fetches nothing.

        Raises
        ------
        InvalidParameterError
            When a choice is invalid (an unknown time zone, an empty date, a typed name the
            directory does not know, ...), naming the choice.
        """
        metric = self.metric_menu.value
        filters = {
            kind.filter_param: self._filter_ids(kind)
            for kind in LIST_FILTERS
            if filter_reason(metric, kind.filter_param) is None  # a disabled filter is off
        }
        playbook = filter_reason(metric, PLAYBOOK.filter_param) is None
        by = self.breakdown.value or None
        return make_query(
            metric=metric,
            start=required_date(self.start_picker.value, "start"),
            end=required_date(self.end_picker.value, "end"),
            freq=self.freq_buttons.value,
            tz=(self.tz_box.value or "").strip(),
            by=by,
            ids=self._ids if by is not None else None,
            playbook_id=(self.playbook_menu.value or None) if playbook else None,
            chart=self.chart_menu.value,
            **filters,
        )

    @query.setter
    def query(self, query: PanelQuery) -> None:
        self.metric_menu.value = query.metric
        self._limit_to_metric()
        self.start_picker.value = query.start
        self.end_picker.value = query.end
        self.freq_buttons.value = query.freq
        self.tz_box.value = query.tz
        self.breakdown.value = query.by or NO_CHOICE
        self._ids = query.ids
        self.chart_menu.value = query.chart
        for name, selector in self.selectors.items():
            ids = getattr(query, name) or ()
            known = {value for _, value in selector.options}
            selector.value = tuple(i for i in ids if i in known)
            self.typed[name].value = ", ".join(i for i in ids if i not in known)
        playbook = query.playbook_id
        if playbook is not None and playbook not in {v for _, v in self.playbook_menu.options}:
            self.playbook_menu.options = [*self.playbook_menu.options, (playbook, playbook)]
        self.playbook_menu.value = playbook or NO_CHOICE

    def _filter_ids(self, kind: Kind) -> tuple[str, ...] | None:
        """The selected ids, then the typed ones resolved; None when there are none."""
        chosen = list(self.selectors[kind.filter_param].value)
        for value in TYPED_SEPARATORS.split(self.typed[kind.filter_param].value or ""):
            if value.strip():
                chosen.append(_typed_id(self.directory, kind, value.strip()))
        return tuple(dict.fromkeys(chosen)) or None

    def _check_tz(self) -> None:
        try:
            check_timezone((self.tz_box.value or "").strip())
        except InvalidParameterError as error:
            self.tz_hint.value = _render.hint_html(str(error).split(": ", 1)[-1])
        else:
            self.tz_hint.value = ""

    def _limit_to_metric(self) -> None:
        """Disable what the chosen metric's endpoint does not take, each tooltip saying why;
        the breakdown menu lists only the kinds it can be broken down by."""
        metric = self.metric_menu.value
        for kind in KINDS.values():
            reason = filter_reason(metric, kind.filter_param)
            if kind.single:
                controls = [self.playbook_menu]
            else:
                controls = [self.selectors[kind.filter_param], self.typed[kind.filter_param]]
            for control in controls:
                control.disabled = reason is not None
                control.tooltip = reason
        options = _breakdowns(metric)
        if list(self.breakdown.options) != options:
            kept = self.breakdown.value if self.breakdown.value in dict(options).values() else ""
            self.breakdown.options = options
            self.breakdown.value = kept
        self.breakdown.disabled = len(options) == 1
        self.breakdown.tooltip = breakdown_reason(metric)
        sessions = metric == DEFAULT_METRIC
        self.chart_menu.disabled = not sessions
        self.chart_menu.tooltip = None if sessions else CHART_OF_SESSIONS
        billing = metric == BILLING_METRIC
        self.tz_box.disabled = self.freq_buttons.disabled = billing
        self.tz_box.tooltip = self.freq_buttons.tooltip = BILLING_DAYS if billing else None

    def _forget_ids(self) -> None:
        """A breakdown chosen in the panel takes its groups from the filters, not from code."""
        self._ids = None


#: The metric measured in billing days, whatever the time zone and frequency.
BILLING_METRIC = "consumption"
#: Why the time zone and frequency are off for it.
BILLING_DAYS = (
    "consumption comes per billing day (08:00 UTC to 08:00 UTC): no time zone or frequency; "
    "the days are read in UTC"
)
#: Why the chart menu is off for the other metrics.
CHART_OF_SESSIONS = "these charts are of sessions; the other metrics have one chart each"


def _breakdowns(metric: str) -> list[tuple[str, str]]:
    """The breakdown menu's (label, value) pairs for a metric: "none", then its kinds."""
    kinds = METRIC_CHOICES[metric].kinds
    return [
        (label, kind or NO_CHOICE)
        for kind, label in BREAKDOWN_LABELS.items()
        if kind is None or kind in kinds
    ]


# -- building -----------------------------------------------------------------------------------


def _control(cls: Callable[..., Any], css: str, layout: Any = None, **options: Any) -> Any:
    """A widget of class ``cls`` with the CSS class ``css`` (tests and scripts find it by that).

    ``layout`` (a dict) becomes its :class:`ipywidgets.Layout`; ``options`` go to ``cls``.
    """
    if layout is not None:
        options["layout"] = widgets.Layout(**layout)
    control = cls(**options)
    control.add_class(css)
    return control


def _labelled(
    cls: Callable[..., Any], css: str, description: str, width: str, **options: Any
) -> Any:
    """A control with a description in front, as wide as the others' (``width`` in all)."""
    return _control(
        cls, css, {"width": width}, description=description, style=LABEL_STYLE, **options
    )


def _menu(css: str, description: str, options: list[tuple[str, str]], width: str) -> Any:
    return _labelled(widgets.Dropdown, css, description, width, options=options)


def _arrange(panel: PanelControls) -> widgets.VBox:
    """Lay the panel's controls out: choices, filters, buttons, messages, chart, table."""
    row = widgets.Layout(flex_flow="row wrap", align_items="center")
    label = widgets.HTML(_render.FREQUENCY_LABEL, layout=widgets.Layout(width="84px"))
    choices = widgets.VBox(
        [
            panel.metric_menu,
            widgets.HBox(
                [panel.start_picker, panel.end_picker, label, panel.freq_buttons], layout=row
            ),
            widgets.HBox([panel.tz_box, panel.breakdown, panel.tz_hint], layout=row),
            widgets.HBox([panel.playbook_menu, panel.chart_menu], layout=row),
        ]
    )
    columns = [
        widgets.VBox(
            [
                widgets.HTML(_render.filter_heading(kind)),
                panel.selectors[kind.filter_param],
                panel.typed[kind.filter_param],
            ],
            layout=widgets.Layout(flex="1 1 0", min_width="0"),
        )
        for kind in LIST_FILTERS
    ]
    buttons = widgets.HBox(
        [panel.apply_button, panel.progress, panel.export_button, panel.pending_hint],
        layout=widgets.Layout(align_items="center", grid_gap="12px"),
    )
    whole = widgets.VBox(
        [
            choices,
            widgets.HBox(columns, layout=widgets.Layout(width="100%", grid_gap="8px")),
            buttons,
            panel.status,
            panel.problems,
            panel.download_link,
            panel.chart_output,
            panel.table_output,
        ],
        layout=widgets.Layout(width="100%", max_width="1040px", grid_gap="8px"),
    )
    whole.add_class("mt-panel")
    return whole


def _choices(directory: Directory | None, kind: Kind) -> list[tuple[str, str]]:
    """(label, id) pairs of a kind, sorted by label; repeated names get their id."""
    if directory is None:
        return []
    names = directory.names(kind.name)
    counts: dict[str, int] = {}
    for name in names.values():
        counts[name.casefold()] = counts.get(name.casefold(), 0) + 1
    pairs = [
        (name if counts[name.casefold()] == 1 else f"{name} ({entry_id})", entry_id)
        for entry_id, name in names.items()
    ]
    return sorted(pairs, key=lambda pair: pair[0].casefold())


def _typed_id(directory: Directory | None, kind: Kind, value: str) -> str:
    """The id of a typed id or name; an unknown value that looks like an id is kept (a deleted
    user), and Apply sends it so."""
    if directory is None:
        return value
    resolved = directory.resolve_names(
        kind.name, [value], allow_unknown_ids=True, parameter=kind.filter_param
    )
    return resolved[0]
