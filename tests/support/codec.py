"""The codec server's side of tests: a history's payloads as the Web UI sends them."""

from typing import Any

from google.protobuf.json_format import MessageToDict, ParseDict
from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowHistory

from infra.sealing.codec import is_sealed
from infra.sealing.payloads import payloads_of
from tests.support.sdk_markers import sdk_marker_record

CODEC = "/api/v1/codec"


def history_payloads(history: WorkflowHistory) -> list[Payload]:
    """Every payload of the history the Web UI would send to the codec: all but search
    attributes and the SDK's own marker records (tests/support/sdk_markers.py)."""
    found: list[Payload] = []
    for event in history.events:
        found += [
            payload
            for path, payload in payloads_of(event)
            if "search_attributes" not in path and not sdk_marker_record(path, payload)
        ]
    return found


def as_request(payloads: list[Payload]) -> dict[str, Any]:
    """The body the UI posts: protobuf JSON, as Temporal's own serializer writes it."""
    return {"payloads": [MessageToDict(payload) for payload in payloads]}


def from_answer(answer: dict[str, Any]) -> list[Payload]:
    return [ParseDict(item, Payload()) for item in answer["payloads"]]


def sealed_count(payloads: list[Payload]) -> int:
    return sum(is_sealed(payload) for payload in payloads)


def readable(payloads: list[Payload]) -> str:
    """What a person could read in the payloads' bytes."""
    return "\n".join(payload.data.decode("utf-8", "replace") for payload in payloads)
