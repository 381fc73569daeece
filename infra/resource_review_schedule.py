"""The daily schedule of the resource map's review flags: created by each worker at start, or
brought up to date; overlap SKIP. A day's interval is aligned to the epoch, so it runs at
00:00 UTC (07:00 in Novosibirsk), before the working day; a worker's start does not trigger
it (`kurator resources flag-reviews` flags at once)."""

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleHandle,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)

from infra.schedules import create_or_update_schedule
from workflows.resource_reviews import ResourceReviewWorkflow

REVIEW_SCHEDULE_ID = "kurator-resource-reviews"
REVIEW_EVERY = timedelta(days=1)


async def ensure_review_schedule(
    client: Client, *, task_queue: str, schedule_id: str = REVIEW_SCHEDULE_ID
) -> ScheduleHandle:
    wanted = Schedule(
        action=ScheduleActionStartWorkflow(
            ResourceReviewWorkflow.run, id=schedule_id, task_queue=task_queue
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=REVIEW_EVERY)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    return await create_or_update_schedule(client, schedule_id, wanted)
