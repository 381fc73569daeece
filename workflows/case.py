"""The family case workflow: one family episode from the first signal to closure.

Started (or joined) by the `receive_signal` update-with-start; the workflow id comes from the
family's pseudonymous key (workflows/ids.py), so Temporal itself keeps one open episode per
family. At closure it hands the follow-ups (T9) to a workflow of their own and completes, so
the family's id is free for a later episode at once.
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.case_numbers import CaseNumberActivities
    from activities.policy_context import PolicyActivities
    from models.case_numbers import intake_year
    from models.lifecycle.actions import Action
    from models.lifecycle.state import CaseState
    from models.payloads.case_number import CaseNumberRequest
    from models.payloads.case_start import CaseInput, CaseOutcome, FollowUpInput, SignalOutcome
    from models.payloads.case_view import CaseView
    from models.payloads.policy_context import CasePolicyRequest
    from models.payloads.vocabulary import Stage

from workflows.calendar_refresh import CalendarRefresher
from workflows.case_runtime import (
    CASE_NUMBER_AT_INTAKE,
    DATABASE_RETRY,
    DATABASE_TIMEOUT,
    CaseRuntime,
)
from workflows.ids import follow_up_workflow_id
from workflows.social_contract_start import start_social_contract
from workflows.staff_updates import staff_update, staff_update_answering
from workflows.workflow_types import FOLLOW_UP_WORKFLOW

POLICY_TIMEOUT = timedelta(seconds=30)


def _signal_outcome(state: CaseState, view: CaseView) -> SignalOutcome:
    return SignalOutcome(view=view, joined=state.signals > 1)


@workflow.defn
class CaseWorkflow(CaseRuntime):
    # The staff actions, one Workflow Update each, from the catalogue's rows.
    receive_signal = staff_update_answering(Action.RECEIVE_SIGNAL, SignalOutcome, _signal_outcome)
    register_intake = staff_update(Action.REGISTER_INTAKE)
    record_assessment = staff_update(Action.RECORD_ASSESSMENT)
    set_route = staff_update(Action.SET_ROUTE)
    name_team = staff_update(Action.NAME_TEAM)
    approve_plan = staff_update(Action.APPROVE_PLAN)
    complete_plan_item = staff_update(Action.COMPLETE_PLAN_ITEM)
    record_contact = staff_update(Action.RECORD_CONTACT)
    record_review = staff_update(Action.RECORD_REVIEW)
    decide_prolongation = staff_update(Action.DECIDE_PROLONGATION)
    request_closure = staff_update(Action.REQUEST_CLOSURE)
    approve_closure = staff_update(Action.APPROVE_CLOSURE)
    give_urgent_service = staff_update(Action.GIVE_URGENT_SERVICE)
    raise_child_safety_alert = staff_update(Action.RAISE_CHILD_SAFETY_ALERT)
    reassign_curator = staff_update(Action.REASSIGN_CURATOR)
    record_agreement = staff_update(Action.RECORD_AGREEMENT)
    conclude_social_contract = staff_update(Action.CONCLUDE_SOCIAL_CONTRACT)
    record_commission_decision = staff_update(Action.RECORD_COMMISSION_DECISION)

    @workflow.init
    def __init__(self, case: CaseInput) -> None:
        super().__init__(case.state)
        self._start = case.start
        self._calendar = CalendarRefresher()

    @workflow.run
    async def run(self, case: CaseInput) -> CaseOutcome:
        if self._state is None:
            # The policy and calendar become part of the history: the case keeps the policy
            # version it started under, and replay never depends on today's files. The
            # calendar's published years are read again as decrees come (_refresh_calendar).
            # The API reads them into the start's input (api/intake_policy.py); a case started
            # without (a tool, or before the API did) loads them by an activity. Decided by the
            # input, which is in the history: replay takes the same branch.
            context = case.context
            if context is None:
                context = await workflow.execute_activity_method(
                    PolicyActivities.load_case_policy,
                    CasePolicyRequest(
                        policy=case.start.policy,
                        start_year=workflow.now().year,
                        today=workflow.now().date(),
                    ),
                    start_to_close_timeout=POLICY_TIMEOUT,
                )
            number = None
            if workflow.patched(CASE_NUMBER_AT_INTAKE):  # cases opened before have none
                # Keyed by the case id in PostgreSQL: run again (a retry, a lost marker), it
                # returns the number already given. The year is the workflow clock's.
                number = await workflow.execute_local_activity_method(
                    CaseNumberActivities.allocate_case_number,
                    CaseNumberRequest(
                        case_id=case.start.case_id,
                        municipality=case.start.municipality,
                        year=intake_year(workflow.now(), context.policy.utc_offset),
                    ),
                    start_to_close_timeout=DATABASE_TIMEOUT,
                    retry_policy=DATABASE_RETRY,
                )
            self._state = CaseState(
                case_id=case.start.case_id,
                workflow_id=workflow.info().workflow_id,
                first_run_id=workflow.info().first_execution_run_id,
                municipality=case.start.municipality,
                case_number=number,
                policy=context.policy,
                calendar=context.calendar,
                opened_at=workflow.now(),
            )
        self._publish()
        await self._run_clock(lambda state: state.stage is Stage.CLOSED)
        await workflow.wait_condition(workflow.all_handlers_finished)
        state = await self._ready()
        follow_up_id = follow_up_workflow_id(state.case_id)
        await workflow.start_child_workflow(
            FOLLOW_UP_WORKFLOW,
            FollowUpInput(state=state),
            id=follow_up_id,
            parent_close_policy=ParentClosePolicy.ABANDON,
            static_summary=f"Follow-ups of case {state.case_number or state.case_id} "
            f"({state.municipality})",
        )
        return CaseOutcome(
            case_id=state.case_id,
            closure_reason=state.closure_reason,
            closed_at=state.closed_at,
            follow_up_workflow_id=follow_up_id,
        )

    async def _refresh_calendar(self, state: CaseState) -> None:
        await self._calendar.refresh_if_stale(state)

    async def _after_step(self, action: Action, state: CaseState) -> None:
        if action is Action.CONCLUDE_SOCIAL_CONTRACT:
            await start_social_contract(state)

    def _continue_as_new(self, state: CaseState) -> None:
        workflow.continue_as_new(CaseInput(start=self._start, state=state))
