"""What supervisors search by in the Web UI, set by the real worker on the dev server.

A new case gets its readable number at intake: in its answer, its stored state, its search
attribute `CaseNumber` and its current details, the same after a replay from its history;
the next case of the territory gets the next number. `AwaitingApproval` shows a requested
closure until a supervisor decides."""

import re

from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.testing import WorkflowEnvironment

from infra.sealing.family_keys import FamilyKeyStore
from models.crud.case_numbers import given_number
from models.crud.case_projections import get_view
from models.db import SessionFactory
from models.payloads.actions import ClosureApprovalBody, ClosureRequestBody, ContactBody
from models.policy import ClosureReason
from tests.support.cases import open_case, specialist, supervisor
from tests.support.polling import eventually
from tests.support.sealing import test_key_store
from workers.worker import build_worker
from workflows.case import CaseWorkflow
from workflows.search_attributes import AWAITING_APPROVAL, CASE_NUMBER

BERDSK_NUMBER = re.compile(r"БРД-(20\d\d)-(\d{5})")


async def test_a_new_case_is_numbered_at_intake_and_shows_its_number_everywhere(
    dev_env: WorkflowEnvironment, sessions: SessionFactory, keys: FamilyKeyStore, task_queue: str
) -> None:
    client = dev_env.client
    async with build_worker(client, task_queue=task_queue, sessions=sessions, keys=keys):
        handle, outcome = await open_case(client, task_queue)
        number = outcome.view.case_number
        assert number is not None
        matched = BERDSK_NUMBER.fullmatch(number)
        assert matched is not None, number
        assert int(matched.group(1)) == outcome.view.opened_at.year  # not on New Year's night
        _, next_outcome = await open_case(client, task_queue)
        description = await handle.describe()
        metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
        # The dev server outlives each test's database, so an earlier test's case may carry
        # the same number: this test's task queue tells them apart.
        found = await eventually(
            lambda: _listed(dev_env, f'CaseNumber = "{number}" AND TaskQueue = "{task_queue}"'),
            lambda ids: bool(ids),
        )
    async with build_worker(
        client, task_queue=task_queue, sessions=sessions, keys=keys, max_cached_workflows=0
    ):
        # Every task replays the case from its history: the intake's number comes back from
        # the recorded local activity, not from a second allocation.
        replayed = await handle.execute_update(
            CaseWorkflow.record_contact, ContactBody().by(specialist())
        )
    await handle.terminate("test finished")

    assert replayed.case_number == number
    assert (
        next_outcome.view.case_number == f"БРД-{matched.group(1)}-{int(matched.group(2)) + 1:05d}"
    )
    assert description.typed_search_attributes.get(CASE_NUMBER) == number
    assert metadata.current_details.startswith(f"**Case:** {number}\n")
    assert found == [handle.id]
    async with sessions() as session:
        stored = await get_view(
            session, case_id=outcome.view.case_id, keys=test_key_store(sessions)
        )
        allocated = await given_number(session, case_id=outcome.view.case_id)
    assert stored is not None
    assert stored.case_number == number == allocated


async def _listed(env: WorkflowEnvironment, query: str) -> list[str]:
    return [execution.id async for execution in env.client.list_workflows(query)]


async def test_a_requested_closure_awaits_approval_until_a_supervisor_decides(
    dev_env: WorkflowEnvironment, sessions: SessionFactory, keys: FamilyKeyStore, task_queue: str
) -> None:
    client = dev_env.client
    async with build_worker(client, task_queue=task_queue, sessions=sessions, keys=keys):
        handle, _ = await open_case(client, task_queue)
        opened = (await handle.describe()).typed_search_attributes
        await handle.execute_update(
            CaseWorkflow.request_closure,
            ClosureRequestBody(reason=ClosureReason.NO_CONTACT).by(specialist()),
        )
        requested = (await handle.describe()).typed_search_attributes
        waiting = await eventually(
            lambda: _listed(
                dev_env, f'AwaitingApproval = "closure" AND WorkflowId = "{handle.id}"'
            ),
            lambda ids: bool(ids),
        )
        await handle.execute_update(
            CaseWorkflow.approve_closure, ClosureApprovalBody(approve=False).by(supervisor())
        )
        decided = (await handle.describe()).typed_search_attributes
    await handle.terminate("test finished")

    assert opened.get(AWAITING_APPROVAL) is None
    assert requested.get(AWAITING_APPROVAL) == "closure"
    assert waiting == [handle.id]
    assert decided.get(AWAITING_APPROVAL) is None
