"""Post-closure follow-ups (T9: +3 and +6 months by default) of a closed case.

Each follow-up is a deadline the curator meets with `record_follow_up`; a missed one escalates
by the T9 ladder. The workflow completes when every follow-up is recorded or has run through
its ladder.
"""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.lifecycle.actions import Action
    from models.lifecycle.state import CaseState
    from models.lifecycle.steps import StepLog
    from models.lifecycle.transitions import plan_follow_ups
    from models.payloads.case_start import FollowUpInput

from workflows.case_runtime import CaseRuntime
from workflows.staff_updates import staff_update
from workflows.workflow_types import FOLLOW_UP_WORKFLOW


def _all_settled(state: CaseState) -> bool:
    """Every follow-up recorded, or its whole ladder fired."""
    return all(deadline.next_alarm() is None for deadline in state.deadlines.values())


@workflow.defn(name=FOLLOW_UP_WORKFLOW)
class CaseFollowUpWorkflow(CaseRuntime):
    record_follow_up = staff_update(Action.RECORD_FOLLOW_UP)

    @workflow.init
    def __init__(self, follow_up: FollowUpInput) -> None:
        super().__init__(follow_up.state)
        self._planned = follow_up.planned
        # Armed here, before any handler or validator runs: a follow-up recorded the moment
        # the case closes must find its deadline open, not wait for run() to arm it. The step
        # is persisted by run(); handlers wait for that (`_ready`), so events stay in order.
        self._planning: StepLog | None = None
        if not self._planned:
            state = follow_up.state
            self._planning = StepLog.system(state, workflow.now())
            plan_follow_ups(state, self._planning)
            self._planning.event(
                "follow_ups_planned",
                stage_before=state.stage,
                data={"due": [d.due_at.isoformat() for d in state.deadlines.values()]},
            )

    async def _ready(self) -> CaseState:
        await workflow.wait_condition(lambda: self._planned)
        return await super()._ready()

    @workflow.run
    async def run(self, follow_up: FollowUpInput) -> None:
        if self._planning is not None:
            # Not under the lock: a handler may hold it while it waits for `_planned`. Nothing
            # else changes the state until then, since every change waits for `_planned` too.
            await self._persist(self._planning)
            self._planning = None
            self._planned = True
        state = await self._ready()
        await self._run_clock(_all_settled)
        await self._end(state)

    async def _end(self, state: CaseState) -> None:
        """Record the follow-ups that were never made, then close the books: a finished
        follow-up workflow leaves nothing open in anybody's inbox."""
        if not state.deadlines:
            return
        async with self._lock:
            log = StepLog.system(state, workflow.now())
            missed = sorted(state.deadlines)
            state.deadlines.clear()
            log.event(
                "follow_ups_ended",
                stage_before=state.stage,
                data={"missed": missed},
                reason="follow-ups not recorded after the whole escalation ladder",
            )
            await self._persist(log)

    def _continue_as_new(self, state: CaseState) -> None:
        workflow.continue_as_new(FollowUpInput(state=state, planned=True))
