"""The models of the rest of the metrics family: every body the compiled schema allows is read,
unknown fields are kept, counts are strict, fields the sources disagree on are optional, and an
answer is short in a notebook."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pydantic
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

import metrics_toolkit.models as models
from metrics_toolkit import _vocabulary as words
from metrics_toolkit.models import (
    ActiveUserMetrics,
    ActiveUserSeries,
    AcusByProduct,
    APIModel,
    CategoryMetrics,
    Consumption,
    ConsumptionByDate,
    ConsumptionCyclePage,
    PrMetrics,
    SearchMetrics,
    SessionMetrics,
    SessionsByCategory,
    SubcategoryMetrics,
    UsageMetrics,
)

SPEC = yaml.safe_load(
    (Path(__file__).parent / "data" / "metrics-family.openapi.yaml").read_text(encoding="utf-8")
)
COMPONENTS = SPEC["components"]
#: The compiled schema of each 200 body, and the model that reads it.
BODIES: dict[str, type[APIModel]] = {
    "SessionMetricsResponse": SessionMetrics,
    "PrMetricsResponse": PrMetrics,
    "UsageMetrics": UsageMetrics,
    "SearchMetricsResponse": SearchMetrics,
    "ActiveUserMetricsResponse": ActiveUserMetrics,
    "ActiveUserMetricsListResponse": ActiveUserSeries,
    "SessionsByCategoryResponse": SessionsByCategory,
    "ConsumptionResponse": Consumption,
    "PaginatedResponse_ConsumptionCycle_": ConsumptionCyclePage,
}
MONDAY = 1795392000  # 2026-11-23 00:00 UTC
DAY = 86_400
PR_BODY = {
    "prs_created_count": 10,
    "prs_opened_count": 2,
    "prs_merged_count": 7,
    "prs_closed_count": 1,
}


def closed_schema(name: str) -> dict[str, Any]:
    """The component ``name`` with the components beside it (for its $refs), every object that
    does not say what else it holds closed (unknown fields are tested on their own below)."""
    components = copy.deepcopy(COMPONENTS)
    for schema in components["schemas"].values():
        if schema.get("type") == "object" and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
    return {**components["schemas"][name], "components": components}


def test_every_body_the_family_answers_has_a_model() -> None:
    answered = {
        operation["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        for operation in SPEC["paths"].values()
    }
    assert {ref.rsplit("/", 1)[1] for ref in answered} == set(BODIES)


@pytest.mark.parametrize("name", sorted(BODIES))
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_every_body_the_schema_allows_is_read(name: str, data: st.DataObject) -> None:
    body = data.draw(from_schema(closed_schema(name)))
    answer = BODIES[name].model_validate_json(json.dumps(body))
    dumped = answer.model_dump(exclude_none=True)
    if isinstance(body, list):
        assert len(dumped["periods"]) == len(body)
    else:
        for key, value in body.items():  # every field sent is kept, with its value
            if value is not None and not isinstance(value, dict | list):
                assert dumped[key] == value, key


def test_fields_the_server_adds_are_kept_in_every_model() -> None:
    pr = PrMetrics.model_validate({**PR_BODY, "prs_reverted_count": 3})
    assert pr.model_extra == {"prs_reverted_count": 3}
    products = AcusByProduct.model_validate(
        {"devin": 1.0, "cascade": 0.0, "terminal": 0.0, "windsurf": 2.5}
    )
    assert products.model_extra == {"windsurf": 2.5}
    category = CategoryMetrics.model_validate(
        {"category": "Bug fix", "sessions_count": 1, "acus": 1.0, "subcategories": [], "rank": 1}
    )
    assert category.model_extra == {"rank": 1}
    usage = UsageMetrics.model_validate(
        {
            "sessions_count": 1,
            "searches_count": 2,
            "prs_created_count": 0,
            "prs_merged_count": 0,
            "prs_closed_count": 0,
        }
    )
    assert usage.model_extra == {"prs_closed_count": 0}


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (PrMetrics, {**PR_BODY, "prs_created_count": "10"}),
        (PrMetrics, {**PR_BODY, "prs_opened_count": True}),
        (ActiveUserMetrics, {"active_users": 4.0, "start_time": 0, "end_time": DAY}),
        (SubcategoryMetrics, {"display_name": "x", "sessions_count": "1", "acus": 0.0}),
        (ConsumptionByDate, {"date": "1795420800", "acus": 1.0}),
    ],
)
def test_counts_and_times_are_strict_integers(model: type[APIModel], body: dict[str, Any]) -> None:
    with pytest.raises(pydantic.ValidationError):
        model.model_validate_json(json.dumps(body))


def test_fields_the_sources_disagree_on_are_optional() -> None:
    pr = PrMetrics.model_validate(PR_BODY)  # the official SDK's four fields
    assert pr.prs_taken_over_count is None and pr.prs_taken_over_opened_count is None
    products = AcusByProduct.model_validate({"devin": 1.0, "cascade": 0.0, "terminal": 0.0})
    assert products.review is None
    oldest = ConsumptionByDate.model_validate({"date": MONDAY + 8 * 3600, "acus": 1.5})
    assert oldest.acus_by_product is None  # the oldest snapshot's rows
    unnamed = SubcategoryMetrics.model_validate(
        {"subcategory_id": None, "display_name": "Other", "sessions_count": 1, "acus": 0.5}
    )
    assert unnamed.subcategory_id is None


def test_a_dau_answer_is_a_bare_list_and_reads_both_ends() -> None:
    body = [
        {"active_users": 3, "start_time": MONDAY, "end_time": MONDAY + DAY},  # the next start
        {"active_users": 0, "start_time": MONDAY + DAY, "end_time": MONDAY + 2 * DAY - 1},  # :59
    ]
    series = ActiveUserSeries.model_validate_json(json.dumps(body))
    assert [period.period for period in series.periods] == [
        (MONDAY, MONDAY + DAY),
        (MONDAY + DAY, MONDAY + 2 * DAY),
    ]
    assert series.periods[1].end_time == MONDAY + 2 * DAY - 1  # the field as sent
    assert series.periods[1].window_text() == "[2026-11-24, 2026-11-25) UTC"
    again = ActiveUserSeries.model_validate(series.model_dump())  # a dump reads back
    assert again == series


def test_consumption_is_in_billing_days() -> None:
    start = MONDAY + words.BILLING_DAY_START  # 08:00 UTC
    rows = [
        {
            "date": start + day * DAY,
            "acus": 2.5,
            "acus_by_product": {"devin": 2.0, "cascade": 0.5, "terminal": 0.0, "review": 0.0},
        }
        for day in range(3)
    ]
    answer = Consumption.model_validate({"total_acus": 7.5, "consumption_by_date": rows})
    assert answer.window_text() == "[2026-11-23 08:00, 2026-11-26 08:00) UTC"
    first, end = answer.consumption_by_date[0].day
    assert (first.hour, int((end - first).total_seconds())) == (8, DAY)
    table = answer._repr_html_()
    assert "3 entries" in table and "7.50" in table
    empty = Consumption.model_validate({"total_acus": 0.0, "consumption_by_date": []})
    empty._note_window({"time_after": MONDAY, "time_before": MONDAY + DAY})
    assert empty.window_text() == "[2026-11-23, 2026-11-24) UTC"  # no day: the window asked


def test_product_labels_in_a_notebook_table() -> None:
    products = AcusByProduct.model_validate(
        {"devin": 1234.5, "cascade": 0.0, "terminal": 1.0, "new_tool": 2.0}
    )
    row = ConsumptionByDate.model_validate(
        {"date": MONDAY, "acus": 1237.5, "acus_by_product": products.model_dump()}
    )
    answer = Consumption.model_validate(
        {"total_acus": 1237.5, "consumption_by_date": [row.model_dump()]}
    )
    assert words.product_label("devin") == "Devin" and words.product_label("new_tool") == "New tool"
    assert "1 entry" in answer._repr_html_()


def test_window_totals_are_short_in_a_notebook() -> None:
    pr = PrMetrics.model_validate({**PR_BODY, "prs_taken_over_count": 1})
    pr._note_window({"time_after": MONDAY, "time_before": MONDAY + 7 * DAY})
    assert repr(pr) == (
        "PrMetrics(window=[2026-11-23, 2026-11-30) UTC, prs_created_count=10, "
        "prs_opened_count=2, prs_merged_count=7, prs_closed_count=1, prs_taken_over_count=1, "
        "prs_taken_over_opened_count=None, prs_taken_over_merged_count=None, "
        "prs_taken_over_closed_count=None)"
    )
    categories = SessionsByCategory.model_validate(
        {
            "categories": [
                {"category": "Bug fix", "sessions_count": 3, "acus": 4.0, "subcategories": []},
                {"category": "Tests", "sessions_count": 1, "acus": 1.0, "subcategories": []},
            ]
        }
    )
    assert repr(categories) == "SessionsByCategory(categories=<2 entries>)"
    assert "2 entries" in categories._repr_html_()
    active = ActiveUserMetrics.model_validate(
        {"active_users": 1234, "start_time": MONDAY, "end_time": MONDAY + 7 * DAY}
    )
    assert "1,234" in active._repr_html_() and "[2026-11-23, 2026-11-30) UTC" in repr(active)


def test_billing_cycles_page() -> None:
    page = ConsumptionCyclePage.model_validate(
        {
            "items": [{"after": MONDAY + 8 * 3600, "before": MONDAY + 8 * 3600 + 30 * DAY}],
            "has_next_page": False,
            "end_cursor": None,
        }
    )
    start, end = page.items[0].window
    assert (start.hour, (end - start).days) == (8, 30)


def test_every_model_is_importable_from_the_package_as_before() -> None:
    for name in models.__all__:
        value = getattr(models, name)
        module = getattr(value, "__module__", "")
        if isinstance(value, type) and module.startswith("metrics_toolkit.models."):
            assert getattr(__import__(module, fromlist=[name]), name) is value
    from metrics_toolkit.models import HTTPValidationError, Page, SessionCountsByOrigin

    assert SessionCountsByOrigin.entry_label is not None
    assert Page.__name__ == "Page" and HTTPValidationError().detail == []
