"""The Temporal schedule of the daily digest (`kurator-notification-digest`): created by each
worker at start, or brought up to date (its hour and task queue), like the audit anchor's.
Overlap SKIP: a digest still being queued is never joined by another."""

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleCalendarSpec,
    ScheduleHandle,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
)

from infra.schedules import create_or_update_schedule
from workflows.notification_digest import NotificationDigestWorkflow

DIGEST_SCHEDULE_ID = "kurator-notification-digest"
UTC_OFFSET_HOURS = 7  # the oblast's local time, in which `digest_hour` is given


def digest_schedule(*, task_queue: str, local_hour: int, workflow_id: str) -> Schedule:
    """Every day at `local_hour`:00 local time (UTC+7, no daylight saving), given in UTC so
    the server needs no time-zone data."""
    utc_hour = (local_hour - UTC_OFFSET_HOURS) % 24
    return Schedule(
        action=ScheduleActionStartWorkflow(
            NotificationDigestWorkflow.run, id=workflow_id, task_queue=task_queue
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(hour=[ScheduleRange(utc_hour)], minute=[ScheduleRange(0)])
            ]
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_digest_schedule(
    client: Client,
    *,
    task_queue: str,
    local_hour: int,
    schedule_id: str = DIGEST_SCHEDULE_ID,
) -> ScheduleHandle:
    wanted = digest_schedule(task_queue=task_queue, local_hour=local_hour, workflow_id=schedule_id)
    return await create_or_update_schedule(client, schedule_id, wanted)
