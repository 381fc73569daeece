"""A case workflow run by the real worker writes to PostgreSQL through an activity."""

from datetime import UTC, datetime
from uuid import uuid4

from temporalio.testing import WorkflowEnvironment

from models.crud.case_events import list_events
from models.db import SessionFactory
from models.payloads.case_start import CaseStart
from tests.support.polling import eventually
from workers.worker import build_worker
from workflows.case import CaseWorkflow
from workflows.search_attributes import CASE_STAGE, MUNICIPALITY


async def test_signal_is_recorded_in_postgres_by_the_real_worker(
    dev_env: WorkflowEnvironment, sessions: SessionFactory, task_queue: str
) -> None:
    case_id = uuid4()
    start = CaseStart(
        case_id=case_id,
        municipality="berdsk",
        source="self_request",
        actor_id="staff-001",
        actor_role="specialist",
        received_at=datetime.now(UTC),
    )

    async def events() -> list[str]:
        async with sessions() as session:
            return [event.action for event in await list_events(session, case_id=case_id)]

    async with build_worker(dev_env.client, task_queue=task_queue, sessions=sessions):
        handle = await dev_env.client.start_workflow(
            CaseWorkflow.run, start, id=f"test-{case_id}", task_queue=task_queue
        )
        recorded = await eventually(events, bool, what="the signal event row")
        description = await handle.describe()
        await handle.terminate("test finished")

    assert recorded == ["signal_received"]
    assert description.typed_search_attributes.get(CASE_STAGE) == "identified"
    assert description.typed_search_attributes.get(MUNICIPALITY) == "berdsk"
