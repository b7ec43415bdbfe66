"""The wide frame reads plain answers from their models: the same frame as dumping each one.

:func:`metrics_toolkit.frames.wide_frame` skips ``model_dump`` for answers whose fields are
numbers, strings, None or the nested models they declare; every other answer is flattened.
Each test builds the frame both ways (the dump forced by a stand-in that reads nothing) and
asks for the same frame.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from pydantic import Field, computed_field, field_serializer

import metrics_toolkit as mt
from metrics_toolkit import frames
from metrics_toolkit.frames import Row
from metrics_toolkit.models import APIModel, SearchMetrics, SessionCountsBySize, SessionMetrics

NOW = "2026-11-25T03:00:00Z"


def payload(created: int, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sessions_created_count": created,
        "sessions_created_by_origin": {"slack": created // 2, "webapp": created - created // 2},
        "sessions_created_by_size": {"xs": created // 2, "xl": created - created // 2},
        "sessions_created_with_playbook_count": created // 3,
        "sessions_created_with_search_count": created // 4,
        "sessions_with_merged_prs_count": created // 5,
        "sessions_with_merged_prs_by_size": {"xs": created // 5},
        "avg_acus_per_session": created / 7,
    }
    body.update(extra)
    return body


def rows(*answers: APIModel | None) -> list[Row]:
    buckets = mt.time_buckets("2026-11-02", f"2026-11-{2 + len(answers):02d}", "day", now=NOW)
    return [
        Row(bucket, None, answer, None if answer is not None else "ServerError: HTTP 500")
        for bucket, answer in zip(buckets, answers, strict=True)
    ]


def both_ways(
    monkeypatch: pytest.MonkeyPatch, answers: list[APIModel | None], **kwargs: Any
) -> tuple[pd.DataFrame, pd.DataFrame]:
    read = mt.wide_frame(rows(*answers), **kwargs)
    with monkeypatch.context() as patch:
        patch.setattr(frames, "_read_columns", lambda answers: None)  # every answer dumped
        dumped = mt.wide_frame(rows(*answers), **kwargs)
    return read, dumped


def session(body: dict[str, Any]) -> SessionMetrics:
    return SessionMetrics.model_validate(body)


CASES: dict[str, list[APIModel | None]] = {
    "plain": [session(payload(10)), session(payload(3)), session(payload(0))],
    "a failed bucket": [session(payload(10)), None, session(payload(3))],
    "every bucket failed": [None, None],
    "an extra field in one answer": [session(payload(10)), session(payload(3, zeta=4))],
    "an extra field in every answer": [session(payload(10, zeta=1)), session(payload(3, zeta=2))],
    "a new origin in one answer": [
        session(payload(10)),
        session({**payload(3), "sessions_created_by_origin": {"github": 2, "slack": 1}}),
    ],
    "a nested extra field": [
        session(payload(10, new_counts={"a": 1, "b": 2})),
        session(payload(3)),
    ],
    "an extra list": [session(payload(10, items=[1, 2])), session(payload(3, items=[]))],
    "a float count": [session(payload(10, ratio=0.5)), session(payload(3, ratio=1))],
    "answers of two models": [
        session(payload(10)),
        SearchMetrics.model_validate({"searches_created_count": 4}),
    ],
    "a nested field left empty": [
        session(payload(10)),
        SessionMetrics.model_construct(
            **{**session(payload(3)).__dict__, "sessions_created_by_size": None}
        ),
    ],
}


def test_plain_answers_are_read_as_flatten_gives_them() -> None:
    answers: list[APIModel] = [session(payload(10)), session(payload(3))]
    columns = frames._read_columns(answers)
    assert columns is not None  # read from the models, not dumped
    flats = [frames.flatten(answer) for answer in answers]
    assert list(columns) == list(flats[0])
    assert columns == {name: [flat[name] for flat in flats] for name in flats[0]}
    assert frames._read_columns([*answers, session(payload(10, zeta=1))]) is None  # dumped


@pytest.mark.parametrize("case", CASES)
def test_the_frame_is_the_one_dumping_gives(monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    read, dumped = both_ways(monkeypatch, CASES[case])
    pd.testing.assert_frame_equal(read, dumped)


def test_an_answer_built_with_fields_in_another_order_lands_in_the_spec_columns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built = session(payload(10)).model_copy()
    object.__setattr__(built, "__dict__", dict(reversed(built.__dict__.items())))
    assert tuple(built.__dict__) != tuple(SessionMetrics.model_fields)
    read, dumped = both_ways(monkeypatch, [built, session(payload(3))])
    pd.testing.assert_frame_equal(read, dumped)
    assert read["sessions_created_count"].tolist() == [10, 3]


class BiggerSizes(SessionCountsBySize):
    """A subclass with one more field: dumped as the field's declared model, without it."""

    xxl: int = 7


def test_a_nested_model_of_a_subclass_is_dumped_as_declared(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plain = session(payload(10))
    fields = dict(plain.__dict__)
    fields["sessions_created_by_size"] = BiggerSizes(xs=1, xl=2)
    built = SessionMetrics.model_construct(**fields)
    read, dumped = both_ways(monkeypatch, [built, session(payload(3))])
    pd.testing.assert_frame_equal(read, dumped)


class Shaped(APIModel):
    """An answer whose dump is not what it holds: a computed, an excluded, a serialized field."""

    count: int
    hidden: int = Field(default=0, exclude=True)
    doubled: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def twice(self) -> int:
        return 2 * self.count

    @field_serializer("doubled")
    def _double(self, value: int) -> int:
        return 2 * value


class Outer(APIModel):
    """A nested answer whose nested model is :class:`Shaped`."""

    total: int
    inner: Shaped


def test_computed_excluded_and_serialized_fields_are_dumped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers: list[APIModel | None] = [
        Shaped(count=3, hidden=5, doubled=4),
        Shaped(count=1, hidden=2, doubled=1),
    ]
    read, dumped = both_ways(monkeypatch, answers, model=Shaped)
    pd.testing.assert_frame_equal(read, dumped)
    assert read["hidden"].isna().all()  # a known column, never filled by the dump
    assert read["twice"].tolist() == [6, 2] and read["doubled"].tolist() == [8, 2]
    nested: list[APIModel | None] = [
        Outer(total=1, inner=Shaped(count=3, hidden=5, doubled=4)),
        Outer(total=2, inner=Shaped(count=1)),
    ]
    read, dumped = both_ways(monkeypatch, nested, model=Outer)
    pd.testing.assert_frame_equal(read, dumped)
    assert read["inner.twice"].tolist() == [6, 2]
