"""The audit anchor, run by a Temporal schedule (infra/audit/anchor_schedule.py): one activity
that signs the heads of all case chains into the anchor log. Deterministic: the work, the
database and the file are the activity's."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.audit_anchor import AuditAnchorActivities
    from models.payloads.audit_anchor import AnchorWritten

# The first anchor of a large database recomputes the links of every event (some 10 million
# events: minutes, or most of an hour on a small loaded host); later ones only those since the
# anchor before.
ANCHOR_TIMEOUT = timedelta(hours=2)
# A database that is down for a moment: a few attempts; the next scheduled run tries again.
ANCHOR_RETRY = RetryPolicy(initial_interval=timedelta(seconds=10), maximum_attempts=3)


@workflow.defn
class AuditAnchorWorkflow:
    @workflow.run
    async def run(self) -> AnchorWritten:
        return await workflow.execute_activity_method(
            AuditAnchorActivities.write_anchor,
            start_to_close_timeout=ANCHOR_TIMEOUT,
            retry_policy=ANCHOR_RETRY,
        )
