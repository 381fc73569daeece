"""The daily digest to supervisors and heads, run by a Temporal schedule
(infra/delivery/digest_schedule.py): one activity that queues each member's digest as
deliveries. Deterministic: the reading and the queueing are the activity's."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.notification_digest import DigestActivities
    from models.payloads.delivery import DigestsWritten

DIGEST_TIMEOUT = timedelta(minutes=10)
# Keyed by the day, a retried run queues nothing twice; a database down for a while is retried
# for about an hour, then the next day's run reports its own day.
DIGEST_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=10), maximum_interval=timedelta(minutes=10)
)
DIGEST_SCHEDULE_TO_CLOSE = timedelta(hours=1)


@workflow.defn
class NotificationDigestWorkflow:
    @workflow.run
    async def run(self) -> DigestsWritten:
        return await workflow.execute_activity_method(
            DigestActivities.queue_digests,
            start_to_close_timeout=DIGEST_TIMEOUT,
            schedule_to_close_timeout=DIGEST_SCHEDULE_TO_CLOSE,
            retry_policy=DIGEST_RETRY,
        )
