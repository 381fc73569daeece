"""The proof of issue 10, point 1: a whole case and its follow-up, driven on the dev server
with distinctive synthetic comments, leave nothing of them in clear in Temporal. Every payload
of every event is sealed under the family's own key; a rejected update's reason travels only
in the failure's sealed attributes; search attributes and the raw history carry none of the
comments."""

import json
import uuid
from datetime import timedelta

from google.protobuf.json_format import MessageToJson
from temporalio.api.common.v1 import Payloads, WorkflowExecution
from temporalio.api.enums.v1 import UpdateWorkflowExecutionLifecycleStage
from temporalio.api.failure.v1 import Failure
from temporalio.api.update.v1 import Input, Meta, Request, WaitPolicy
from temporalio.api.workflowservice.v1 import UpdateWorkflowExecutionRequest
from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter, WorkflowSerializationContext
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from infra.sealing.codec import is_sealed, key_id_of
from infra.sealing.family_keys import FamilyKeyStore
from infra.sealing.payloads import payloads_of
from models.db import SessionFactory
from models.payloads import actions as act
from models.payloads.actions import StaffAction
from models.payloads.vocabulary import NeedDecision
from tests.support.cases import open_case, specialist, supervisor
from tests.support.sdk_markers import sdk_marker_record
from workers.worker import build_worker
from workflows.case import CaseWorkflow
from workflows.follow_up import CaseFollowUpWorkflow

STAFF = specialist("staff-101")
REFUSAL_REASON = "no closure has been requested"


def _marked(run: str, step: str) -> str:
    """A comment no code, id or vocabulary word could contain by chance."""
    return f"ПРОВЕРКА-Тайна-{run}-{step}"


def _search_attribute_paths(path: str) -> bool:
    return "search_attributes" in path


def _unsealed(history: WorkflowHistory) -> list[str]:
    return [
        path
        for event in history.events
        for path, payload in payloads_of(event, f"event {event.event_id} ({event.event_type})")
        if not _search_attribute_paths(path)
        and not is_sealed(payload)
        and not sdk_marker_record(path, payload)
    ]


async def _rejected_raw(
    client: Client, converter: DataConverter, workflow_id: str, name: str, body: StaffAction
) -> Failure:
    """Send an update the workflow refuses, as raw protobuf: the failure exactly as the
    server holds and returns it, before any converter decodes it."""
    context = WorkflowSerializationContext(namespace=client.namespace, workflow_id=workflow_id)
    args = await converter.with_context(context).encode([body])
    request = UpdateWorkflowExecutionRequest(
        namespace=client.namespace,
        workflow_execution=WorkflowExecution(workflow_id=workflow_id),
        request=Request(
            meta=Meta(update_id=uuid.uuid4().hex, identity="sealing-test"),
            input=Input(name=name, args=Payloads(payloads=args)),
        ),
        wait_policy=WaitPolicy(
            lifecycle_stage=UpdateWorkflowExecutionLifecycleStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED
        ),
    )
    response = await client.workflow_service.update_workflow_execution(
        request, timeout=timedelta(seconds=30)
    )
    assert response.outcome.HasField("failure"), "the update was expected to be refused"
    return response.outcome.failure


async def test_nothing_of_a_lifecycle_lies_in_clear_in_temporal(
    dev_env: WorkflowEnvironment,
    task_queue: str,
    sessions: SessionFactory,
    keys: FamilyKeyStore,
    data_converter: DataConverter,
) -> None:
    run = uuid.uuid4().hex[:8]
    client = dev_env.client
    async with build_worker(client, task_queue=task_queue, sessions=sessions, keys=keys):
        handle, _ = await open_case(client, task_queue, policy="compressed")
        await handle.execute_update(
            CaseWorkflow.register_intake, act.IntakeBody(comment=_marked(run, "intake")).by(STAFF)
        )
        await handle.execute_update(
            CaseWorkflow.record_contact, act.ContactBody(comment=_marked(run, "contact")).by(STAFF)
        )
        # A wrong action (no closure was requested): refused, its reason must not be in clear.
        refusal = await _rejected_raw(
            client,
            data_converter,
            handle.id,
            "approve_closure",
            act.ClosureApprovalBody(approve=True, comment=_marked(run, "wrong")).by(supervisor()),
        )
        await handle.execute_update(
            CaseWorkflow.record_assessment,
            act.AssessmentBody(decision=NeedDecision.REFUSED, comment=_marked(run, "refusal")).by(
                STAFF
            ),
        )
        await handle.execute_update(
            CaseWorkflow.approve_closure,
            act.ClosureApprovalBody(approve=True, comment=_marked(run, "closure")).by(supervisor()),
        )
        outcome = await handle.result()
        assert outcome.follow_up_workflow_id is not None
        follow_up = client.get_workflow_handle(
            outcome.follow_up_workflow_id, result_type=type(None)
        )
        await follow_up.execute_update(
            CaseFollowUpWorkflow.record_follow_up,
            act.FollowUpBody(number=1, comment=_marked(run, "follow-up")).by(STAFF),
        )
        histories = {
            "case": await handle.fetch_history(),
            "follow-up": await follow_up.fetch_history(),
        }
        descriptions = [await h.describe() for h in (handle, follow_up)]
    family_key = (await keys.for_owner(handle.id.removeprefix("case-"))).key_id

    # Every payload of every event is sealed, under this family's key.
    for name, history in histories.items():
        walked = [
            (path, payload)
            for event in history.events
            for path, payload in payloads_of(event, f"event {event.event_id}")
            if not _search_attribute_paths(path) and not sdk_marker_record(path, payload)
        ]
        assert len(walked) >= 5, f"{name}: too few payloads found to prove anything"
        assert _unsealed(history) == [], f"{name}: payloads in clear"
        assert {key_id_of(payload) for _, payload in walked} == {family_key}, name
    kinds = {
        path.split(".")[1]
        for h in histories.values()
        for e in h.events
        for path, _ in payloads_of(e, "e")
    }
    for kind in (
        "workflow_execution_started_event_attributes",
        "workflow_execution_update_accepted_event_attributes",
        "workflow_execution_update_completed_event_attributes",
        "activity_task_scheduled_event_attributes",
        "activity_task_completed_event_attributes",
        "marker_recorded_event_attributes",  # the steps, persisted as local activities
        "start_child_workflow_execution_initiated_event_attributes",
        "workflow_execution_completed_event_attributes",
        "user_metadata",
    ):
        assert kind in kinds, f"no {kind} payload was walked: the proof would miss it"

    # The refusal's reason travels only inside its sealed attributes.
    assert refusal.message == "Encoded failure"
    assert refusal.stack_trace == ""
    assert is_sealed(refusal.encoded_attributes)
    assert key_id_of(refusal.encoded_attributes) == family_key
    decoded = await data_converter.decode_failure(refusal)
    # The real reason, for those who hold the key.
    assert isinstance(decoded, ApplicationError)
    assert decoded.message == REFUSAL_REASON

    # No comment anywhere in the raw history or the search attributes.
    raw = {name: history.to_json() for name, history in histories.items()}
    raw["refusal"] = MessageToJson(refusal)
    raw |= {
        f"search attributes {d.id}": MessageToJson(d.raw_description.workflow_execution_info)
        for d in descriptions
    }
    for step in ("intake", "contact", "wrong", "refusal", "closure", "follow-up"):
        marked = _marked(run, step)
        for where, text in raw.items():
            assert marked not in text, f"{marked} in clear in {where}"
            assert marked not in json.dumps(json.loads(text), ensure_ascii=False), where
    everything = "".join(raw.values())
    assert run not in everything
    assert REFUSAL_REASON not in everything
