"""A case run by the real worker on the dev server writes to PostgreSQL through an activity,
and shows its state to supervisors as search attributes."""

from temporalio.testing import WorkflowEnvironment

from infra.sealing.family_keys import FamilyKeyStore
from models.crud.case_events import list_events
from models.crud.case_projections import get_view
from models.db import SessionFactory
from models.payloads.actions import ClosureRequestBody
from models.payloads.vocabulary import Stage
from models.policy import ClosureReason
from tests.support.cases import MUNICIPALITY, open_case, specialist
from tests.support.sealing import test_key_store
from workers.worker import build_worker
from workflows.case import CaseWorkflow
from workflows.search_attributes import CASE_STAGE, NEXT_DEADLINE, OVERDUE
from workflows.search_attributes import MUNICIPALITY as MUNICIPALITY_KEY


async def test_signal_is_recorded_in_postgres_by_the_real_worker(
    dev_env: WorkflowEnvironment, sessions: SessionFactory, keys: FamilyKeyStore, task_queue: str
) -> None:
    async with build_worker(dev_env.client, task_queue=task_queue, sessions=sessions, keys=keys):
        handle, outcome = await open_case(dev_env.client, task_queue)
        description = await handle.describe()
        await handle.terminate("test finished")

    case_id = outcome.view.case_id
    async with sessions() as session:
        events = await list_events(session, case_id=case_id, keys=test_key_store(sessions))
        view = await get_view(session, case_id=case_id, keys=test_key_store(sessions))
    assert [(e.seq, e.action, e.stage_after) for e in events] == [
        (1, "signal_received", "identified")
    ]
    assert view is not None
    assert view.stage is Stage.IDENTIFIED
    assert [d.key for d in view.deadlines] == ["T1"]
    attributes = description.typed_search_attributes
    assert attributes.get(CASE_STAGE) == "identified"
    assert attributes.get(MUNICIPALITY_KEY) == MUNICIPALITY
    assert attributes.get(NEXT_DEADLINE) == view.deadlines[0].due_at


async def test_closed_case_shows_closed_and_no_next_deadline(
    dev_env: WorkflowEnvironment, sessions: SessionFactory, keys: FamilyKeyStore, task_queue: str
) -> None:
    """A duplicate signal's episode closes at once (no approval needed) and completes."""
    async with build_worker(dev_env.client, task_queue=task_queue, sessions=sessions, keys=keys):
        handle, _ = await open_case(dev_env.client, task_queue)
        view = await handle.execute_update(
            CaseWorkflow.request_closure,
            ClosureRequestBody(reason=ClosureReason.DUPLICATE).by(specialist()),
        )
        outcome = await handle.result()
        attributes = (await handle.describe()).typed_search_attributes

    assert view.stage is Stage.CLOSED
    assert outcome.closure_reason is ClosureReason.DUPLICATE
    assert attributes.get(CASE_STAGE) == "closed"
    assert attributes.get(NEXT_DEADLINE) is None
    assert attributes.get(OVERDUE) is False
