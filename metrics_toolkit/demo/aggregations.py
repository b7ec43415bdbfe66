"""The metrics of the simulator, aggregated with numpy over the logs of a `DemoEnterprise`.

Both logs are sorted by creation time, so a window is a slice found by binary search; filters
are lookup tables over entity indices; every count of the sessions endpoint comes out of one
`numpy.bincount`. Everything is computed as of a clock `now`: what was created at or after it
does not exist yet, merges after it are not visible yet, and a session's ACUs are the part it
had consumed by then. Timestamps are Unix seconds, UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

from metrics_toolkit.demo.enterprise import DemoEnterprise
from metrics_toolkit.demo.protocol import JsonObject, clip_int64
from metrics_toolkit.demo.rhythm import FloatArray, IntArray
from metrics_toolkit.demo.sessions import MAX_DURATION_SECONDS, NO_INDEX, ORIGINS, SIZES

__all__ = ["MetricsAggregator", "created_window", "lookup_mask"]

_CODE_SHAPE: Final = (len(SIZES), len(ORIGINS), 2, 2, 2)
_N_CODES: Final = len(SIZES) * len(ORIGINS) * 2 * 2 * 2

Mask = npt.NDArray[np.bool_]
Rows = slice | IntArray
"""Rows of the session log: a window (slice) or positions (int array)."""


class MetricsAggregator:
    """Indexes over the logs of `enterprise`, built once, answering metrics for any `now`.

    Parameters
    ----------
    enterprise : DemoEnterprise
        The logs to aggregate; never modified.
    """

    def __init__(self, enterprise: DemoEnterprise) -> None:
        self.enterprise = enterprise
        self.user_positions = {user.user_id: i for i, user in enumerate(enterprise.users)}
        self.service_user_positions = {
            su.service_user_id: i for i, su in enumerate(enterprise.service_users)
        }
        self.org_positions = {o.org_id: i for i, o in enumerate(enterprise.organizations)}
        self.playbook_positions = {p.playbook_id: i for i, p in enumerate(enterprise.playbooks)}
        log = enterprise.sessions
        self.acus_per_second = log.acus / (log.acus_done_at - log.created_at)
        # One code per session for what is fixed at creation: size, origin, playbook, search.
        self._creation_code = (
            (log.size_code.astype(np.intp) * len(ORIGINS) + log.origin_code) * 2
            + (log.playbook_index != NO_INDEX)
        ) * 2 + log.used_search

    # -- sessions ----------------------------------------------------------------------------

    def session_metrics(
        self,
        now: int,
        time_after: int,
        time_before: int,
        *,
        user_ids: Iterable[str] | None = None,
        service_user_ids: Iterable[str] | None = None,
        org_ids: Iterable[str] | None = None,
        playbook_id: str | None = None,
    ) -> JsonObject:
        """The ``SessionMetricsResponse`` of [time_after, time_before) as of `now`.

        See `DemoAPI.session_metrics` for the parameters; every time is Unix seconds.
        """
        log = self.enterprise.sessions
        window = created_window(log.created_at, now, time_after, time_before)
        mask = self.session_mask(window, user_ids, service_user_ids, org_ids, playbook_id)
        codes = self._creation_code[window] * 2 + (log.merged_at[window] <= now)
        if mask is not None:
            codes = codes[mask]
        # histogram[size, origin, with_playbook, with_search, merged]: every count at once.
        histogram = np.bincount(codes, minlength=_N_CODES).reshape(_CODE_SHAPE)
        created_count = int(codes.shape[0])
        acus = self._consumed_acus(now, window, mask) if created_count else 0.0
        return {
            "sessions_created_count": created_count,
            "sessions_created_by_size": _counts(SIZES, histogram.sum(axis=(1, 2, 3, 4))),
            "sessions_created_by_origin": _counts(ORIGINS, histogram.sum(axis=(0, 2, 3, 4))),
            "sessions_created_with_playbook_count": int(histogram[:, :, 1].sum()),
            "sessions_created_with_search_count": int(histogram[:, :, :, 1].sum()),
            "sessions_with_merged_prs_count": int(histogram[..., 1].sum()),
            "sessions_with_merged_prs_by_size": _counts(
                SIZES, histogram[..., 1].sum(axis=(1, 2, 3))
            ),
            "avg_acus_per_session": acus / created_count if created_count else 0.0,
        }

    def _consumed_acus(self, now: int, window: slice, mask: Mask | None) -> float:
        """ACUs consumed by `now` by the sessions of `window` (and `mask`).

        Sessions created more than `MAX_DURATION_SECONDS` (the longest a session runs) before
        `now` have finished: they count in full. Only the ones after consume linearly up to
        `acus_done_at`. The split depends on `now` alone, so a log that runs on past `now`
        gives the very same sums as one that ends there.
        """
        log = self.enterprise.sessions
        settled = int(np.searchsorted(log.created_at, now - MAX_DURATION_SECONDS, "left"))
        split = min(max(settled, window.start), window.stop)
        finished = log.acus[window.start : split]
        running = slice(split, window.stop)
        consumed = np.minimum(
            log.acus[running], (now - log.created_at[running]) * self.acus_per_second[running]
        )
        if mask is None:
            return float(finished.sum() + consumed.sum())
        cut = split - window.start
        return float(finished[mask[:cut]].sum() + consumed[mask[cut:]].sum())

    def consumed_acus(self, now: int, rows: Rows) -> FloatArray:
        """ACUs each session of `rows` had consumed by `now` (linear over its run, >= 0)."""
        log = self.enterprise.sessions
        elapsed = np.maximum(now - log.created_at[rows], 0)
        consumed: FloatArray = np.minimum(log.acus[rows], elapsed * self.acus_per_second[rows])
        return consumed

    def session_mask(
        self,
        rows: Rows,
        user_ids: Iterable[str] | None,
        service_user_ids: Iterable[str] | None,
        org_ids: Iterable[str] | None,
        playbook_id: str | None,
    ) -> Mask | None:
        """Which sessions of `rows` match every filter given (None: no filter at all).

        Filters take ids: None means no filter, an empty list or unknown ids match nothing.
        """
        log = self.enterprise.sessions
        mask: Mask | None = None
        filters = (
            (user_ids, log.user_index, self.user_positions),
            (service_user_ids, log.service_user_index, self.service_user_positions),
            (org_ids, log.org_index, self.org_positions),
            (
                None if playbook_id is None else [playbook_id],
                log.playbook_index,
                self.playbook_positions,
            ),
        )
        for ids, values, positions in filters:
            if ids is None:
                continue
            matches = lookup_mask(ids, positions)[values[rows]]
            mask = matches if mask is None else mask & matches
        return mask

    # -- searches ----------------------------------------------------------------------------

    def search_metrics(
        self, now: int, time_after: int, time_before: int, *, org_ids: Iterable[str] | None = None
    ) -> JsonObject:
        """The ``SearchMetricsResponse`` of [time_after, time_before) as of `now`.

        See `DemoAPI.search_metrics` for the parameters; every time is Unix seconds.
        """
        log = self.enterprise.searches
        window = created_window(log.created_at, now, time_after, time_before)
        if org_ids is None:
            count = window.stop - window.start
        else:
            count = int(lookup_mask(org_ids, self.org_positions)[log.org_index[window]].sum())
        return {"searches_created_count": count}


def created_window(created_at: IntArray, now: int, time_after: int, time_before: int) -> slice:
    """The rows of a log sorted by `created_at` created in [time_after, min(time_before, now))."""
    low = int(np.searchsorted(created_at, clip_int64(time_after), side="left"))
    high = int(np.searchsorted(created_at, clip_int64(min(time_before, now)), "left"))
    return slice(low, max(low, high))


def lookup_mask(ids: Iterable[str], positions: Mapping[str, int]) -> Mask:
    """True at the index of each known id of `ids`.

    One slot more than there are entities: the last one stands for `NO_INDEX` (-1) and stays
    False, so indexing the table with an index column gives the mask of the rows matching.
    """
    wanted = np.zeros(len(positions) + 1, dtype=np.bool_)
    wanted[[positions[i] for i in ids if i in positions]] = True
    return wanted


def _counts(names: Sequence[str], counts: npt.NDArray[np.intp]) -> dict[str, int]:
    return {name: int(count) for name, count in zip(names, counts, strict=False)}
