"""The family case workflow: one family episode from the first signal to closure."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.case_records import CaseRecordActivities
    from models.payloads.case_start import CaseStart
    from models.payloads.events import CaseEventDraft

from workflows.search_attributes import CASE_STAGE, MUNICIPALITY

# Database writes are idempotent, so retrying them for long is safe.
DATABASE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)
DATABASE_TIMEOUT = timedelta(seconds=30)


@workflow.defn
class CaseWorkflow:
    def __init__(self) -> None:
        self._closed = False

    @workflow.run
    async def run(self, start: CaseStart) -> None:
        workflow.upsert_search_attributes(
            [CASE_STAGE.value_set("identified"), MUNICIPALITY.value_set(start.municipality)]
        )
        await workflow.execute_activity_method(
            CaseRecordActivities.record_event,
            CaseEventDraft(
                case_id=start.case_id,
                seq=1,
                action="signal_received",
                actor_id=start.actor_id,
                actor_role=start.actor_role,
                stage_after="identified",
                data={"source": start.source},
                occurred_at=workflow.now(),
            ),
            start_to_close_timeout=DATABASE_TIMEOUT,
            retry_policy=DATABASE_RETRY,
        )
        await workflow.wait_condition(lambda: self._closed)
