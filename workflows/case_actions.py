"""Staff actions on a case: one Workflow Update each, with a validator that rejects an action
not allowed in the case's stage or for the actor's role without writing any history."""

from collections.abc import Callable
from typing import TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.lifecycle import transitions as t
    from models.lifecycle.actions import Action
    from models.lifecycle.preconditions import date_problem
    from models.lifecycle.state import CaseState
    from models.lifecycle.steps import StepLog
    from models.payloads import actions as inputs
    from models.payloads.case_start import SignalOutcome
    from models.payloads.case_view import CaseView

from workflows.case_runtime import CaseRuntime, rejected

Command = TypeVar("Command", bound=inputs.StaffAction)


class CaseActions(CaseRuntime):
    def _problem(self, action: Action, command: inputs.StaffAction) -> str | None:
        return self._refusal(action, command) or self._precondition(action, command)

    def _validate(self, action: Action, command: inputs.StaffAction) -> None:
        super()._validate(action, command)
        # Dates against the moment in the validator only: it does not run on replay, so a
        # history that took an action before this check existed replays as it ran.
        if self._state is not None and (
            dated := date_problem(self._state, command, workflow.now())
        ):
            raise rejected(dated)

    def _precondition(self, action: Action, command: inputs.StaffAction) -> str | None:
        """Action-specific checks beyond stage, role and territory."""
        state = self._state
        if state is None:
            return None
        if isinstance(command, inputs.PlanItemDoneIn):
            item = state.plan_items.get(command.item_id)
            if item is None:
                return f"the plan has no item {command.item_id}"
            if item.done_at is not None:
                return f"plan item {command.item_id} is already done"
        if action is Action.APPROVE_CLOSURE and state.closure_requested is None:
            return "no closure has been requested"
        if action is Action.REQUEST_CLOSURE and state.closure_requested is not None:
            return f"a closure ({state.closure_requested}) already awaits approval"
        if isinstance(command, inputs.ProlongationIn):
            return t.prolongation_refusal(state, command)
        return None

    async def _do(
        self, action: Action, command: Command, apply: Callable[[CaseState, Command, StepLog], None]
    ) -> CaseView:
        _, view = await self._act_viewed(action, command, lambda s, log: apply(s, command, log))
        return view

    @workflow.update
    async def receive_signal(self, command: inputs.SignalIn) -> SignalOutcome:
        state, view = await self._act_viewed(
            Action.RECEIVE_SIGNAL, command, lambda s, log: t.receive_signal(s, command, log)
        )
        return SignalOutcome(view=view, joined=state.signals > 1)

    @receive_signal.validator
    def _check_receive_signal(self, command: inputs.SignalIn) -> None:
        self._validate(Action.RECEIVE_SIGNAL, command)

    @workflow.update
    async def register_intake(self, command: inputs.IntakeIn) -> CaseView:
        return await self._do(Action.REGISTER_INTAKE, command, t.register_intake)

    @register_intake.validator
    def _check_register_intake(self, command: inputs.IntakeIn) -> None:
        self._validate(Action.REGISTER_INTAKE, command)

    @workflow.update
    async def record_assessment(self, command: inputs.AssessmentIn) -> CaseView:
        return await self._do(Action.RECORD_ASSESSMENT, command, t.record_assessment)

    @record_assessment.validator
    def _check_record_assessment(self, command: inputs.AssessmentIn) -> None:
        self._validate(Action.RECORD_ASSESSMENT, command)

    @workflow.update
    async def set_route(self, command: inputs.RouteIn) -> CaseView:
        return await self._do(Action.SET_ROUTE, command, t.set_route)

    @set_route.validator
    def _check_set_route(self, command: inputs.RouteIn) -> None:
        self._validate(Action.SET_ROUTE, command)

    @workflow.update
    async def name_team(self, command: inputs.TeamIn) -> CaseView:
        return await self._do(Action.NAME_TEAM, command, t.name_team)

    @name_team.validator
    def _check_name_team(self, command: inputs.TeamIn) -> None:
        self._validate(Action.NAME_TEAM, command)

    @workflow.update
    async def approve_plan(self, command: inputs.PlanIn) -> CaseView:
        return await self._do(Action.APPROVE_PLAN, command, t.approve_plan)

    @approve_plan.validator
    def _check_approve_plan(self, command: inputs.PlanIn) -> None:
        self._validate(Action.APPROVE_PLAN, command)

    @workflow.update
    async def complete_plan_item(self, command: inputs.PlanItemDoneIn) -> CaseView:
        return await self._do(Action.COMPLETE_PLAN_ITEM, command, t.complete_plan_item)

    @complete_plan_item.validator
    def _check_complete_plan_item(self, command: inputs.PlanItemDoneIn) -> None:
        self._validate(Action.COMPLETE_PLAN_ITEM, command)

    @workflow.update
    async def record_contact(self, command: inputs.ContactIn) -> CaseView:
        return await self._do(Action.RECORD_CONTACT, command, t.record_contact)

    @record_contact.validator
    def _check_record_contact(self, command: inputs.ContactIn) -> None:
        self._validate(Action.RECORD_CONTACT, command)

    @workflow.update
    async def record_review(self, command: inputs.ReviewIn) -> CaseView:
        return await self._do(Action.RECORD_REVIEW, command, t.record_review)

    @record_review.validator
    def _check_record_review(self, command: inputs.ReviewIn) -> None:
        self._validate(Action.RECORD_REVIEW, command)

    @workflow.update
    async def decide_prolongation(self, command: inputs.ProlongationIn) -> CaseView:
        return await self._do(Action.DECIDE_PROLONGATION, command, t.decide_prolongation)

    @decide_prolongation.validator
    def _check_decide_prolongation(self, command: inputs.ProlongationIn) -> None:
        self._validate(Action.DECIDE_PROLONGATION, command)

    @workflow.update
    async def request_closure(self, command: inputs.ClosureRequestIn) -> CaseView:
        return await self._do(Action.REQUEST_CLOSURE, command, t.request_closure)

    @request_closure.validator
    def _check_request_closure(self, command: inputs.ClosureRequestIn) -> None:
        self._validate(Action.REQUEST_CLOSURE, command)

    @workflow.update
    async def approve_closure(self, command: inputs.ClosureApprovalIn) -> CaseView:
        return await self._do(Action.APPROVE_CLOSURE, command, t.approve_closure)

    @approve_closure.validator
    def _check_approve_closure(self, command: inputs.ClosureApprovalIn) -> None:
        self._validate(Action.APPROVE_CLOSURE, command)

    @workflow.update
    async def give_urgent_service(self, command: inputs.UrgentServiceIn) -> CaseView:
        return await self._do(Action.GIVE_URGENT_SERVICE, command, t.give_urgent_service)

    @give_urgent_service.validator
    def _check_give_urgent_service(self, command: inputs.UrgentServiceIn) -> None:
        self._validate(Action.GIVE_URGENT_SERVICE, command)

    @workflow.update
    async def raise_child_safety_alert(self, command: inputs.ChildSafetyAlertIn) -> CaseView:
        return await self._do(Action.RAISE_CHILD_SAFETY_ALERT, command, t.raise_child_safety_alert)

    @raise_child_safety_alert.validator
    def _check_raise_child_safety_alert(self, command: inputs.ChildSafetyAlertIn) -> None:
        self._validate(Action.RAISE_CHILD_SAFETY_ALERT, command)

    @workflow.update
    async def reassign_curator(self, command: inputs.ReassignCuratorIn) -> CaseView:
        return await self._do(Action.REASSIGN_CURATOR, command, t.reassign_curator)

    @reassign_curator.validator
    def _check_reassign_curator(self, command: inputs.ReassignCuratorIn) -> None:
        self._validate(Action.REASSIGN_CURATOR, command)
