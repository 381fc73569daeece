"""What a cached case costs a worker: the resident memory a `kurator worker` process grows by
as its workflow cache fills, per 1,000 cases.

Each case opened stays in the cache of the worker that ran it while it waits on its timers
(days, in production), so the worker's memory grows with the open cases it holds until
`max_cached_workflows` evicts the least recently used. The worker runs as production runs it,
in a process of its own (`kurator worker`), so that nothing else of the bench is counted; its
own metrics (`temporal_sticky_cache_size`) say how many cases it held when measured.
"""

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import psutil

from workers.bench.api_process import BenchError
from workers.bench.measure import Load, Opener, Side, Stepper, drive
from workers.devstack.processes import free_port

CACHE_SIZE_METRIC = "temporal_sticky_cache_size"
# Cases run before the first reading: the sandbox's first imports, the connection pools and
# the SDK's buffers are paid once, not per case.
WARMUP_CASES = 20


@dataclass(frozen=True)
class WorkerMemory:
    cases: int  # cases opened (and left waiting) between the two readings
    cached: int  # the worker's cache size at the second reading, by its own metrics
    max_cached: int  # the worker's max_cached_workflows
    rss_before: int  # bytes, after the warm-up cases
    rss_after: int

    @property
    def per_thousand(self) -> float:
        """Bytes the worker grew by per 1,000 cases cached."""
        return (self.rss_after - self.rss_before) / self.cases * 1000 if self.cases else 0.0


@dataclass(frozen=True)
class WorkerChild:
    process: psutil.Process
    metrics_url: str
    max_cached: int


@asynccontextmanager
async def worker_child(environment: dict[str, str], max_cached: int) -> AsyncIterator[WorkerChild]:
    """`kurator worker` with the given KURATOR_* variables (this process's others left out),
    its cache set to `max_cached`, its metrics on a free port; stopped at the end."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KURATOR_")}
    env.update(
        environment,
        KURATOR_MAX_CACHED_WORKFLOWS=str(max_cached),
        KURATOR_WORKER_METRICS_PORT=str(port),
        KURATOR_METRICS_HOST="127.0.0.1",
    )
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "workers.cli", "worker", env=env
    )
    worker = WorkerChild(psutil.Process(child.pid), f"http://127.0.0.1:{port}/metrics", max_cached)
    try:
        await cache_size(worker, wait_seconds=30)  # its metrics answer once it polls
        yield worker
    finally:
        if child.returncode is None:
            child.terminate()
        await asyncio.wait_for(child.wait(), 30)


async def cache_size(worker: WorkerChild, *, wait_seconds: float = 5) -> int:
    """The worker's own count of the workflows in its cache."""
    async with httpx.AsyncClient() as http:
        for _ in range(int(wait_seconds * 10)):
            if worker.process.status() == psutil.STATUS_ZOMBIE:
                raise BenchError("the worker child process exited (its log is above)")
            try:
                answer = await http.get(worker.metrics_url)
            except httpx.TransportError:
                await asyncio.sleep(0.1)
                continue
            # The SDK exports the gauge once its cache first changes: before, it holds none.
            return _gauge(answer.text, CACHE_SIZE_METRIC)
    raise BenchError(f"the worker child's metrics did not answer in {wait_seconds:.0f} s")


def _gauge(exposition: str, name: str) -> int:
    """The sum of a gauge's series in a Prometheus text exposition (0 when it has none)."""
    values = [
        float(line.rsplit(" ", 1)[1])
        for line in exposition.splitlines()
        if line.startswith((name + "{", name + " "))
    ]
    return int(sum(values))


async def cache_growth(
    worker: WorkerChild, open_case: Opener, step: Stepper, *, cases: int, concurrency: int
) -> WorkerMemory:
    """Open `cases` cases (each an intake and one step, then waiting on its timers) through a
    workload served by `worker`, after the warm-up ones, and read the worker's memory before
    and after."""
    if cases + WARMUP_CASES > worker.max_cached:
        raise BenchError(f"{cases} cases do not fit a cache of {worker.max_cached}")
    warm = Load(WARMUP_CASES, 1, concurrency, budget=600)
    await drive(Side("warm-up"), open_case, step, warm)
    before = worker.process.memory_info().rss
    load = Load(cases, 1, concurrency, budget=3600)
    await drive(Side("cached cases"), lambda n: open_case(WARMUP_CASES + n), step, load)
    after = worker.process.memory_info().rss
    return WorkerMemory(
        cases=cases,
        cached=await cache_size(worker),
        max_cached=worker.max_cached,
        rss_before=before,
        rss_after=after,
    )
