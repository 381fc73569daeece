"""What one family's path costs Temporal to keep: the L2 lifecycle, from the signal to an
approved closure with escalations on the way (issue 9: at most 40 KB as Temporal stores it).

Driven live, by the same scenario the committed histories were recorded from, through the
real worker and Kurator's sealing converter: the size of today's code, not of a file.
"""

from temporalio.converter import DataConverter

from infra.sealing.codec import SEALED_ENCODING, is_sealed
from infra.sealing.payloads import payloads_of
from models.db import SessionFactory
from tests.support.temporal import start_time_skipping
from tests.workflows.record_histories import _l2_closed_with_follow_ups, _record

LIFECYCLE_BYTES = 40 * 1024


async def test_an_l2_lifecycle_is_stored_in_at_most_40_kb(
    sessions: SessionFactory, data_converter: DataConverter
) -> None:
    recorded = await _record(
        start_time_skipping, _l2_closed_with_follow_ups, sessions, data_converter
    )
    history = recorded["case_l2_goals_achieved"]
    stored = sum(event.ByteSize() for event in history.events)  # protobuf, as stored
    assert len(history.events) > 100  # the whole path, reviews and escalations included
    assert stored <= LIFECYCLE_BYTES, f"{len(history.events)} events, {stored} bytes"
    sealed = [p for e in history.events for _, p in payloads_of(e) if is_sealed(p)]
    assert sealed
    assert {p.metadata["encoding"] for p in sealed} == {SEALED_ENCODING}  # today's envelope
