"""The Temporal schedule that writes the audit anchors: created by each worker at start, or
brought up to date (its interval, task queue and workflow), keeping its paused state and notes.
Overlap SKIP: an anchor still being written is never joined by another."""

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
from workflows.audit_anchor import AuditAnchorWorkflow

ANCHOR_SCHEDULE_ID = "kurator-audit-anchor"


def anchor_schedule(*, task_queue: str, interval: timedelta, workflow_id: str) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            AuditAnchorWorkflow.run, id=workflow_id, task_queue=task_queue
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=interval)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_anchor_schedule(
    client: Client,
    *,
    task_queue: str,
    interval: timedelta,
    schedule_id: str = ANCHOR_SCHEDULE_ID,
) -> ScheduleHandle:
    """Create the schedule (its first anchor at once) or update the one that exists."""
    wanted = anchor_schedule(task_queue=task_queue, interval=interval, workflow_id=schedule_id)
    return await create_or_update_schedule(client, schedule_id, wanted, trigger_immediately=True)
