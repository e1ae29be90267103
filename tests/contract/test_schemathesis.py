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
reading it would wait for ever.
"""

from __future__ import annotations

import json
import uuid
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
ON_THE_BOARD = {"getTop", "getEntry", "getAround", "getPlayers", "getHistogram"}
ON_THE_BOARD_AND_PLAYER = {"getEntry", "getAround"}


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
