"""Keeping one of Kurator's Temporal schedules as the code wants it: each worker creates it at
start, or brings the one that exists up to date (its action, spec and policy; its state, such
as a pause an operator set, stays as it is)."""

import dataclasses

from temporalio.client import (
    Client,
    Schedule,
    ScheduleAlreadyRunningError,
    ScheduleHandle,
    ScheduleUpdate,
    ScheduleUpdateInput,
)


async def create_or_update_schedule(
    client: Client, schedule_id: str, wanted: Schedule, *, trigger_immediately: bool = False
) -> ScheduleHandle:
    """`trigger_immediately` runs a new schedule's action at once (not an updated one's)."""
    try:
        return await client.create_schedule(
            schedule_id, wanted, trigger_immediately=trigger_immediately
        )
    except ScheduleAlreadyRunningError:
        handle = client.get_schedule_handle(schedule_id)

        def updated(current: ScheduleUpdateInput) -> ScheduleUpdate:
            schedule = dataclasses.replace(
                current.description.schedule,
                action=wanted.action,
                spec=wanted.spec,
                policy=wanted.policy,
            )
            return ScheduleUpdate(schedule=schedule)

        await handle.update(updated)
        return handle
