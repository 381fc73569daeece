"""The payload walker finds payloads in single fields, repeated fields and maps."""

from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import History

from infra.sealing.payloads import payloads_of


def test_every_payload_of_a_history_is_found_with_its_path() -> None:
    history = History()
    started = history.events.add().workflow_execution_started_event_attributes
    started.input.payloads.add(data=b"input-0")
    started.input.payloads.add(data=b"input-1")
    started.memo.fields["note"].data = b"memo"
    started.search_attributes.indexed_fields["Stage"].data = b"stage"
    history.events[0].user_metadata.summary.data = b"summary"
    failed = history.events.add().workflow_execution_failed_event_attributes
    failed.failure.cause.encoded_attributes.data = b"failure"
    assert [(path, payload.data) for path, payload in payloads_of(history)] == [
        ("events[0].workflow_execution_started_event_attributes.input.payloads[0]", b"input-0"),
        ("events[0].workflow_execution_started_event_attributes.input.payloads[1]", b"input-1"),
        ("events[0].workflow_execution_started_event_attributes.memo.fields[note]", b"memo"),
        (
            "events[0].workflow_execution_started_event_attributes"
            ".search_attributes.indexed_fields[Stage]",
            b"stage",
        ),
        ("events[0].user_metadata.summary", b"summary"),
        (
            "events[1].workflow_execution_failed_event_attributes.failure.cause.encoded_attributes",
            b"failure",
        ),
    ]


def test_a_payload_is_its_own_only_payload() -> None:
    payload = Payload(data=b"x")
    assert list(payloads_of(payload, "p")) == [("p", payload)]
