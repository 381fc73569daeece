"""What `kurator bench` measures with: a closed-loop driver, round-trip samples, activity
durations and the CPU each process of the run spent."""

import asyncio
import math
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psutil
from temporalio import activity
from temporalio.client import Interceptor as ClientInterceptor
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

Opener = Callable[[int], Awaitable[Any]]  # opens case number n; returns its handle
Stepper = Callable[[Any, int], Awaitable[None]]  # takes step i on a case


@dataclass(frozen=True)
class Load:
    cases: int
    steps: int
    concurrency: int
    budget: float  # seconds: no case or step is launched after it


@dataclass
class Side:
    """What one workload measured, summed over its rounds."""

    name: str
    starts: list[float] = field(default_factory=list)
    steps: list[float] = field(default_factory=list)
    cases_done: int = 0
    elapsed: float = 0.0
    stopped_early: bool = False
    cpu: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    activity: list[float] = field(default_factory=list)
    # Steps/s of each round; cases opened/s where the side ran opens alone.
    round_throughput: list[float] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return len(self.steps) / self.elapsed if self.elapsed else 0.0

    @property
    def open_throughput(self) -> float:
        """Cases opened per second: meaningful where the side ran opens alone."""
        return len(self.starts) / self.elapsed if self.elapsed else 0.0


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


async def drive(side: Side, open_case: Opener, step: Stepper, load: Load) -> None:
    """Run `load.cases` cases (an opening call, then `load.steps` steps in order), with
    `load.concurrency` cases in flight; add the samples and the wall time to `side`."""
    started = time.perf_counter()
    deadline = started + load.budget
    numbers: Iterator[int] = iter(range(load.cases))

    async def lane() -> None:
        for number in numbers:
            if time.perf_counter() > deadline:
                side.stopped_early = True
                return
            began = time.perf_counter()
            handle = await open_case(number)
            side.starts.append(time.perf_counter() - began)
            for index in range(load.steps):
                if time.perf_counter() > deadline:
                    side.stopped_early = True
                    return
                began = time.perf_counter()
                await step(handle, index)
                side.steps.append(time.perf_counter() - began)
            side.cases_done += 1

    async with asyncio.TaskGroup() as group:
        for _ in range(load.concurrency):
            group.create_task(lane())
    side.elapsed += time.perf_counter() - started


class ActivityTimer(ClientInterceptor, Interceptor):
    """Times the activities of workers built on a client that has this interceptor."""

    def __init__(self) -> None:
        self.durations: dict[str, list[float]] = defaultdict(list)

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _TimedActivity(next, self)

    def take(self, name: str) -> list[float]:
        """The durations of `name` recorded since the last take."""
        return self.durations.pop(name, [])


class _TimedActivity(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, timer: ActivityTimer) -> None:
        super().__init__(next)
        self._timer = timer

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        started = time.perf_counter()
        try:
            return await super().execute_activity(input)
        finally:
            elapsed = time.perf_counter() - started
            self._timer.durations[activity.info().activity_type].append(elapsed)


class CpuMeter:
    """CPU seconds (user + system) spent so far by this process, its child processes (the
    Temporal dev server; the API when it runs apart) and the PostgreSQL server, whose
    postmaster `postmaster_pid` finds wherever its cluster lives now (run as root, the
    embedded cluster moves to a runtime directory while it runs)."""

    def __init__(self, postmaster_pid: Callable[[], int | None]) -> None:
        self._postmaster_pid = postmaster_pid

    def snapshot(self) -> dict[str, float]:
        me = psutil.Process()
        totals: dict[str, float] = defaultdict(float)
        totals["bench process"] += _cpu(me)
        for child in me.children(recursive=True):
            name = "Temporal server" if child.name().startswith("temporal") else "API process"
            totals[name] += _cpu(child)
        postmaster = self._postmaster()
        if postmaster is not None:
            totals["PostgreSQL"] += _cpu(postmaster, reaped=True)
            for backend in postmaster.children(recursive=True):
                totals["PostgreSQL"] += _cpu(backend)
        return totals

    def _postmaster(self) -> psutil.Process | None:
        pid = self._postmaster_pid()
        if pid is None:
            return None
        try:
            return psutil.Process(pid)
        except psutil.Error:
            return None


def _cpu(process: psutil.Process, *, reaped: bool = False) -> float:
    """`reaped`: with what its exited children spent (the postmaster's backends that have
    closed); not for this process, whose live children are counted apart."""
    try:
        times = process.cpu_times()
    except psutil.Error:  # exited meanwhile
        return 0.0
    spent = times.user + times.system
    if reaped:
        spent += times.children_user + times.children_system
    return float(spent)


async def measured(side: Side, meter: CpuMeter, run: Awaitable[None]) -> None:
    """Await one round of `side` (not started yet), adding the CPU each process spent."""
    before = meter.snapshot()
    await run
    after = meter.snapshot()
    for name, seconds in after.items():
        side.cpu[name] += max(0.0, seconds - before.get(name, 0.0))
