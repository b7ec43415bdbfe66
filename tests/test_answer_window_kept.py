"""An answer's window is noted beside its fields, and reading answers sets up nothing else."""

from __future__ import annotations

import copy
import pickle

import pytest

from metrics_toolkit.models import MetricsAnswer, SearchMetrics, SessionMetrics
from metrics_toolkit.models.activity import ActiveUserMetrics

DAY = 86_400
WINDOW = {"time_after": 1_764_547_200, "time_before": 1_764_547_200 + DAY}


def searches(count: int = 3) -> SearchMetrics:
    return SearchMetrics.model_validate_json(f'{{"searches_created_count": {count}}}')


@pytest.mark.parametrize("model", [SearchMetrics, SessionMetrics, ActiveUserMetrics])
def test_reading_an_answer_sets_up_no_private_state(model: type[MetricsAnswer]) -> None:
    assert model.__private_attributes__ == {}
    assert model.__pydantic_post_init__ is None  # nothing runs after each validation


def test_a_noted_window_is_kept_by_copies_and_pickles_and_ignored_by_equality() -> None:
    answer = searches()
    assert answer.window is None
    answer._note_window(WINDOW)
    assert answer.window is not None
    assert [bound.timestamp() for bound in answer.window] == [
        WINDOW["time_after"],
        WINDOW["time_before"],
    ]
    for kept in (
        copy.copy(answer),
        copy.deepcopy(answer),
        pickle.loads(pickle.dumps(answer)),
        answer.model_copy(),
        answer.model_copy(update={"searches_created_count": 4}),
    ):
        assert kept.window == answer.window
    assert answer == searches() and searches().window is None
    assert answer.model_dump() == {"searches_created_count": 3}
    answer._note_window({"time_after": "0", "time_before": 1})  # not a window: nothing noted
    assert answer.window is not None
    other = searches()
    other._note_window({**WINDOW, "time_before": WINDOW["time_before"] + DAY})
    assert other.window != answer.window and other == answer
