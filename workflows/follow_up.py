"""Post-closure follow-ups (T9: +3 and +6 months by default) of a closed case.

Each follow-up is a deadline the curator meets with `record_follow_up`; a missed one escalates
by the T9 ladder. The workflow completes when every follow-up is recorded or has run through
its ladder.
"""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.lifecycle.actions import Action
    from models.lifecycle.planning import arm, done
    from models.lifecycle.state import CaseState
    from models.lifecycle.steps import StepLog
    from models.payloads.actions import FollowUpIn, StaffAction
    from models.payloads.case_start import FollowUpInput
    from models.payloads.case_view import CaseView
    from models.policy import DeadlineCode

from workflows.case_runtime import CaseRuntime


def _all_settled(state: CaseState) -> bool:
    """Every follow-up recorded, or its whole ladder fired."""
    return all(deadline.next_alarm() is None for deadline in state.deadlines.values())


@workflow.defn
class CaseFollowUpWorkflow(CaseRuntime):
    @workflow.init
    def __init__(self, follow_up: FollowUpInput) -> None:
        super().__init__(follow_up.state)
        self._planned = follow_up.planned

    @workflow.run
    async def run(self, follow_up: FollowUpInput) -> None:
        state = await self._ready()
        if not self._planned:
            async with self._lock:
                log = StepLog.system(state, workflow.now())
                assert state.closed_at is not None
                for number, after in enumerate(state.policy.follow_ups, start=1):
                    arm(
                        state,
                        f"T9:{number}",
                        DeadlineCode.T9,
                        start=state.closed_at,
                        due=after.value,
                        now=log.now,
                    )
                log.event(
                    "follow_ups_planned",
                    stage_before=state.stage,
                    data={"due": [d.due_at.isoformat() for d in state.deadlines.values()]},
                )
                await self._persist(log)
                self._planned = True
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

    @workflow.update
    async def record_follow_up(self, command: FollowUpIn) -> CaseView:
        def apply(state: CaseState, log: StepLog) -> None:
            done(state, f"T9:{command.number}")
            log.event(
                "follow_up_recorded",
                stage_before=state.stage,
                reason=command.comment,
                data={"number": command.number, "reached": command.reached},
            )

        state = await self._act(Action.RECORD_FOLLOW_UP, command, apply)
        return state.view()

    @record_follow_up.validator
    def _check_record_follow_up(self, command: FollowUpIn) -> None:
        self._validate(Action.RECORD_FOLLOW_UP, command)

    def _problem(self, action: Action, command: StaffAction) -> str | None:
        problem = self._refusal(action, command)
        state = self._state
        if problem is not None or state is None or not isinstance(command, FollowUpIn):
            return problem
        if f"T9:{command.number}" not in state.deadlines:
            return f"follow-up {command.number} is not open"
        return None

    def _continue_as_new(self, state: CaseState) -> None:
        workflow.continue_as_new(FollowUpInput(state=state, planned=True))
