"""The audit anchor schedule on a real Temporal dev server: the worker's start-up creates it,
its first run writes an anchor at once, a later start updates it instead of failing, and a
triggered run appends the next anchor."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest_asyncio
from temporalio.client import ScheduleActionExecutionStartWorkflow, ScheduleOverlapPolicy
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from activities.audit_anchor import AuditAnchorActivities
from infra.audit.anchor_keys import write_new_signing_key
from infra.audit.anchor_log import replay_file
from infra.audit.anchor_schedule import ensure_anchor_schedule
from infra.audit.verify import verify_database
from infra.sealing.family_keys import FamilyKeyStore
from models.payloads.audit_anchor import AnchorWritten
from models.tables.family_data_key import SYSTEM_KEY_OWNER
from tests.support.audit import AuditDatabase, audit_database, new_case
from tests.support.polling import eventually
from workers.worker import build_worker
from workflows.audit_anchor import AuditAnchorWorkflow


@pytest_asyncio.fixture
async def audit_db(empty_database_url: str) -> AsyncIterator[AuditDatabase]:
    async with audit_database(empty_database_url) as db:
        yield db


async def test_the_schedule_is_created_then_updated_and_its_runs_write_anchors(
    dev_env: WorkflowEnvironment,
    keys: FamilyKeyStore,
    audit_db: AuditDatabase,
    task_queue: str,
    tmp_path: Path,
) -> None:
    key = write_new_signing_key(tmp_path / "signing.pem")
    log_path = tmp_path / "anchors.jsonl"
    anchors = AuditAnchorActivities(
        audit_db.sessions, anchor_log=log_path, signing_key_file=tmp_path / "signing.pem"
    )
    data_key = await audit_db.keys.for_owner(SYSTEM_KEY_OWNER)
    await new_case(audit_db.sessions, data_key, 3)
    schedule_id = f"test-audit-anchor-{uuid.uuid4().hex[:8]}"

    async def anchors_written() -> int:
        return (await asyncio.to_thread(replay_file, log_path, key.public)).anchors

    worker = build_worker(
        dev_env.client,
        task_queue=task_queue,
        sessions=audit_db.sessions,
        keys=keys,
        anchors=anchors,
    )
    async with worker:
        handle = await ensure_anchor_schedule(
            dev_env.client,
            task_queue=task_queue,
            interval=timedelta(hours=1),
            schedule_id=schedule_id,
        )
        try:
            await eventually(anchors_written, lambda n: n == 1, within=30, what="first anchor")
            # A worker starting again: the schedule exists, so it is updated.
            again = await ensure_anchor_schedule(
                dev_env.client,
                task_queue=task_queue,
                interval=timedelta(hours=2),
                schedule_id=schedule_id,
            )
            assert again.id == schedule_id
            described = await handle.describe()
            spec = described.schedule.spec
            assert [interval.every for interval in spec.intervals] == [timedelta(hours=2)]
            assert described.schedule.policy.overlap == ScheduleOverlapPolicy.SKIP
            await new_case(audit_db.sessions, data_key, 2)
            await handle.trigger()
            await eventually(anchors_written, lambda n: n == 2, within=30, what="second anchor")
            # The scheduled run's history replays on the workflow as it is.
            runs = (await handle.describe()).info.recent_actions
            action = runs[-1].action
            assert isinstance(action, ScheduleActionExecutionStartWorkflow)
            run = dev_env.client.get_workflow_handle(action.workflow_id, result_type=AnchorWritten)
            assert (await run.result()).number == 2
            replayer = Replayer(
                workflows=[AuditAnchorWorkflow], data_converter=dev_env.client.data_converter
            )
            await replayer.replay_workflow(await run.fetch_history())
        finally:
            await handle.delete()
    replay = await asyncio.to_thread(replay_file, log_path, key.public)
    assert replay.problem is None
    assert len(replay.heads) == 2
    result = await asyncio.to_thread(
        verify_database, audit_db.app_url, anchor_log=log_path, key=key.public
    )
    assert result.clean
    assert (result.anchors, result.cases, result.events, result.events_after_anchor) == (2, 2, 5, 0)
