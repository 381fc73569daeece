"""The bare-Temporal side of `kurator bench`: the shape of a Kurator case without Kurator.

Like the case workflow, it runs one activity when it starts (Kurator loads its policy), is
opened by an update-with-start, and each update runs one activity (Kurator persists the step)
before it answers. The activity does nothing: what Kurator adds on top (pydantic payloads, the
step logic, the PostgreSQL transaction, search attributes, the HTTP hop) is what the
benchmark measures. Only `temporalio` and the standard library here: it runs in the sandbox.
"""

from datetime import timedelta

from temporalio import activity, workflow

ACTIVITY_TIMEOUT = timedelta(seconds=30)


@activity.defn
async def bare_noop(step: int) -> int:
    return step


@workflow.defn
class BareWorkflow:
    @workflow.init
    def __init__(self, name: str) -> None:
        self._ready = False
        self._steps = 0

    @workflow.run
    async def run(self, name: str) -> int:
        await workflow.execute_activity(bare_noop, 0, start_to_close_timeout=ACTIVITY_TIMEOUT)
        self._ready = True
        await workflow.wait_condition(lambda: False)  # open until the server goes away
        return self._steps

    @workflow.update
    async def step(self, number: int) -> int:
        await workflow.wait_condition(lambda: self._ready)
        await workflow.execute_activity(bare_noop, number, start_to_close_timeout=ACTIVITY_TIMEOUT)
        self._steps += 1
        return self._steps
