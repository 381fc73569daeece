"""Record the workflow histories that `tests/workflows/test_replay.py` replays.

Run from the repository root, in the project's virtualenv:

    python -m tests.workflows.record_histories [--only current|legacy]

It starts its own embedded PostgreSQL (in a temporary directory, migrated to head), a fresh
time-skipping Temporal test server per scenario and a dev server with a lowered
continue-as-new threshold, drives a few representative synthetic cases with the real worker
(about half a minute a set), and writes each workflow's history as JSON, overwriting files of
the same name and leaving any others alone. Two sets of the same scenarios:

- `histories/compact/<name>.json` (`current`): as Kurator writes them now, each case opened
  with its policy context in the start's input as the API opens it, every payload
  compressed against payload dictionary 1 and sealed with its family's data key
  (infra/sealing), each step persisted by a local activity, each case numbered at intake by
  a local activity (the `case-number-at-intake` patch) and showing its `CaseNumber`. The
  data keys go to `data-keys.json` beside them (in clear: synthetic keys that seal nothing
  else), from which the replay test opens them without the recording database.
- `histories/case_number/`: the same, recorded before the payload dictionary (each payload
  compressed by zlib alone) and before the API gave the policy (loaded by an activity); no
  longer written by this script: they stand for the cases that were running when both
  shipped, and were the dictionary's source (tests/support/build_payload_dictionary.py).
- `histories/local_persist/`: sealed and persisted by local activities the same way,
  recorded before cases were numbered; no longer written by this script: they stand for the
  cases that were running, unnumbered, when case numbers shipped.
- `histories/sealed/`: sealed the same way, recorded before steps were persisted as local
  activities (a regular activity each, `workflow.patched` tells the two apart); no longer
  written by this script: they stand for the cases that were running when the patch shipped.
- `histories/legacy/<name>.json`: with the plain pydantic converter, as workflows recorded
  before sealing hold them; they prove the codec passes unsealed payloads through. Those
  committed stand for histories that exist in production, so re-record them only on purpose.

The committed files stand for workflows already running in production: the replay test fails
when today's workflow code would take a different path through one of them
(non-determinism). So re-record only on purpose, e.g. when a scenario is added. Once real
cases run, never re-record to make a failing replay pass: a change that breaks replay needs
`workflow.patched` (or a new workflow type) instead, and the old history stays.
"""

import argparse
import asyncio
import logging
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.api.testservice.v1 import LockTimeSkippingRequest, UnlockTimeSkippingRequest
from temporalio.client import Client, WorkflowHandle, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment

from infra.logs import configure_logging, get_logger
from infra.migrate import upgrade_to_head
from infra.sealing.converter import sealing_data_converter
from models.crud.case_projections import get_view
from models.db import SessionFactory, make_async_engine, make_session_factory
from models.payloads import actions as act
from models.payloads.case_start import CaseOutcome
from models.payloads.case_view import CaseView
from models.payloads.social_contract import ContractContactIn, ContractOutcomeIn
from models.payloads.vocabulary import (
    AccompanimentChannel,
    AcuteRisk,
    FamilyCategory,
    NeedCircumstance,
    NeedDecision,
    ReviewOutcome,
    RouteKind,
    ServiceType,
    SocialContractOutcome,
)
from models.policy import AccompanimentLevel, ClosureReason, Duration, SocialContractDirection
from tests.support.cases import open_case, specialist, supervisor
from tests.support.sealing import exported_key_source, test_key_store
from tests.support.temporal import start_dev_server, start_time_skipping
from workers.devstack.embedded_postgres import EmbeddedPostgres, ensure_database
from workers.worker import build_worker
from workflows.case import CaseWorkflow
from workflows.follow_up import CaseFollowUpWorkflow
from workflows.ids import social_contract_workflow_id
from workflows.social_contract import SocialContractWorkflow

HISTORIES = Path(__file__).resolve().parent / "histories"
CURRENT = HISTORIES / "compact"
LEGACY = HISTORIES / "legacy"
DATA_KEYS = CURRENT / "data-keys.json"
CURATOR_ID = "staff-101"
CaseHandle = WorkflowHandle[CaseWorkflow, CaseOutcome]

log = get_logger(__name__)


async def _finished(env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any]) -> None:
    """Wait for the workflow to complete, the time-skipping clock running freely meanwhile
    (handles from update-with-start do not unlock it by themselves)."""
    service = env.client.test_service
    await service.unlock_time_skipping(UnlockTimeSkippingRequest())
    try:
        await asyncio.wait_for(handle.result(), timeout=120)
    finally:
        await service.lock_time_skipping(LockTimeSkippingRequest())


async def _advance_to(env: WorkflowEnvironment, moment: datetime) -> None:
    await env.sleep(moment - await env.get_current_time())


async def _projection(
    sessions: SessionFactory, view: CaseView, accept: Callable[[CaseView], bool]
) -> CaseView:
    """The stored state of the case, once `accept` holds for it (a worker writes it)."""
    for _ in range(200):
        async with sessions() as session:
            stored = await get_view(session, case_id=view.case_id, keys=test_key_store(sessions))
        if stored is not None and accept(stored):
            return stored
        await asyncio.sleep(0.1)
    raise RuntimeError(f"case {view.case_id}: the expected state was never stored")


async def _to_support(
    client: Client, task_queue: str, *, policy: str, item_deadline: timedelta
) -> tuple[CaseHandle, CaseView]:
    """Signal, intake, first contact, an L2 assessment, route, team and an approved plan."""
    handle, outcome = await open_case(client, task_queue, policy=policy, as_the_api=True)
    staff = specialist(CURATOR_ID)
    await handle.execute_update(CaseWorkflow.register_intake, act.IntakeBody().by(staff))
    await handle.execute_update(CaseWorkflow.record_contact, act.ContactBody().by(staff))
    await handle.execute_update(
        CaseWorkflow.record_assessment,
        act.AssessmentBody(
            decision=NeedDecision.NEED_RECOGNISED,
            circumstances=[
                NeedCircumstance.NO_WORK_NO_MEANS,
                NeedCircumstance.CHILD_ADAPTATION_DIFFICULTY,
            ],
            level=AccompanimentLevel.L2,
        ).by(staff),
    )
    await handle.execute_update(
        CaseWorkflow.set_route,
        act.RouteBody(
            routes=[RouteKind.OWN_SERVICES, RouteKind.OTHER_PROVIDERS],
            providers=["employment-centre"],
        ).by(staff),
    )
    await handle.execute_update(
        CaseWorkflow.name_team,
        act.TeamBody(curator=CURATOR_ID, members=["staff-102"]).by(staff),
    )
    due = outcome.view.opened_at + item_deadline
    view = await handle.execute_update(
        CaseWorkflow.approve_plan,
        act.PlanBody(
            items=[
                act.PlanItemIn(
                    item_id="labour-1",
                    service_type=ServiceType.LABOUR,
                    provider="employment-centre",
                    responsible=CURATOR_ID,
                    deadline=due,
                ),
                act.PlanItemIn(
                    item_id="ped-1",
                    channel=AccompanimentChannel.PEDAGOGICAL,
                    provider="school",
                    responsible="staff-102",
                    deadline=due + item_deadline,
                ),
            ]
        ).by(supervisor()),
    )
    return handle, view


async def _l2_closed_with_follow_ups(
    env: WorkflowEnvironment, task_queue: str, sessions: SessionFactory
) -> dict[str, WorkflowHistory]:
    """An L2 case from the signal to an approved closure (goals achieved) on the default
    policy, escalations on the way; then its follow-ups: the first made, the second missed."""
    handle, view = await _to_support(
        env.client, task_queue, policy="default", item_deadline=timedelta(days=20)
    )
    staff = specialist(CURATOR_ID)
    await handle.execute_update(
        CaseWorkflow.complete_plan_item, act.PlanItemDoneBody(item_id="labour-1").by(staff)
    )
    await env.sleep(timedelta(days=30))  # the contact cadence and the review fall overdue
    await handle.execute_update(CaseWorkflow.record_contact, act.ContactBody().by(staff))
    await handle.execute_update(
        CaseWorkflow.record_review, act.ReviewBody(outcome=ReviewOutcome.CONTINUE).by(staff)
    )
    await handle.execute_update(
        CaseWorkflow.complete_plan_item, act.PlanItemDoneBody(item_id="ped-1").by(staff)
    )
    await handle.execute_update(
        CaseWorkflow.request_closure,
        act.ClosureRequestBody(reason=ClosureReason.GOALS_ACHIEVED).by(staff),
    )
    await handle.execute_update(
        CaseWorkflow.approve_closure, act.ClosureApprovalBody(approve=True).by(supervisor())
    )
    await _finished(env, handle)
    outcome = await handle.result()
    assert outcome.follow_up_workflow_id is not None
    follow_up = env.client.get_workflow_handle(
        outcome.follow_up_workflow_id, result_type=type(None)
    )
    planned = await _projection(sessions, view, lambda v: bool(v.deadlines))
    first_due = min(d.due_at for d in planned.deadlines)
    await _advance_to(env, first_due - timedelta(days=1))
    await follow_up.execute_update(
        CaseFollowUpWorkflow.record_follow_up, act.FollowUpBody(number=1).by(staff)
    )
    await _finished(env, follow_up)
    return {
        "case_l2_goals_achieved": await handle.fetch_history(),
        "follow_up_one_made_one_missed": await follow_up.fetch_history(),
    }


async def _refused_at_assessment(
    env: WorkflowEnvironment, task_queue: str, sessions: SessionFactory
) -> dict[str, WorkflowHistory]:
    """The family refuses at assessment (compressed policy): the specialist's closure request
    waits for a supervisor while the first contact, never made, escalates."""
    handle, _ = await open_case(env.client, task_queue, policy="compressed", as_the_api=True)
    staff = specialist(CURATOR_ID)
    await handle.execute_update(CaseWorkflow.register_intake, act.IntakeBody().by(staff))
    view = await handle.execute_update(
        CaseWorkflow.record_assessment,
        act.AssessmentBody(decision=NeedDecision.REFUSED, comment="written refusal").by(staff),
    )
    assert view.closure_requested is ClosureReason.WRITTEN_REFUSAL
    await env.sleep(timedelta(seconds=150))
    await handle.execute_update(
        CaseWorkflow.approve_closure, act.ClosureApprovalBody(approve=True).by(supervisor())
    )
    await _finished(env, handle)
    return {"case_refused_at_assessment": await handle.fetch_history()}


async def _l3_acute_risk(
    env: WorkflowEnvironment, task_queue: str, sessions: SessionFactory
) -> dict[str, WorkflowHistory]:
    """An agency signal with child-safety indicators; acute risk forces L3 and alerts; the
    same-day deadlines escalate before the team is named; a supervisor closes the case when
    the child is placed (default policy)."""
    handle, _ = await open_case(
        env.client, task_queue, policy="default", child_safety=True, as_the_api=True
    )
    staff = specialist(CURATOR_ID)
    await handle.execute_update(CaseWorkflow.register_intake, act.IntakeBody().by(staff))
    view = await handle.execute_update(
        CaseWorkflow.record_assessment,
        act.AssessmentBody(
            decision=NeedDecision.NEED_RECOGNISED,
            circumstances=[NeedCircumstance.FAMILY_CONFLICT_OR_VIOLENCE],
            acute_risks=[AcuteRisk.VIOLENCE, AcuteRisk.CHILD_UNDER_10_ALONE],
        ).by(staff),
    )
    assert view.level is AccompanimentLevel.L3
    await handle.execute_update(
        CaseWorkflow.give_urgent_service,
        act.UrgentServiceBody(service="temporary_housing").by(staff),
    )
    await env.sleep(timedelta(days=4))  # T1, T4 and the first contact escalate
    await handle.execute_update(
        CaseWorkflow.raise_child_safety_alert,
        act.ChildSafetyAlertBody(indicators=[AcuteRisk.PARENT_INTOXICATED]).by(staff),
    )
    await handle.execute_update(CaseWorkflow.record_contact, act.ContactBody().by(staff))
    await handle.execute_update(
        CaseWorkflow.set_route, act.RouteBody(routes=[RouteKind.COMMISSION]).by(staff)
    )
    await handle.execute_update(CaseWorkflow.name_team, act.TeamBody(curator="staff-103").by(staff))
    await handle.execute_update(
        CaseWorkflow.reassign_curator,
        act.ReassignCuratorBody(curator=CURATOR_ID).by(supervisor()),
    )
    await env.sleep(timedelta(days=8))  # the weekly contact falls overdue
    await handle.execute_update(
        CaseWorkflow.request_closure,
        act.ClosureRequestBody(reason=ClosureReason.CHILD_PLACED).by(supervisor()),
    )
    await _finished(env, handle)
    return {"case_l3_acute_risk_child_placed": await handle.fetch_history()}


async def _continued_as_new(
    env: WorkflowEnvironment, task_queue: str, sessions: SessionFactory
) -> dict[str, WorkflowHistory]:
    """On a dev server that suggests continue-as-new at 200 events (compressed policy): a case
    in support continues as new; its second run is closed by a supervisor (transferred)."""
    # Both items (10 and 20 minutes on) within the compressed policy's 24-minute term.
    started, _ = await _to_support(
        env.client, task_queue, policy="compressed", item_deadline=timedelta(minutes=10)
    )
    handle = env.client.get_workflow_handle(started.id, result_type=CaseOutcome)
    first_run = (await handle.describe()).run_id
    staff = specialist(CURATOR_ID)
    for number in range(100):
        if (await handle.describe()).run_id != first_run:
            break
        if number % 2:
            await handle.execute_update(
                CaseWorkflow.give_urgent_service,
                act.UrgentServiceBody(service="food_set").by(staff),
            )
        else:
            await handle.execute_update(
                CaseWorkflow.record_contact, act.ContactBody(reached=False).by(staff)
            )
    else:
        raise RuntimeError("the case never continued as new")
    second_run = (await handle.describe()).run_id
    await handle.execute_update(CaseWorkflow.record_contact, act.ContactBody().by(staff))
    await handle.execute_update(
        CaseWorkflow.request_closure,
        act.ClosureRequestBody(reason=ClosureReason.TRANSFERRED).by(supervisor()),
    )
    await asyncio.wait_for(handle.result(), timeout=60)
    return {
        "case_continue_as_new_run_1": await env.client.get_workflow_handle(
            started.id, run_id=first_run
        ).fetch_history(),
        "case_continue_as_new_run_2": await env.client.get_workflow_handle(
            started.id, run_id=second_run
        ).fetch_history(),
    }


async def _agreement_and_social_contract(
    env: WorkflowEnvironment, task_queue: str, sessions: SessionFactory
) -> dict[str, WorkflowHistory]:
    """A ТЖС family with a job-search social contract (compressed policy): the service
    agreement recorded, the contract concluded; its monthly contacts, one made, the others
    missed through their ladders, during its term and the year after; completed with the
    family's income; then the case closed (its monitoring over, the case completes)."""
    handle, _ = await open_case(env.client, task_queue, policy="compressed", as_the_api=True)
    staff = specialist(CURATOR_ID)
    update = handle.execute_update
    await update(CaseWorkflow.register_intake, act.IntakeBody().by(staff))
    await update(
        CaseWorkflow.record_assessment,
        act.AssessmentBody(
            decision=NeedDecision.NEED_RECOGNISED,
            circumstances=[NeedCircumstance.NO_WORK_NO_MEANS],
            level=AccompanimentLevel.L1,
            category=FamilyCategory.TZHS,
        ).by(staff),
    )
    await update(
        CaseWorkflow.set_route,
        act.RouteBody(
            routes=[RouteKind.OWN_SERVICES, RouteKind.SOCIAL_CONTRACT],
            social_contract=SocialContractDirection.JOB_SEARCH,
        ).by(staff),
    )
    await update(CaseWorkflow.name_team, act.TeamBody(curator=CURATOR_ID).by(staff))
    now = await env.get_current_time()
    await update(
        CaseWorkflow.approve_plan,
        act.PlanBody(
            items=[
                act.PlanItemIn(
                    item_id="labour-1",
                    service_type=ServiceType.LABOUR,
                    provider="employment-centre",
                    responsible=CURATOR_ID,
                    deadline=now + timedelta(seconds=300),
                )
            ]
        ).by(supervisor()),
    )
    today = (now + timedelta(hours=7)).date()
    await update(
        CaseWorkflow.record_agreement,
        act.AgreementBody(number="17/2026", concluded_on=today).by(staff),
    )
    view = await update(
        CaseWorkflow.conclude_social_contract,
        act.SocialContractBody(number="СК-1", concluded_on=today, term=Duration.parse("PT180S")).by(
            staff
        ),
    )
    assert view.social_contract is not None
    contract = env.client.get_workflow_handle(
        social_contract_workflow_id(view.case_id), result_type=type(None)
    )
    await contract.execute_update(
        SocialContractWorkflow.record_contract_contact,
        ContractContactIn(number=1, actor=staff),
    )
    await _advance_to(env, view.social_contract.term_ends_at + timedelta(seconds=5))
    await contract.execute_update(
        SocialContractWorkflow.record_contract_outcome,
        ContractOutcomeIn(
            outcome=SocialContractOutcome.COMPLETED, income_after="45000", actor=staff
        ),
    )
    await _finished(env, contract)
    await update(
        CaseWorkflow.request_closure,
        act.ClosureRequestBody(reason=ClosureReason.GOALS_ACHIEVED).by(supervisor()),
    )
    await _finished(env, handle)
    return {
        "case_agreement_social_contract": await handle.fetch_history(),
        "social_contract_monitored": await contract.fetch_history(),
    }


Scenario = Callable[
    [WorkflowEnvironment, str, SessionFactory], Awaitable[dict[str, WorkflowHistory]]
]


async def _record(
    start: Callable[[DataConverter], Awaitable[WorkflowEnvironment]],
    scenario: Scenario,
    sessions: SessionFactory,
    converter: DataConverter,
) -> dict[str, WorkflowHistory]:
    """Run one scenario on a server of its own: the time-skipping test server can stop
    skipping time for good once a parent has completed while its abandoned child (the
    follow-up workflow) runs on, so scenarios must not share one."""
    env = await start(converter)
    try:
        task_queue = f"histories-{uuid.uuid4().hex}"
        # PostgreSQL's sealed columns need the database's keys whichever converter Temporal uses.
        keys = test_key_store(sessions)
        async with build_worker(env.client, task_queue=task_queue, sessions=sessions, keys=keys):
            recorded = await scenario(env, task_queue, sessions)
    finally:
        await env.shutdown()
    log.info("scenario recorded", scenario=scenario.__name__, histories=sorted(recorded))
    return recorded


async def _dev_server_continuing_as_new_early(converter: DataConverter) -> WorkflowEnvironment:
    return await start_dev_server(
        converter, "--dynamic-config-value", "limit.historyCount.suggestContinueAsNew=200"
    )


async def record(sessions: SessionFactory, converter: DataConverter) -> dict[str, WorkflowHistory]:
    """Every scenario's histories, by file name, written through `converter`."""
    histories: dict[str, WorkflowHistory] = {}
    for scenario in (
        _l2_closed_with_follow_ups,
        _refused_at_assessment,
        _l3_acute_risk,
        _agreement_and_social_contract,
    ):
        histories |= await _record(start_time_skipping, scenario, sessions, converter)
    histories |= await _record(
        _dev_server_continuing_as_new_early, _continued_as_new, sessions, converter
    )
    return histories


def _write(directory: Path, histories: dict[str, WorkflowHistory]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, history in sorted(histories.items()):
        path = directory / f"{name}.json"
        path.write_text(history.to_json() + "\n", encoding="utf-8")
        log.info("history written", path=str(path), events=len(history.events))


async def _record_sets(sessions: SessionFactory, sets: Sequence[str]) -> None:
    if "current" in sets:
        keys = test_key_store(sessions)
        sealed = await record(sessions, sealing_data_converter(keys))
        _write(CURRENT, sealed)
        workflow_ids = {name: history.workflow_id for name, history in sealed.items()}
        exported = await exported_key_source(keys, sessions, workflow_ids)
        DATA_KEYS.write_text(exported.to_json(), encoding="utf-8")
        log.info("data keys written", path=str(DATA_KEYS), keys=len(exported.keys))
    if "legacy" in sets:
        _write(LEGACY, await record(sessions, pydantic_data_converter))


async def main(sets: Sequence[str]) -> None:
    configure_logging()
    logging.getLogger("temporalio").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="kurator-histories-") as scratch:
        server = EmbeddedPostgres(Path(scratch) / "data")
        url = server.start()
        engine = None
        try:
            database = ensure_database(url, "kurator_histories")
            upgrade_to_head(database)
            engine = make_async_engine(database)
            await _record_sets(make_session_factory(engine), sets)
        finally:
            if engine is not None:
                await engine.dispose()
            server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Record the histories the replay test replays.")
    parser.add_argument(
        "--only", choices=["current", "legacy"], help="Record one set (default: both)."
    )
    arguments = parser.parse_args()
    asyncio.run(main([arguments.only] if arguments.only else ["current", "legacy"]))
