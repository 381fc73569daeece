"""What the case workflow and its follow-up workflow share: the state, persisting a step,
publishing search attributes and details, and the clock loop."""

import asyncio
import contextlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.case_records import CaseRecordActivities
    from models.inbox import approval_awaited
    from models.lifecycle.actions import Action, StaffActionSpec, refusal
    from models.lifecycle.preconditions import date_problem
    from models.lifecycle.state import CaseState
    from models.lifecycle.steps import StepLog
    from models.lifecycle.timers import advance_clock, next_wake_at
    from models.payloads.actions import StaffAction
    from models.payloads.case_view import CaseView
    from models.payloads.events import EventOrigin

from workflows.search_attributes import (
    ACCOMPANIMENT_LEVEL,
    AWAITING_APPROVAL,
    CASE_NUMBER,
    CASE_STAGE,
    CURATOR,
    ESCALATION_LEVEL,
    MUNICIPALITY,
    NEXT_DEADLINE,
    OVERDUE,
)

# Database writes are idempotent (a unique key per event), so retrying them long is safe.
DATABASE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)
DATABASE_TIMEOUT = timedelta(seconds=30)
PERSIST_AS_LOCAL_ACTIVITY = "persist-step-as-local-activity"
# Cases numbered at intake (workflows/case.py), which also publish `AwaitingApproval`. One
# patch for both: a third patch marker in a new case's first workflow task made the next
# rejected update's workflow task stay in the history (tests/workflows/test_case_rules.py).
CASE_NUMBER_AT_INTAKE = "case-number-at-intake"


def _origin() -> EventOrigin:
    """This run, and the staff request being handled if any: the update's id is
    `<action>:<Idempotency-Key>` (infra/case_client.py), so the key is what follows the name."""
    info = workflow.info()
    update = workflow.current_update_info()
    key = None
    if update is not None:
        prefix = f"{update.name}:"
        key = update.id.removeprefix(prefix)
    return EventOrigin(workflow_id=info.workflow_id, run_id=info.run_id, idempotency_key=key)


def rejected(message: str) -> ApplicationError:
    """A business refusal: never retried, shown to the caller as the reason."""
    return ApplicationError(message, type="Rejected", non_retryable=True)


class CaseRuntime:
    def __init__(self, state: CaseState | None) -> None:
        self._state = state
        self._lock = asyncio.Lock()  # one step at a time: handlers interleave at awaits
        self._changed = False
        self._published: dict[str, SearchAttributeUpdate[Any]] = {}
        self._published_details = ""

    async def _ready(self) -> CaseState:
        """The state, once the run method has loaded the policy (an update can come first)."""
        await workflow.wait_condition(lambda: self._state is not None)
        assert self._state is not None
        return self._state

    def _problem(self, spec: StaffActionSpec[Any], command: StaffAction) -> str | None:
        """Why `command` cannot be applied now, or None: territory, stage and role, then the
        action's precondition. Validators and the re-check under the lock both ask this."""
        state = self._state
        if state is None:
            opening = spec.action is Action.RECEIVE_SIGNAL
            return None if opening else "the case is still opening"
        if state.municipality not in command.actor.municipalities:
            return "the case belongs to a municipality outside the actor's territory"
        return refusal(spec.action, state.stage, command.actor.role) or spec.precondition(
            state, command
        )

    def _validate(self, spec: StaffActionSpec[Any], command: StaffAction) -> None:
        problem = self._problem(spec, command)
        # Dates against the moment in the validator only: it does not run on replay, so a
        # history that took an action before this check existed replays as it ran.
        if problem is None and self._state is not None:
            problem = date_problem(self._state, command, workflow.now())
        if problem is not None:
            raise rejected(problem)

    async def _take(
        self, spec: StaffActionSpec[Any], command: StaffAction
    ) -> tuple[CaseState, CaseView]:
        """Apply a validated action as one step: re-checked under the lock (an earlier update
        may have moved the case since validation), persisted, then published. With the new
        state, its view for the update's answer: the view the step persisted (nothing changes
        the state between the two: every change holds the lock), so it is built once."""
        async with self._lock:
            state = await self._ready()
            problem = self._problem(spec, command)
            if problem is not None:
                raise rejected(problem)
            log = StepLog(state, workflow.now(), command.actor.staff_id, command.actor.role)
            spec.transition(state, command, log)
            persisted = await self._persist(log)
            await self._after_step(spec.action, state)
            self._changed = True
            return state, state.view() if persisted is None else persisted

    async def _persist(self, log: StepLog) -> CaseView | None:
        """Persist the step, if it recorded anything; the view it stored."""
        step = log.step(_origin())
        if step is None:
            return None
        if workflow.patched(PERSIST_AS_LOCAL_ACTIVITY):
            # One marker in the history instead of three events and a second workflow task:
            # the step answers in the task that took it. The writes are keyed (event seq,
            # notification key, view version), so a replay that runs it again changes nothing.
            await workflow.execute_local_activity_method(
                CaseRecordActivities.persist_step,
                step,
                start_to_close_timeout=DATABASE_TIMEOUT,
                retry_policy=DATABASE_RETRY,
            )
        else:  # histories recorded before the patch persisted with a regular activity
            await workflow.execute_activity_method(
                CaseRecordActivities.persist_step,
                step,
                start_to_close_timeout=DATABASE_TIMEOUT,
                retry_policy=DATABASE_RETRY,
            )
        self._publish()
        return step.view

    def _publish(self) -> None:
        """Search attributes and current details for supervisors in the Web UI."""
        state = self._state
        assert state is not None
        next_deadline = state.next_deadline
        wanted: dict[str, SearchAttributeUpdate[Any]] = {
            CASE_STAGE.name: CASE_STAGE.value_set(state.stage),
            MUNICIPALITY.name: MUNICIPALITY.value_set(state.municipality),
            ACCOMPANIMENT_LEVEL.name: ACCOMPANIMENT_LEVEL.value_set(state.level)
            if state.level
            else ACCOMPANIMENT_LEVEL.value_unset(),
            CURATOR.name: CURATOR.value_set(state.curator)
            if state.curator
            else CURATOR.value_unset(),
            OVERDUE.name: OVERDUE.value_set(state.overdue),
            NEXT_DEADLINE.name: NEXT_DEADLINE.value_set(next_deadline)
            if next_deadline
            else NEXT_DEADLINE.value_unset(),
            ESCALATION_LEVEL.name: ESCALATION_LEVEL.value_set(state.escalation_level),
        }
        if state.case_number:  # given once, at intake; never unset (no upsert for old cases)
            wanted[CASE_NUMBER.name] = CASE_NUMBER.value_set(state.case_number)
        # Asked at every publish (memoized per run): a run that began before the patch answers
        # False from its first publish on, so its upserts stay as recorded; a case's first run
        # has asked already, at intake, a continued or follow-up run asks here first.
        if workflow.patched(CASE_NUMBER_AT_INTAKE):
            awaited = approval_awaited(state.stage, state.closure_requested)
            wanted[AWAITING_APPROVAL.name] = (
                AWAITING_APPROVAL.value_set(awaited) if awaited else AWAITING_APPROVAL.value_unset()
            )
        # Only what changed: every upsert is a history event and server work. The memory of
        # what was published is rebuilt identically on replay, so this stays deterministic.
        changed = [update for name, update in wanted.items() if self._published.get(name) != update]
        if changed:
            workflow.upsert_search_attributes(changed)
            self._published.update({update.key.name: update for update in changed})
        details = state.details_markdown()
        if details != self._published_details:
            workflow.set_current_details(details)
            self._published_details = details

    async def _run_clock(self, until: Callable[[CaseState], bool]) -> None:
        """Sleep until the next alarm or a change, fire what is due; until `until(state)`.
        Continues as new when the server suggests it, once no handler is running."""
        state = await self._ready()
        while not until(state):
            wake = next_wake_at(state)
            if wake is None or wake > workflow.now():
                timeout = None if wake is None else wake - workflow.now()
                with contextlib.suppress(TimeoutError):  # the timeout is the alarm itself
                    await workflow.wait_condition(lambda: self._changed, timeout=timeout)
            self._changed = False
            async with self._lock:
                await self._refresh_calendar(state)
                log = StepLog.system(state, workflow.now())
                advance_clock(state, log)
                await self._persist(log)
            if workflow.info().is_continue_as_new_suggested() and not until(state):
                await workflow.wait_condition(workflow.all_handlers_finished)
                self._continue_as_new(state)

    async def _after_step(self, action: Action, state: CaseState) -> None:
        """What a workflow does once `action` is persisted, beyond its state (the case workflow
        starts a social contract's own workflow); nothing by default."""

    async def _refresh_calendar(self, state: CaseState) -> None:
        """Read the published production calendar again if the state's is stale; a workflow
        that computes no more deadlines (the follow-ups) leaves this as it is."""

    def _continue_as_new(self, state: CaseState) -> None:
        raise NotImplementedError
