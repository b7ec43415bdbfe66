"""The contract, both ways, from the published OpenAPI block (tests/data).

- Every body the spec's ``SessionMetricsResponse`` allows parses, and each of its values reaches
  the wide frame unchanged (unknown fields too); a body that breaks the schema is refused by
  the real client with a :class:`ResponseValidationError` naming the field.
- The demo server answers every request schemathesis makes from the same spec, valid or not,
  with a documented status and a body that matches the schema, and never with a 5xx.

Two assumptions narrow what is generated, both written down where they are made: unknown
origins and sizes are counts (integers), and numbers stay within I-JSON's interoperable range.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
import numpy as np
import pandas as pd
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

import metrics_toolkit as mt
from metrics_toolkit import frames
from metrics_toolkit.demo import DEMO_API_KEY, DemoAPI, DemoEnterprise, DemoServer

from ._reliability import SPEC_PATH, FixedAnswer, fixed_answer_client, spec_schema
from .conftest import NOW

#: The response schema exactly as published, ``$ref``s inlined.
RESPONSE_SCHEMA = spec_schema("SessionMetricsResponse")
VALIDATOR = jsonschema.Draft202012Validator(RESPONSE_SCHEMA)
REQUIRED: tuple[str, ...] = tuple(RESPONSE_SCHEMA["required"])
#: The nested count objects, and the keys the spec documents in each (each defaults to 0).
COUNT_MAPS: dict[str, tuple[str, ...]] = {
    name: tuple(prop["properties"])
    for name, prop in RESPONSE_SCHEMA["properties"].items()
    if prop.get("type") == "object"
}
INTEGER_FIELDS = tuple(
    name for name, prop in RESPONSE_SCHEMA["properties"].items() if prop.get("type") == "integer"
)
#: I-JSON (RFC 7493, section 2.2): integers beyond +-(2**53 - 1) are not interoperable.
IJSON_MAX = 2**53 - 1
#: Columns the frame itself owns: a server field of the same name would be shadowed.
FRAME_COLUMNS = {"bucket_start", *frames.ROW_COLUMNS}


def generation_schema() -> dict[str, Any]:
    """The published schema, narrowed by the toolkit's two assumptions.

    1. An origin or size the spec does not list yet is still a count: the nested objects'
       ``additionalProperties`` are integers (the spec leaves them open to any JSON value;
       :class:`~metrics_toolkit.models.SessionCountsByOrigin` keeps them as ``int``).
    2. Integers stay within I-JSON's range, so a column that mixes them with floats (a float
       column underneath) still holds each exactly.
    """
    schema = json.loads(json.dumps(RESPONSE_SCHEMA))

    def bound(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "integer":
                node.update(minimum=-IJSON_MAX, maximum=IJSON_MAX)
            for value in node.values():
                bound(value)
        elif isinstance(node, list):
            for value in node:
                bound(value)

    for name in COUNT_MAPS:
        schema["properties"][name]["additionalProperties"] = {"type": "integer"}
    bound(schema)
    return schema


def within_ijson(node: Any) -> Any:
    """The same JSON with every integer clamped to I-JSON's range (extra fields may hold any
    JSON value, so the schema cannot bound their integers)."""
    if isinstance(node, dict):
        return {key: within_ijson(value) for key, value in node.items()}
    if isinstance(node, list):
        return [within_ijson(value) for value in node]
    if isinstance(node, int) and not isinstance(node, bool):
        return max(-IJSON_MAX, min(IJSON_MAX, node))
    return node


VALID_BODIES = from_schema(generation_schema()).map(within_ijson)
PROPERTY_SETTINGS = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
BUCKETS = mt.time_buckets("2026-11-01", "2026-11-04", "day", now=NOW)


def cell_list(body: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(column, value) pairs the wide frame must show for one body, from the raw JSON.

    A documented count left out is 0 (the spec's default); a nested object spreads into
    ``<field>.<key>`` columns (an empty extra object adds none).
    """
    cells: list[tuple[str, Any]] = []
    for name, value in body.items():
        if isinstance(value, dict):
            defaults = dict.fromkeys(COUNT_MAPS.get(name, ()), 0)
            cells.extend((f"{name}.{key}", count) for key, count in {**defaults, **value}.items())
        else:
            cells.append((name, value))
    return cells


def expected_cells(body: Mapping[str, Any]) -> dict[str, Any]:
    return dict(cell_list(body))


def has_clash(body: Mapping[str, Any]) -> bool:
    """Whether an extra field's name collides with a column the frame owns or derives, or with
    another field's column (``"a.b"`` next to ``{"a": {"b": ...}}``)."""
    columns = [column for column, _ in cell_list(body)]
    owned = [c for c in columns if c in FRAME_COLUMNS or c.startswith(frames.DERIVED_PREFIXES)]
    return bool(owned) or len(set(columns)) != len(columns)


def same_value(shown: Any, sent: Any) -> bool:
    """The frame's cell holds exactly the value sent (a float field holds it as a float)."""
    if sent is None:
        return bool(pd.isna(shown))
    if isinstance(sent, bool):
        return isinstance(shown, bool | np.bool_) and bool(shown) is sent
    if isinstance(sent, int | float):
        return not isinstance(shown, bool | np.bool_) and shown == sent
    return bool(shown == sent)


@pytest.mark.slow
@PROPERTY_SETTINGS
@given(st.lists(VALID_BODIES, min_size=1, max_size=3))
def test_every_valid_body_parses_and_reaches_the_frame_unchanged(
    bodies: list[dict[str, Any]],
) -> None:
    assume(not any(has_clash(body) for body in bodies))
    rows = []
    for body, bucket in zip(bodies, BUCKETS[: len(bodies)], strict=True):
        VALIDATOR.validate(body)  # the generator honours the published schema
        metrics = mt.SessionMetrics.model_validate(body)
        assert mt.SessionMetrics.model_validate_json(json.dumps(body)) == metrics
        rows.append(frames.Row(bucket, None, metrics))
    frame = frames.wide_frame(rows)
    every_column = {column for body in bodies for column in expected_cells(body)}
    for position, body in enumerate(bodies):
        cells = expected_cells(body)
        for column, sent in cells.items():
            if column == frames.AVERAGE_COLUMN:
                sent = float(sent)
            shown = frame[column].iloc[position]
            assert same_value(shown, sent), (column, sent, shown)
        for column in every_column - set(cells):
            assert pd.isna(frame[column].iloc[position]), column  # absent: NA, never a fake 0


VALID_EXAMPLE: dict[str, Any] = {
    "sessions_created_count": 12,
    "sessions_created_by_size": {"xs": 4, "s": 3, "m": 3, "l": 1, "xl": 1},
    "sessions_created_by_origin": {"webapp": 7, "slack": 5},
    "sessions_created_with_playbook_count": 2,
    "sessions_created_with_search_count": 6,
    "sessions_with_merged_prs_count": 5,
    "sessions_with_merged_prs_by_size": {"xs": 2, "s": 2, "m": 1},
    "avg_acus_per_session": 2.5,
}


@pytest.mark.parametrize(
    "extra",
    [
        {"sessions_created_with_knowledge_count": 2**63},  # past int64: kept, not a crash
        {"sessions_created_with_knowledge_count": 2**70},
        {"acus_consumed_seconds": 1e20},  # a whole float past int64
        {"sessions_created_by_origin": {"github": 2**64 + 1}},
    ],
)
def test_numbers_past_64_bits_reach_the_frame_unchanged(extra: dict[str, Any]) -> None:
    body = {**VALID_EXAMPLE, **extra}
    frame = frames.wide_frame(
        [frames.Row(BUCKETS[0], None, mt.SessionMetrics.model_validate(body))]
    )
    for column, sent in expected_cells(extra).items():
        shown = frame[column].iloc[0]
        assert shown == sent and str(shown) == str(sent), (column, shown)  # not rounded


# -- bodies that break the schema, through the real client -------------------------------------

WRONG_FOR_INTEGER = st.one_of(
    st.text(max_size=8),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: not x.is_integer()),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
WRONG_FOR_NUMBER = st.one_of(
    st.text(max_size=8), st.booleans(), st.none(), st.lists(st.floats(), max_size=2)
)
WRONG_FOR_OBJECT = st.one_of(
    st.text(max_size=8), st.booleans(), st.none(), st.integers(), st.lists(st.integers())
)


@st.composite
def wrong_type(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """A valid body with one field's value replaced by a wrong type; and that field's path."""
    body = json.loads(json.dumps(draw(VALID_BODIES)))
    field = draw(
        st.sampled_from([*REQUIRED, *(f"{m}.{k}" for m, ks in COUNT_MAPS.items() for k in ks)])
    )
    if "." in field:
        name, key = field.split(".")
        body[name][key] = draw(WRONG_FOR_INTEGER)
    elif field in INTEGER_FIELDS:
        body[field] = draw(WRONG_FOR_INTEGER)
    elif field in COUNT_MAPS:
        body[field] = draw(WRONG_FOR_OBJECT)
    else:
        body[field] = draw(WRONG_FOR_NUMBER)
    return body, field


@pytest.fixture(scope="module")
def fixed() -> Iterator[tuple[FixedAnswer, mt.MetricsClient]]:
    adapter = FixedAnswer()
    with fixed_answer_client(adapter, max_retries=2, backoff=0.0) as client:
        yield adapter, client


def answer_with(
    fixed: tuple[FixedAnswer, mt.MetricsClient], body: bytes
) -> mt.ResponseValidationError:
    adapter, client = fixed
    adapter.body = body
    adapter.sent.clear()
    with pytest.raises(mt.ResponseValidationError) as caught:
        client.session_metrics("2026-11-02", "2026-11-09")
    return caught.value


@PROPERTY_SETTINGS
@given(wrong_type())
def test_a_wrong_type_is_refused_naming_the_field(
    fixed: tuple[FixedAnswer, mt.MetricsClient], case: tuple[dict[str, Any], str]
) -> None:
    body, field = case
    assert not VALIDATOR.is_valid(body)  # the spec refuses it too
    error = answer_with(fixed, json.dumps(body).encode())
    message = str(error)
    assert "does not match SessionMetrics" in message
    assert f"{field}: " in message, message
    assert len(fixed[0].sent) == 1  # a well-formed body that breaks the schema is not asked again
    assert error.status_code == 200 and "/v3/enterprise/metrics/sessions?" in error.url


@PROPERTY_SETTINGS
@given(VALID_BODIES, st.sampled_from(REQUIRED))
def test_a_missing_field_is_refused_naming_it(
    fixed: tuple[FixedAnswer, mt.MetricsClient], body: dict[str, Any], field: str
) -> None:
    del body[field]
    assert not VALIDATOR.is_valid(body)
    message = str(answer_with(fixed, json.dumps(body).encode()))
    assert f"{field}: Field required" in message, message
    assert len(fixed[0].sent) == 1


def is_json(data: bytes) -> bool:
    try:
        json.loads(data)
    except ValueError:
        return False
    return True


NOT_JSON = st.one_of(
    st.sampled_from(
        [b"", b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", b'{"sessions_cre']
    ),
    st.binary(max_size=40),
    st.text(max_size=40).map(str.encode),
).filter(lambda data: not is_json(data))


@PROPERTY_SETTINGS
@given(NOT_JSON)
def test_a_body_that_is_not_json_is_refused_after_asking_again(
    fixed: tuple[FixedAnswer, mt.MetricsClient], body: bytes
) -> None:
    error = answer_with(fixed, body)
    assert "the body is not valid JSON" in str(error)
    assert error.retryable and len(fixed[0].sent) == 3  # first try and max_retries=2
    assert error.body_excerpt == body.decode("utf-8", errors="replace")[:200]


@pytest.mark.parametrize("body", [b"null", b"[]", b"42", b'"sessions"', b"true"])
def test_json_that_is_not_an_object_is_refused_naming_the_body(
    fixed: tuple[FixedAnswer, mt.MetricsClient], body: bytes
) -> None:
    message = str(answer_with(fixed, body))
    assert "does not match SessionMetrics: (body): Input should be" in message
    assert len(fixed[0].sent) == 1


# -- the demo server against the spec, with schemathesis -----------------------------------------

SCHEMATHESIS_CONFIG = schemathesis.Config.from_dict(
    {
        "auth": {"openapi": {"bearerAuth": {"bearer": DEMO_API_KEY}}},
        "generation": {
            # valid and invalid parameters; the token is always sent (the spec documents no 401)
            "mode": "all",
            "max-examples": 60,
            "with-security-parameters": False,
        },
        "checks": {
            # On the wire every query value is a string, so a "non-string" id (true, 0.5) is a
            # valid id string to any server: such "negative" cases cannot be told apart. The
            # integer parameters' refusal is checked by hand in the test below instead.
            "negative_data_rejection": {"enabled": False},
        },
        "phases": {
            # Every method RFC 9110 defines must get a 405. QUERY (an IETF draft) is left out:
            # a server that does not recognise a method at all may answer 501 (RFC 9110, 9.1).
            "coverage": {
                "unexpected-methods": ["delete", "options", "patch", "post", "put", "trace"]
            },
        },
    }
)
SCHEMA = schemathesis.openapi.from_path(SPEC_PATH, config=SCHEMATHESIS_CONFIG)


@pytest.fixture(scope="module")
def conformance_server(enterprise: DemoEnterprise) -> Iterator[DemoServer]:
    with DemoServer(DemoAPI(enterprise, now=NOW)) as server:
        yield server


def last_value(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


@SCHEMA.parametrize()
def test_the_demo_server_conforms_to_the_spec(
    case: schemathesis.Case, conformance_server: DemoServer
) -> None:
    response = case.call_and_validate(base_url=conformance_server.url)
    assert response.status_code < 500
    if case.method.upper() != "GET":
        assert response.status_code == 405
        return
    sent = parse_qs(urlsplit(response.request.url).query, keep_blank_values=True)
    times = [last_value(sent, name) for name in ("time_after", "time_before")]
    if any(value is None or not any(ch.isdigit() for ch in value) for value in times):
        assert response.status_code == 422, times  # missing or plainly not a number
    elif all(
        value is not None and value.lstrip("-").isdigit() and len(value) < 18 for value in times
    ):
        assert response.status_code == 200, times


def test_the_generator_makes_extra_fields_extra_counts_and_omitted_counts() -> None:
    """Guard the generator: the shapes the properties above are about do come up."""
    documented = set(RESPONSE_SCHEMA["properties"])
    shapes = {
        "an extra field": lambda body: bool(set(body) - documented),
        "an extra nested object": lambda body: any(
            isinstance(body[name], dict) for name in set(body) - documented
        ),
        "an extra count": lambda body: any(set(body[m]) - set(k) for m, k in COUNT_MAPS.items()),
        "an omitted count": lambda body: any(set(k) - set(body[m]) for m, k in COUNT_MAPS.items()),
    }
    seen: set[str] = set()

    @settings(max_examples=50, database=None, phases=[Phase.generate], deadline=None)
    @given(VALID_BODIES)
    def collect(body: dict[str, Any]) -> None:
        seen.update(shape for shape, condition in shapes.items() if condition(body))

    collect()
    assert seen == set(shapes)
