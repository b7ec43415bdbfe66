"""What changed: the week's largest moves against the week before, as sentences (pure).

Each candidate move (a count, a rate, an ACU amount; in total, per origin, per size and per
group) is scored in standard errors; those of at least :data:`NOTEWORTHY_Z` (ACUs: a change of
:data:`NOTEWORTHY_ACU_CHANGE`) become plain sentences such as ``"Slack sessions rose 18% (212 →
250)."``, largest first. A value that will still change (a merged-PR rate or an ACU amount of a
week that ended less than the settle period before the data was read) is followed by ``†``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .._constants import DEFAULT_SETTLE_PERIOD
from .._vocabulary import ACUS_TOTAL, AVERAGE, MERGE_RATE, origin_label, size_label
from ..labels import percent_text, provisional_value, rate_text
from ..params import check_duration, check_positive_int
from ..summaries import KPIS, frame_now, is_provisional
from .totals import (
    ACUS,
    MERGED,
    MIN_SESSIONS,
    ORIGIN_FIELD,
    PLAYBOOK,
    SESSIONS,
    SIZE_FIELD,
    breakdown_column,
    comparable,
    frame_tz,
    is_complete,
    ratio,
    totals_and_week,
)
from .weeks import shift_week, week_bounds

__all__ = [
    "MAX_CHANGES",
    "NOTEWORTHY_ACU_CHANGE",
    "NOTEWORTHY_RULE",
    "NOTEWORTHY_Z",
    "what_changed",
]

#: A move is listed in "what changed" when it is at least this many standard errors.
NOTEWORTHY_Z = 2.0
#: ACU totals and averages have no standard error here: listed from this relative change.
NOTEWORTHY_ACU_CHANGE = 0.10
#: Most sentences in "what changed".
MAX_CHANGES = 6
#: Which moves are listed, in words.
NOTEWORTHY_RULE = (
    f"counts and rates that moved by {NOTEWORTHY_Z:g} standard errors or more, ACUs by "
    f"{NOTEWORTHY_ACU_CHANGE:.0%} or more"
)


@dataclass(frozen=True)
class _Move:
    """One candidate sentence of "what changed" and how far it is beyond noise."""

    score: float
    sentence: str


def _direction(before: float, after: float) -> str:
    return "rose" if after > before else "fell"


def _count_move(subject: str, before: float, after: float, min_sessions: int) -> _Move | None:
    """Counts: z = (after - before) / sqrt(after + before) (two Poisson counts)."""
    if math.isnan(before) or math.isnan(after) or max(before, after) < min_sessions:
        return None
    if after == before:
        return None
    score = abs(after - before) / math.sqrt(after + before)
    verb = _direction(before, after)
    if before == 0:
        return _Move(score, f"{subject} {verb} from 0 to {after:,.0f}.")
    change = percent_text(abs(after - before) / before * 100)
    return _Move(score, f"{subject} {verb} {change} ({before:,.0f} → {after:,.0f}).")


def _rate_move(
    subject: str,
    counts: tuple[float, float, float, float],
    min_sessions: int,
    marks: tuple[bool, bool] = (False, False),
) -> _Move | None:
    """Rates: the two-proportion z with the pooled rate; both weeks need ``min_sessions``.

    ``marks`` flags the week before's and the week's rate provisional (``†``).
    """
    hits_before, total_before, hits_after, total_after = counts
    if any(math.isnan(v) for v in counts) or min(total_before, total_after) < max(min_sessions, 1):
        return None
    before = hits_before / total_before
    after = hits_after / total_after
    pooled = (hits_before + hits_after) / (total_before + total_after)
    error = math.sqrt(pooled * (1 - pooled) * (1 / total_before + 1 / total_after))
    if after == before or error == 0:
        return None
    points = abs(after - before) * 100
    verb = _direction(before, after)
    values = _values(rate_text(before), rate_text(after), marks)
    sentence = f"{subject} {verb} {points:.1f} points ({values})."
    return _Move(abs(after - before) / error, sentence)


def _values(before: str, after: str, marks: tuple[bool, bool]) -> str:
    """``"48.0% → 45.1%†"``: the two values, each marked when provisional."""
    return f"{provisional_value(before, marks[0])} → {provisional_value(after, marks[1])}"


def _amount_move(
    subject: str,
    before: float,
    after: float,
    decimals: int,
    marks: tuple[bool, bool] = (False, False),
) -> _Move | None:
    """ACUs: listed from a relative change of :data:`NOTEWORTHY_ACU_CHANGE`."""
    if math.isnan(before) or math.isnan(after) or before <= 0:
        return None
    relative = (after - before) / before
    if abs(relative) < NOTEWORTHY_ACU_CHANGE:
        return None
    score = NOTEWORTHY_Z * abs(relative) / NOTEWORTHY_ACU_CHANGE
    verb = _direction(before, after)
    values = _values(f"{before:,.{decimals}f}", f"{after:,.{decimals}f}", marks)
    return _Move(score, f"{subject} {verb} {percent_text(abs(relative) * 100)} ({values}).")


def _category_label(field_name: str, key: str) -> str:
    """An origin or size as a sentence names it: ``"Web app"``, ``"Size XL"``."""
    if field_name == ORIGIN_FIELD:
        return origin_label(key)
    return f"Size {size_label(key)}"


def what_changed(
    frame: pd.DataFrame,
    week: str,
    *,
    groups: pd.DataFrame | Sequence[pd.DataFrame] | None = None,
    limit: int = MAX_CHANGES,
    min_sessions: int = MIN_SESSIONS,
    provisional: bool | None = None,
    now: Any = None,
    settle_period: dt.timedelta = DEFAULT_SETTLE_PERIOD,
    extra: Sequence[tuple[float, str]] = (),
) -> list[str]:
    """The largest moves of ``week`` against the week before, as plain sentences.

    Candidates: sessions created (in total, per origin, per size and per group), the
    merged-PR rate and the playbook share (in total and the merged-PR rate per group), ACUs
    in total and per session. A count's move is measured in standard errors,
    ``(after - before) / sqrt(after + before)``; a rate's with the two-proportion z. Moves of
    at least 2 are listed, largest first; ACUs (no standard error available here) from a
    10% change. Counts below ``min_sessions`` in both weeks, and rates over fewer sessions
    in either week, are left out: their moves are noise.

    A merged-PR rate or ACU amount of a week that ended less than ``settle_period`` before
    ``now`` is provisional (PRs of its sessions still merge, long sessions still use ACUs)
    and followed by ``†`` (:data:`~metrics_toolkit.labels.PROVISIONAL_MARK`).

    Parameters
    ----------
    frame : pandas.DataFrame
        A weekly wide frame holding ``week`` and the week before (a breakdown frame is
        summed over its groups).
    week : str
        The ISO week, in the frame's time zone.
    groups : pandas.DataFrame or list of them, optional
        Weekly breakdown frames (by org, by playbook) for per-group sentences.
    limit : int, default 6
        Most sentences returned.
    min_sessions : int, default 30
    provisional : bool, optional
        Whether the two weeks' merged-PR rates and ACUs are provisional. Default: each week
        by itself, from ``now`` and ``settle_period``; True marks both weeks, False neither.
    now : pandas.Timestamp, datetime or str, optional
        When the data was read; default ``frame.attrs["now"]`` (set by every fetch), else the
        current time.
    settle_period : datetime.timedelta, default 14 days
        How long after a week ends its merged PRs and ACUs keep changing.
    extra : sequence of (float, str), optional
        More candidate moves, each its score (standard errors, or the ACU rule's equivalent)
        and its sentence: those of the metrics family
        (:meth:`~metrics_toolkit.report.family.FamilyReport.moves`).

    Returns
    -------
    list of str
        For example ``"Slack sessions rose 18% (212 → 250)."`` or ``"The merged-PR rate fell
        2.9 points (48.0% → 45.1%†)."``; one sentence saying that nothing moved that much
        when no move qualifies (:data:`NOTEWORTHY_RULE`), or that there is no comparison.

    Examples
    --------
    >>> what_changed(weekly, "2026-W47")  # doctest: +SKIP
    ['Web app sessions fell 31% (327 → 226).', 'Sessions created fell 13% (1,220 → 1,059).']
    """
    limit = check_positive_int(limit, "limit")
    min_sessions = check_positive_int(min_sessions, "min_sessions", minimum=0)
    totals, position, start = totals_and_week(frame, week)
    if not comparable(totals, position - 1, position, start):
        return [f"No comparison: the week before {week} is missing or incomplete."]
    before, after = totals.iloc[position - 1], totals.iloc[position]
    if provisional is None:
        read_at = frame_now(frame, now)
        settle_period = check_duration(settle_period, "settle_period")
        weeks = (
            is_provisional(before["bucket_end"], read_at, settle_period),
            is_provisional(after["bucket_end"], read_at, settle_period),
        )
    else:
        weeks = (bool(provisional), bool(provisional))
    marks = {metric: weeks if kpi.settles else (False, False) for metric, kpi in KPIS.items()}
    moves: list[_Move | None] = [
        _count_move("Sessions created", before[SESSIONS], after[SESSIONS], min_sessions)
    ]
    for field_name in (ORIGIN_FIELD, SIZE_FIELD):
        for column in [c for c in totals.columns if c.startswith(field_name + ".")]:
            key = column.removeprefix(field_name + ".")
            subject = f"{_category_label(field_name, key)} sessions"
            moves.append(_count_move(subject, before[column], after[column], min_sessions))
    moves.append(
        _rate_move(
            "The merged-PR rate",
            (before[MERGED], before[SESSIONS], after[MERGED], after[SESSIONS]),
            min_sessions,
            marks[MERGE_RATE],
        )
    )
    if PLAYBOOK in totals.columns:
        moves.append(
            _rate_move(
                "The playbook share",
                (before[PLAYBOOK], before[SESSIONS], after[PLAYBOOK], after[SESSIONS]),
                min_sessions,
            )
        )
    moves.append(_amount_move("ACUs in total", before[ACUS], after[ACUS], 0, marks[ACUS_TOTAL]))
    moves.append(
        _amount_move(
            "ACUs per session",
            ratio(before[ACUS], before[SESSIONS]),
            ratio(after[ACUS], after[SESSIONS]),
            2,
            marks[AVERAGE],
        )
    )
    breakdowns = [] if groups is None else [groups] if isinstance(groups, pd.DataFrame) else groups
    for breakdown in breakdowns:
        moves.extend(_group_moves(breakdown, week, min_sessions, marks[MERGE_RATE]))
    moves.extend(_Move(float(score), str(sentence)) for score, sentence in extra)
    found = sorted(
        (m for m in moves if m is not None and m.score >= NOTEWORTHY_Z),
        key=lambda move: -move.score,
    )
    if not found:
        return [
            f"Nothing moved enough to list against {shift_week(week, -1)} "
            f"(listed: {NOTEWORTHY_RULE})."
        ]
    return [move.sentence for move in found[:limit]]


def _group_moves(
    groups: pd.DataFrame, week: str, min_sessions: int, marks: tuple[bool, bool]
) -> list[_Move | None]:
    group = breakdown_column(groups, "groups")
    tz = frame_tz(groups)
    kind = group.removesuffix("_id")
    start, _ = week_bounds(week, tz)
    previous_start, _ = week_bounds(shift_week(week, -1), tz)
    moves: list[_Move | None] = []
    for group_id, rows in groups.groupby(group, sort=False):
        this = rows[rows.index == start]
        prior = rows[rows.index == previous_start]
        if len(this) != 1 or len(prior) != 1:
            continue
        after, before = this.iloc[0], prior.iloc[0]
        if not (is_complete(after) and is_complete(before)):
            continue
        name = str(after.get(f"{kind}_name", group_id))
        subject = (
            f"Sessions with the playbook “{name}”" if kind == "playbook" else f"Sessions in {name}"
        )
        moves.append(
            _count_move(subject, float(before[SESSIONS]), float(after[SESSIONS]), min_sessions)
        )
        counts = (
            float(before[MERGED]),
            float(before[SESSIONS]),
            float(after[MERGED]),
            float(after[SESSIONS]),
        )
        rate_subject = (
            f"The merged-PR rate with “{name}”"
            if kind == "playbook"
            else f"The merged-PR rate in {name}"
        )
        moves.append(_rate_move(rate_subject, counts, min_sessions, marks))
    return moves
