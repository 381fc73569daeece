"""The case history only grows, and tells a new event from a repeated one."""

from datetime import UTC, datetime
from uuid import uuid4

from infra.sealing.family_keys import FamilyKeyStore
from models.crud.case_events import append_event, list_events
from models.db import SessionFactory
from models.payloads.events import CaseEventDraft
from models.tables.family_data_key import SYSTEM_KEY_OWNER


async def test_a_repeated_event_is_recognised_and_not_stored_twice(
    sessions: SessionFactory, keys: FamilyKeyStore
) -> None:
    draft = CaseEventDraft(
        case_id=uuid4(),
        seq=1,
        action="signal_received",
        actor_id="staff-001",
        actor_role="specialist",
        stage_after="identified",
        occurred_at=datetime.now(UTC),
    )
    key = await keys.for_owner(SYSTEM_KEY_OWNER)
    async with sessions() as session, session.begin():
        first = await append_event(session, draft=draft, key=key)
        again = await append_event(session, draft=draft, key=key)
    async with sessions() as session:
        stored = await list_events(session, case_id=draft.case_id, keys=keys)
    assert (first, again) == (True, False)
    assert [event.seq for event in stored] == [1]
