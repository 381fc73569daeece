"""The daily review-flag schedule on a real Temporal dev server: a worker's start creates it,
a run (triggered here, not to wait for 00:00 UTC) flags an entry overdue for review, and a
later start updates it."""

import uuid
from datetime import UTC, datetime, timedelta

from temporalio.testing import WorkflowEnvironment

from infra.resource_review_schedule import REVIEW_EVERY, ensure_review_schedule
from infra.sealing.family_keys import FamilyKeyStore
from models.crud.notifications import list_for_case
from models.crud.resource_map import Editor, create_provider
from models.db import SessionFactory
from models.payloads.resources import ProviderFields
from models.payloads.vocabulary import StaffRole
from tests.support.polling import eventually
from tests.support.resources import provider_body
from workers.worker import build_worker


async def test_the_schedule_flags_overdue_entries_and_is_updated_on_restart(
    dev_env: WorkflowEnvironment, sessions: SessionFactory, keys: FamilyKeyStore, task_queue: str
) -> None:
    async with sessions() as session, session.begin():
        row = await create_provider(
            session,
            fields=ProviderFields.model_validate(provider_body("suzun_district")),
            editor=Editor(staff_id="min-sched-1", role=StaffRole.MINISTRY),
            now=datetime.now(UTC) - timedelta(days=400),
        )
    schedule_id = f"test-resource-reviews-{uuid.uuid4().hex[:8]}"

    async def flags() -> list[str]:
        async with sessions() as session:
            return [n.kind for n in await list_for_case(session, case_id=row.id)]

    async with build_worker(dev_env.client, task_queue=task_queue, sessions=sessions, keys=keys):
        handle = await ensure_review_schedule(
            dev_env.client, task_queue=task_queue, schedule_id=schedule_id
        )
        try:
            assert await flags() == []  # created, not run
            await handle.trigger()
            assert await eventually(flags, bool, what="a review flag") == ["resource_review_due"]
            again = await ensure_review_schedule(
                dev_env.client, task_queue=task_queue, schedule_id=schedule_id
            )
            described = await again.describe()
            assert described.schedule.spec.intervals[0].every == REVIEW_EVERY
        finally:
            await handle.delete()
