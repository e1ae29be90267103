"""Every operation answers as its OpenAPI document says, under generated requests.

schemathesis draws requests from the document (valid and broken ones: its coverage
phase's boundary values, then fuzzing) and sends them to a real `leaderboard serve` with
the admin token; each answer must be no 5xx (not_a_server_error), a documented status
(status_code_conformance) with the documented content type (content_type_conformance)
and body (response_schema_conformance). Bounded: EXAMPLES fuzzed requests per operation
besides the coverage ones, derandomized (the same requests every run); about 25 s.

The reads and the submission aim at a board that exists, with a player ranked on it, so
that their 200s are checked too (drawn ids would find nothing); the deleting operations
keep their drawn ids. The endless event stream is checked on its own (below): a fuzzer
reading it would wait for ever. Values valid but for a trailing newline are sent on
purpose too (TRAILING_NEWLINE). CI runs all of it: `.ci/run`'s two pytest passes select
no markers, so these slow tests are in both.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import ADMIN
from tests.documents import openapi_document
from tests.procs import RunningService

pytestmark = pytest.mark.slow

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 30
BOARD = "contract-board"
# Operations whose caller must be a player: the admin token gets a 403 from them.
PLAYER_ONLY = {"getMe", "endSession"}
# Operations that read or write a board's entries: aimed at BOARD (see the module doc).
ON_THE_BOARD = {"getTop", "getEntry", "getAround", "getPlayers", "getHistogram", "getHistory"}
ON_THE_BOARD_AND_PLAYER = {"getEntry", "getAround", "getHistory"}


class Known:
    """A board with a ranked player, made once through the API."""

    def __init__(self, base: str) -> None:
        self.base = base
        created = httpx.post(
            f"{base}/v1/leaderboards",
            json={"id": BOARD, "rate_limit": {"limit": 10_000, "window_seconds": 60}},
            headers=ADMIN,
        )
        assert created.status_code == 201, created.text
        self.player = sign_in(base)["player_id"]
        submitted = httpx.post(
            f"{base}/v1/leaderboards/{BOARD}/scores",
            json={"score": 100, "player_id": self.player},
            headers=ADMIN,
        )
        assert submitted.status_code == 200, submitted.text


def sign_in(base: str) -> dict[str, Any]:
    response = httpx.post(f"{base}/v1/auth/device", json={"device_id": f"device-{uuid.uuid4()}"})
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.fixture(scope="package")
def known(contract_service: RunningService) -> Known:
    return Known(contract_service.base)


# The document as `serve` builds it, without serving it: schemathesis' pytest integration
# needs the operations when tests are collected, before any fixture runs (and its
# fixture-based loader sets Node._nodeid, which pytest 9 no longer has);
# test_the_served_document_is_the_one_fuzzed checks they are the same.
DOCUMENT = openapi_document()
schema = schemathesis.openapi.from_dict(DOCUMENT)


def aim(case: Case[Any], known: Known) -> dict[str, str]:
    """The headers to send, after pointing a reading case at the known board and player."""
    operation_id = case.operation.definition.raw["operationId"]
    if operation_id in PLAYER_ONLY:
        # A new session each time: endSession ends the one it is given.
        return {"Authorization": f"Bearer {sign_in(known.base)['token']}"}
    path = dict(case.path_parameters or {})
    if operation_id in ON_THE_BOARD or operation_id == "submitScore":
        path["board_id"] = BOARD
    if operation_id in ON_THE_BOARD_AND_PLAYER:
        path["player_id"] = known.player
    case.path_parameters = path
    if operation_id == "submitScore" and isinstance(case.body, dict):
        case.body = {**case.body, "player_id": known.player}  # the admin names the player
    return dict(ADMIN)


@schema.exclude(operation_id="streamEvents").parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same requests every run: a failure reproduces
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(
    case: Case[Any], contract_service: RunningService, known: Known
) -> None:
    headers = aim(case, known)
    case.call_and_validate(
        base_url=contract_service.base, headers=headers, checks=CHECKS, timeout=10
    )


def test_the_served_document_is_the_one_fuzzed(contract_service: RunningService) -> None:
    served = httpx.get(f"{contract_service.base}/schema/openapi.json")
    assert served.json() == json.loads(json.dumps(DOCUMENT))


def test_the_event_stream_answers_as_documented(
    contract_service: RunningService, known: Known
) -> None:
    operation = schema.find_operation_by_id("streamEvents")
    # Its errors through schemathesis' checks: an unknown board, a Last-Event-ID that is
    # not an event id, and one that is not one of this board's.
    for path_parameters, headers in [
        ({"board_id": "no-such-board"}, {}),
        ({"board_id": BOARD}, {"Last-Event-ID": "not-an-id"}),
        ({"board_id": BOARD}, {"Last-Event-ID": "18446744073709551615-18446744073709551615"}),
    ]:
        case = operation.Case(path_parameters=path_parameters, headers=headers)
        response = case.call_and_validate(base_url=contract_service.base, checks=CHECKS, timeout=10)
        assert response.status_code in (400, 404)
    # The stream itself: text/event-stream as documented, opened then left.
    documented = operation.definition.raw["responses"]["200"]["content"]
    url = f"{known.base}/v1/leaderboards/{BOARD}/events"
    with httpx.stream("GET", url, timeout=10) as stream:
        assert stream.status_code == 200
        media_type = stream.headers["content-type"].split(";")[0].strip()
        assert set(documented) == {media_type} == {"text/event-stream"}
        assert next(stream.iter_lines()) == ": subscribed"


# A value that is valid but for a trailing newline, for every field of a request body that
# has a pattern (test_every_pattern_of_a_body_has_its_trailing_newline_case keeps it so).
# Python's $ matches before a final newline, and msgspec matches with re.search: such a
# value once passed and reached Postgres (a 500 for a board id) or the data (a name).
# The document's patterns end in $, which there means the end of the string: the fuzzer
# takes these values for invalid, and so must the service.
TIERS = [{"name": "Bronze", "promote": 1, "demote": 0}]
TRAILING_NEWLINE = [
    ("createLeaderboard", {"id": "trailing\n"}, "id"),
    ("createLeaderboard", {"id": "trailing-name", "name": "evil\n"}, "name"),
    ("createServerKey", {"name": "k\n"}, "name"),
    ("createServerKey", {"name": "k", "leaderboards": [f"{BOARD}\n"]}, "leaderboards[0]"),
    ("updateLeaderboard", {"name": "evil\n"}, "name"),
    ("createPlayer", {"country": "DE\n"}, "country"),
    ("updateProfile", {"country": "DE\n"}, "country"),
    ("createLeague", {"id": "trailing\n", "schedule": "weekly", "tiers": TIERS}, "id"),
    (
        "createLeague",
        {"id": "trailing-l", "name": "evil\n", "schedule": "weekly", "tiers": TIERS},
        "name",
    ),
    (
        "createLeague",
        {
            "id": "trailing-t",
            "schedule": "weekly",
            "tiers": [{"name": "Gold\n", "promote": 0, "demote": 1}],
        },
        "tiers[0].name",
    ),
    ("submitScore", {"score": 1, "evidence_url": "https://r.example/1\n"}, "evidence_url"),
    ("rejectSubmission", {"reason": "r\n"}, "reason"),
    ("voidSubmission", {"reason": "r\n"}, "reason"),
]


@pytest.mark.parametrize(("operation_id", "body", "field"), TRAILING_NEWLINE)
def test_a_trailing_newline_is_refused_as_the_document_says(
    contract_service: RunningService,
    known: Known,
    operation_id: str,
    body: dict[str, Any],
    field: str,
) -> None:
    operation = schema.find_operation_by_id(operation_id)
    path = {
        "updateProfile": {"player_id": known.player},
        "updateLeaderboard": {"board_id": BOARD},
        "submitScore": {"board_id": BOARD},
        "rejectSubmission": {"submission_id": 1},
        "voidSubmission": {"submission_id": 1},
    }.get(operation_id, {})
    case = operation.Case(body=body, path_parameters=path, media_type="application/json")
    response = case.call_and_validate(
        base_url=contract_service.base, headers=ADMIN, checks=CHECKS, timeout=10
    )
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field
    if operation_id == "createLeaderboard":
        created = httpx.get(f"{contract_service.base}/v1/leaderboards/{body['id'].strip()}")
        assert created.status_code == 404, "nothing was created"


def patterns_in(node: Any) -> Iterator[str]:
    """Every ``pattern`` in a piece of the document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            else:
                yield from patterns_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from patterns_in(value)


def body_patterns() -> set[tuple[str, str]]:
    """(operationId, top-level field) of every request body field with a pattern."""
    components = DOCUMENT["components"]["schemas"]
    found = set()
    for item in DOCUMENT["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            for media in operation["requestBody"]["content"].values():
                ref = media["schema"].get("$ref", "")
                properties = components.get(ref.rsplit("/", 1)[-1], {}).get("properties", {})
                for name, prop in properties.items():
                    if any(patterns_in(prop)):
                        found.add((operation["operationId"], name))
    return found


def test_every_pattern_of_a_body_has_its_trailing_newline_case() -> None:
    covered = {(operation_id, field.split("[")[0]) for operation_id, _, field in TRAILING_NEWLINE}
    assert body_patterns(), "the walk finds the patterns"
    assert body_patterns() <= covered


def test_the_document_states_its_patterns_in_ecma_262() -> None:
    """No Python-only anchors: ECMA-262 reads \\Z as a literal Z (clients would refuse)."""
    patterns = list(patterns_in(DOCUMENT))
    assert len(patterns) > 10
    for pattern in patterns:
        assert "\\Z" not in pattern, pattern
        assert "\\A" not in pattern, pattern
