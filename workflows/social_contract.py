"""A social contract's monitoring (социальный контракт): a child of the case workflow that
outlives it by design (ParentClosePolicy.ABANDON).

Monthly monitoring contacts during the contract's term and for 12 months after it, each a
deadline (T13) with the policy's escalation ladder; the outcome (completed, terminated early,
the family's income after). Closing the case does not end the monitoring: the months after the
contract belong to the contract, not to the episode, and this workflow completes only when
they are over. Its history is a chain of its own, under the contract's id.
"""

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from activities.social_contract_records import SocialContractActivities
    from models.lifecycle import contract_monitoring as monitoring
    from models.lifecycle.contract_monitoring import ContractLog, SocialContractState
    from models.payloads.actions import StaffAction
    from models.payloads.contract_start import SocialContractInput
    from models.payloads.events import EventOrigin
    from models.payloads.social_contract import (
        ContractContactIn,
        ContractOutcomeIn,
        SocialContractView,
    )
    from models.payloads.vocabulary import StaffRole

from workflows.case_runtime import DATABASE_RETRY, DATABASE_TIMEOUT, rejected
from workflows.search_attributes import (
    CURATOR,
    ESCALATION_LEVEL,
    MUNICIPALITY,
    NEXT_DEADLINE,
    OVERDUE,
)
from workflows.workflow_types import SOCIAL_CONTRACT_WORKFLOW

_STAFF = {StaffRole.SPECIALIST, StaffRole.SUPERVISOR, StaffRole.HEAD}


@workflow.defn(name=SOCIAL_CONTRACT_WORKFLOW)
class SocialContractWorkflow:
    @workflow.init
    def __init__(self, contract: SocialContractInput) -> None:
        self._state = contract.state
        self._started = contract.started
        self._lock = asyncio.Lock()
        self._changed = False
        self._details = ""
        self._published: dict[str, SearchAttributeUpdate[Any]] = {}
        # Planned here, before any handler or validator runs: a contact recorded the moment
        # the contract starts finds its deadline open. run() persists it; handlers wait.
        self._starting: ContractLog | None = None
        if not self._started:
            self._starting = ContractLog.system(self._state, workflow.now())
            monitoring.start_monitoring(self._state, self._starting)

    @workflow.run
    async def run(self, contract: SocialContractInput) -> None:
        state = self._state
        if self._starting is not None:
            await self._persist(self._starting)
            self._starting = None
            self._started = True
        while not monitoring.finished(state):
            wake = monitoring.next_wake_at(state)
            if wake is None or wake > workflow.now():
                timeout = None if wake is None else wake - workflow.now()
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(lambda: self._changed, timeout=timeout)
            self._changed = False
            async with self._lock:
                log = ContractLog.system(state, workflow.now())
                monitoring.advance(state, log)
                if monitoring.settled(state):
                    monitoring.finish(state, log)
                await self._persist(log)
            if workflow.info().is_continue_as_new_suggested() and not monitoring.finished(state):
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(SocialContractInput(state=state, started=True))
        await workflow.wait_condition(workflow.all_handlers_finished)

    @workflow.query
    def view(self) -> SocialContractView:
        return self._state.view()

    @workflow.update
    async def record_contract_contact(self, command: ContractContactIn) -> SocialContractView:
        return await self._take(command, monitoring.contact_refusal, monitoring.record_contact)

    @record_contract_contact.validator
    def _validate_contact(self, command: ContractContactIn) -> None:
        self._check(command, monitoring.contact_refusal)

    @workflow.update
    async def record_contract_outcome(self, command: ContractOutcomeIn) -> SocialContractView:
        return await self._take(command, monitoring.outcome_refusal, monitoring.record_outcome)

    @record_contract_outcome.validator
    def _validate_outcome(self, command: ContractOutcomeIn) -> None:
        self._check(command, monitoring.outcome_refusal)

    def _problem(
        self, command: StaffAction, refusal: Callable[[SocialContractState, Any], str | None]
    ) -> str | None:
        state = self._state
        if state.municipality not in command.actor.municipalities:
            return "the contract belongs to a municipality outside the actor's territory"
        if command.actor.role not in _STAFF:
            return f"role {command.actor.role} may not act on a social contract"
        if monitoring.finished(state):
            return "the contract's monitoring is over"
        return refusal(state, command)

    def _check(
        self, command: StaffAction, refusal: Callable[[SocialContractState, Any], str | None]
    ) -> None:
        problem = self._problem(command, refusal)
        if problem is not None:
            raise rejected(problem)

    async def _take(
        self,
        command: StaffAction,
        refusal: Callable[[SocialContractState, Any], str | None],
        transition: Callable[[SocialContractState, Any, ContractLog], None],
    ) -> SocialContractView:
        await workflow.wait_condition(lambda: self._started)
        async with self._lock:
            self._check(command, refusal)  # again: an earlier update may have moved it
            log = ContractLog(
                self._state, workflow.now(), command.actor.staff_id, command.actor.role
            )
            transition(self._state, command, log)
            await self._persist(log)
            self._changed = True
            return self._state.view()

    async def _persist(self, log: ContractLog) -> None:
        info, update = workflow.info(), workflow.current_update_info()
        key = None if update is None else update.id.removeprefix(f"{update.name}:")
        step = log.step(
            EventOrigin(workflow_id=info.workflow_id, run_id=info.run_id, idempotency_key=key)
        )
        if step is None:
            return
        await workflow.execute_local_activity_method(
            SocialContractActivities.persist_contract_step,
            step,
            start_to_close_timeout=DATABASE_TIMEOUT,
            retry_policy=DATABASE_RETRY,
        )
        self._publish()

    def _publish(self) -> None:
        """What supervisors filter by in the Web UI, as a case publishes it (no CaseStage: a
        contract is not a stage of the case); only what changed, rebuilt alike on replay."""
        state = self._state
        deadlines = state.deadlines.values()
        next_due = min((d.due_at for d in deadlines), default=None)
        wanted: dict[str, SearchAttributeUpdate[Any]] = {
            MUNICIPALITY.name: MUNICIPALITY.value_set(state.municipality),
            CURATOR.name: CURATOR.value_set(state.curator)
            if state.curator
            else CURATOR.value_unset(),
            OVERDUE.name: OVERDUE.value_set(any(d.overdue for d in deadlines)),
            NEXT_DEADLINE.name: NEXT_DEADLINE.value_set(next_due)
            if next_due
            else NEXT_DEADLINE.value_unset(),
            ESCALATION_LEVEL.name: ESCALATION_LEVEL.value_set(
                max((d.escalation_level for d in deadlines), default=0)
            ),
        }
        changed = [u for name, u in wanted.items() if self._published.get(name) != u]
        if changed:
            workflow.upsert_search_attributes(changed)
            self._published.update({update.key.name: update for update in changed})
        details = state.details_markdown()
        if details != self._details:
            workflow.set_current_details(details)
            self._details = details
