"""The resource map's review flags, run daily by a Temporal schedule
(infra/resource_review_schedule.py): one activity. Deterministic: the work is the activity's."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.resource_reviews import ResourceReviewActivities

REVIEW_TIMEOUT = timedelta(minutes=5)
# A database down for a moment: a few attempts; tomorrow's run tries again.
REVIEW_RETRY = RetryPolicy(initial_interval=timedelta(seconds=10), maximum_attempts=3)


@workflow.defn
class ResourceReviewWorkflow:
    @workflow.run
    async def run(self) -> int:
        return await workflow.execute_activity_method(
            ResourceReviewActivities.flag_resource_reviews,
            start_to_close_timeout=REVIEW_TIMEOUT,
            retry_policy=REVIEW_RETRY,
        )
