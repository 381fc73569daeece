"""`kurator bench` (`make bench`): Kurator's cost over bare Temporal, as ratios from one run.

One Temporal dev server and one embedded PostgreSQL serve two workloads of the same shape:

- bare: `BareWorkflow` (workers/bench/bare_workflow.py), opened by an update-with-start whose
  handler runs an activity (after the run's own first activity), then K updates, each running
  one no-op activity, driven through the Temporal client;
- Kurator: the real worker (`build_worker`) and the real API (uvicorn on a free port, in this
  process or, with --api-process, as `kurator api` in a child); per case an intake (`POST
  /api/v1/cases`: family record, update-with-start, policy activity, persist activity), then K
  contacts (`POST /cases/{id}/contacts`: an update whose activity writes the step to
  PostgreSQL in one transaction). The default policy: no deadline fires during the run.

Both workers live in this process beside the driver. Kurator's driver speaks plain HTTP/1.1
(workers/bench/http.py): httpx cost this process about 5 ms of CPU a call, as much as the API
itself, a caller's cost the bare side does not carry. Each side keeps `concurrency` cases in
flight, each case's steps in order, in rounds that alternate the sides so that the machine's
changing load falls on both alike. Reported: steps per second over the side's wall time,
p50/p99 of a step's round trip and of the opening call, the step activity's duration, and
the CPU each process spent per call. No step is launched once a side's time budget is spent,
and the report says so. Needs psutil (the test extras, which `make bench` installs).
"""

import asyncio
import compileall
import logging
import os
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from pydantic import SecretStr
from rich.console import Console
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

import workflows
from api.auth import issue_token
from infra.collector import tune_collector
from infra.errors import report_errors
from infra.logs import configure_logging
from infra.migrate import upgrade_to_head
from infra.sealing.master_keys import key_file_line
from infra.sealing.setup import sealing_from_settings
from models.db import make_async_engine, make_session_factory
from models.payloads.vocabulary import StaffRole
from models.settings import Settings
from workers.bench import bare_workflow
from workers.bench.api_process import BenchError, api_server, child_environment
from workers.bench.bare_workflow import BareWorkflow, bare_noop
from workers.bench.codec_cost import CodecCost, codec_cost
from workers.bench.http import HttpError, LeanHttp, lean_http
from workers.bench.measure import (
    ActivityTimer,
    CpuMeter,
    Load,
    Opener,
    Side,
    Stepper,
    drive,
    measured,
)
from workers.bench.options import BenchOptions, BenchResult
from workers.bench.replay_time import ReplayTime, committed_histories, longest, replay_time
from workers.bench.report import report
from workers.bench.worker_memory import WARMUP_CASES, WorkerMemory, cache_growth, worker_child
from workers.devstack.embedded_postgres import EmbeddedPostgres, ensure_database
from workers.devstack.temporal_dev import find_binary
from workers.staff_directory import ensure_synthetic_members
from workers.worker import build_worker
from workflows.search_attributes import ALL_SEARCH_ATTRIBUTES

MUNICIPALITY = "berdsk"
# The staff the benchmark acts as: in the staff directory like anyone whose token the API takes.
BENCH_STAFF_ID = "bench-specialist"
BARE_QUEUE = "bench-bare"
KURATOR_QUEUE = "bench-kurator"
BARE_NAME = "bare Temporal"
MEMORY_QUEUE = "bench-memory"  # served by the worker whose memory is read, alone


def _bare(client: Client, run: str) -> tuple[Opener, Stepper]:
    async def open_case(number: int) -> Any:
        operation = WithStartWorkflowOperation(
            BareWorkflow.run,
            f"case-{number}",
            id=f"bench-bare-{run}-{number}",
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            task_queue=BARE_QUEUE,
        )
        await client.execute_update_with_start_workflow(
            BareWorkflow.step, 0, start_workflow_operation=operation
        )
        return await operation.workflow_handle()

    async def step(handle: Any, index: int) -> None:
        await handle.execute_update(BareWorkflow.step, index + 1)

    return open_case, step


def kurator_workload(http: LeanHttp, auth: dict[str, str], run: str) -> tuple[Opener, Stepper]:
    """Kurator's cases through the API: an intake, then contacts; `run` keeps the families
    apart from any other run's."""

    async def post(path: str, body: dict[str, Any]) -> Any:
        headers = {**auth, "Idempotency-Key": uuid.uuid4().hex}
        try:
            status, answer = await http.post(path, body, headers)
        except HttpError as error:
            raise BenchError(str(error)) from None
        if not 200 <= status < 300:
            raise BenchError(f"POST {path} answered {status}: {answer}")
        return answer

    async def open_case(number: int) -> Any:
        body = {
            "source": "self_request",
            "municipality": MUNICIPALITY,
            "family": _family(f"BENCH-{run}-{number:05d}"),
        }
        created = await post("/api/v1/cases", body)
        return created["case"]["case_id"]

    async def step(case_id: Any, index: int) -> None:
        await post(f"/api/v1/cases/{case_id}/contacts", {"reached": True})

    return open_case, step


def _family(registry_id: str) -> dict[str, Any]:
    """An invented family: obviously synthetic names."""
    return {
        "registry_id": registry_id,
        "members": [
            {
                "role": "parent",
                "full_name": "Тестова Анна Синтетическая",
                "birth_date": "1990-04-01",
            },
            {"role": "child", "full_name": "Тестов Иван Синтетический", "birth_date": "2016-09-15"},
        ],
    }


def _compile_workflow_code(scratch: Path) -> None:
    """Byte-compile the modules the workflow sandbox imports afresh for every workflow it
    starts (workflows/, and the bare workflow), into `scratch`, as an installed Kurator has
    them: pip compiles on install (the image's build stage), and only at run time does
    PYTHONDONTWRITEBYTECODE stop Python writing them. A checkout run with it set (as on the
    CI machines) has no bytecode, so every case opened would compile workflows/*.py from
    source, about 11 ms of CPU a case that production does not pay. Both sides get it."""
    if not sys.dont_write_bytecode:
        return  # Python writes and reuses __pycache__ beside the sources itself
    sys.pycache_prefix = str(scratch / "pycache")
    compileall.compile_dir(Path(workflows.__file__).parent, quiet=1)
    compileall.compile_file(bare_workflow.__file__, quiet=1)


async def run_bench(options: BenchOptions, console: Console) -> BenchResult:
    with tempfile.TemporaryDirectory(prefix="kurator-bench-") as scratch:
        _compile_workflow_code(Path(scratch))
        postgres = EmbeddedPostgres(Path(scratch) / "postgres")
        console.print("Starting PostgreSQL, the Temporal dev server, the workers and the API…")
        server_url = await asyncio.to_thread(postgres.start)
        try:
            database_url = ensure_database(server_url, "kurator_bench")
            await asyncio.to_thread(upgrade_to_head, database_url)
            await ensure_synthetic_members(
                database_url,
                [(BENCH_STAFF_ID, StaffRole.SPECIALIST, [MUNICIPALITY])],
                by="kurator-bench",
            )
            env = await WorkflowEnvironment.start_local(
                dev_server_existing_path=find_binary("temporal"),
                # On a file, as `kurator dev` runs it: in memory, Temporal's own writes would
                # cost less than on any real deployment, flattering the bare side most.
                dev_server_database_filename=str(Path(scratch) / "temporal.db"),
                search_attributes=ALL_SEARCH_ATTRIBUTES,
                data_converter=pydantic_data_converter,
                dev_server_log_level="error",
            )
            try:
                meter = CpuMeter(postgres.postmaster_pid)
                key_file = Path(scratch) / "master-keys"
                key_file.write_text(key_file_line("bench") + "\n")
                return await _measure(env, database_url, key_file, options, meter, console)
            finally:
                await env.shutdown()
        finally:
            await asyncio.to_thread(postgres.stop)


async def _measure(
    env: WorkflowEnvironment,
    database_url: str,
    master_key_file: Path,
    options: BenchOptions,
    meter: CpuMeter,
    console: Console,
) -> BenchResult:
    run = uuid.uuid4().hex[:8]
    timer = ActivityTimer()
    address = env.client.service_client.config.target_host
    # Bare Temporal's client sends plain pydantic JSON; Kurator's seals every payload, as in
    # production. The timer rides on both into the workers.
    client = await Client.connect(
        address, data_converter=pydantic_data_converter, interceptors=[timer]
    )
    settings = Settings(
        master_key_file=master_key_file,
        database_url=database_url,
        temporal_address=address,
        task_queue=KURATOR_QUEUE,
        jwt_secret=SecretStr(uuid.uuid4().hex * 2),
        pseudonym_secret=SecretStr(uuid.uuid4().hex * 2),
        log_level="WARNING",
    )
    engine = make_async_engine(database_url, pool_size=settings.database_pool_size)  # as a worker's
    sessions = make_session_factory(engine)
    keys, sealing = sealing_from_settings(settings, sessions)
    kurator_client = await Client.connect(
        address,
        data_converter=sealing if options.seal else pydantic_data_converter,
        interceptors=[timer],
    )
    # PostgreSQL's columns are sealed either way: --no-seal measures the Temporal codec only.
    kurator_worker = build_worker(
        kurator_client,
        task_queue=KURATOR_QUEUE,
        sessions=sessions,
        keys=keys,
        max_cached_workflows=options.cached_workflows,
    )
    bare_worker = Worker(
        client,
        task_queue=BARE_QUEUE,
        workflows=[BareWorkflow],
        activities=[bare_noop],
        max_cached_workflows=options.cached_workflows,
    )
    kurator_name = "Kurator (HTTP)" if options.seal else "Kurator, unsealed"
    result = BenchResult(
        bare=Side(BARE_NAME),
        kurator=Side(kurator_name),
        bare_intake=Side(BARE_NAME),
        kurator_intake=Side(kurator_name),
        codec=CodecCost(0, 0, 0, 0),
    )
    try:
        async with (
            bare_worker,
            kurator_worker,
            api_server(settings, in_process=not options.api_process, seal=options.seal) as api_url,
            lean_http(api_url, size=options.concurrency * 2, request_seconds=60) as http,
        ):
            auth = bench_auth(settings)
            workloads: dict[str, Callable[[str], tuple[Opener, Stepper]]] = {
                BARE_NAME: lambda tag: _bare(client, tag),
                kurator_name: lambda tag: kurator_workload(http, auth, tag),
            }
            console.print(f"Warming up: {options.warmup_cases} cases a side…")
            warm_budget = options.max_seconds / 8
            warm = Load(options.warmup_cases, options.steps, options.concurrency, warm_budget)
            for name, workload in workloads.items():
                await drive(Side(name), *workload(f"{run}w"), warm)
            timer.take("bare_noop")
            timer.take("persist_step")
            sides = (result.bare, result.kurator)
            await _alternating_rounds(
                *(sides, workloads, f"{run}r", options, meter, console),
                cases=options.cases,
                steps=options.steps,
                budget=options.max_seconds / 2,
                timer=timer,
            )
            # Opens alone, in half the steps' time budget: more cases than the steps' rounds
            # open, so that the intake's p99 is not simply its slowest case.
            intake = (result.bare_intake, result.kurator_intake)
            await _alternating_rounds(
                *(intake, workloads, f"{run}i", options, meter, console),
                cases=options.intake_cases,
                steps=0,
                budget=options.max_seconds / 4,
                timer=timer,
            )
        console.print("Measuring the codec alone: a contact step's payloads, sealed and plain…")
        result.codec = await codec_cost(sealing, pydantic_data_converter)
    finally:
        await engine.dispose()
    if options.memory_cases:
        console.print(
            f"Measuring a worker's memory: {options.memory_cases} cases cached in a "
            "`kurator worker` of its own…"
        )
        result.memory = await measure_worker_memory(
            settings, cases=options.memory_cases, concurrency=options.concurrency, tag=f"{run}m"
        )
    if options.replays:
        result.replay, note = await _replay(options)
        if note:
            result.notes.append(note)
    return result


async def _alternating_rounds(
    sides: tuple[Side, Side],
    workloads: dict[str, Callable[[str], tuple[Opener, Stepper]]],
    tag: str,
    options: BenchOptions,
    meter: CpuMeter,
    console: Console,
    *,
    cases: int,
    steps: int,
    budget: float,
    timer: ActivityTimer,
) -> None:
    """`cases` a side, in rounds: each opens its share and takes `steps` steps of each (0:
    opens alone, as when a registry is taken in), the sides alternating so that the machine's
    changing load falls on both alike; `budget` is the seconds of all rounds of a side."""
    bare = sides[0]
    rounds = _rounds(options.rounds, cases)
    for number, share in enumerate(rounds, start=1):
        for side in sides if number % 2 else sides[::-1]:
            what = f"{share} cases × {steps} steps" if steps else f"{share} cases opened"
            console.print(
                f"{'Round' if steps else 'Intake'} {number}/{len(rounds)}: {side.name}, "
                f"{what}, {options.concurrency} in flight…"
            )
            load = Load(share, steps, options.concurrency, budget / len(rounds))
            opener, stepper = workloads[side.name](f"{tag}{number}")
            counted = side.steps if steps else side.starts
            taken, elapsed = len(counted), side.elapsed
            await measured(side, meter, drive(side, opener, stepper, load))
            took = side.elapsed - elapsed
            side.round_throughput.append((len(counted) - taken) / took if took else 0)
            side.activity.extend(timer.take("bare_noop" if side is bare else "persist_step"))
            timer.take("load_case_policy")


async def measure_worker_memory(
    settings: Settings, *, cases: int, concurrency: int, tag: str
) -> WorkerMemory:
    """A `kurator worker` of its own on a queue of its own, and the API in front of it, both
    child processes; the worker's memory read as `cases` cases fill its cache. `settings`: the
    database, Temporal and secrets the two share; `tag` keeps the families apart from any
    other run's."""
    served = settings.model_copy(update={"task_queue": MEMORY_QUEUE})
    max_cached = cases + WARMUP_CASES + 10  # every case stays cached
    async with (
        worker_child(child_environment(served), max_cached) as worker,
        # Sealed whatever --no-seal says: `kurator worker` seals its payloads, always.
        api_server(served, in_process=False, seal=True) as api_url,
        lean_http(api_url, size=concurrency * 2, request_seconds=60) as http,
    ):
        opener, stepper = kurator_workload(http, bench_auth(served), tag)
        return await cache_growth(worker, opener, stepper, cases=cases, concurrency=concurrency)


async def _replay(options: BenchOptions) -> tuple[ReplayTime | None, str | None]:
    """The replay time of the longest committed history, or why there is none."""
    histories = committed_histories()
    if not histories:
        return None, "Replay not measured: no committed histories (they ship in a checkout only)."
    return await replay_time(longest(histories), options.replays), None


def _rounds(rounds: int, cases: int) -> list[int]:
    """Cases per round: the runs alternate sides, so a change in the machine's load (other
    processes, a warming cache) falls on both sides alike."""
    count = max(1, min(rounds, cases))
    share, extra = divmod(cases, count)
    return [share + (1 if number < extra else 0) for number in range(count)]


def bench_auth(settings: Settings) -> dict[str, str]:
    assert settings.jwt_secret is not None
    token = issue_token(
        secret=settings.jwt_secret.get_secret_value().encode(),
        staff_id=BENCH_STAFF_ID,
        role=StaffRole.SPECIALIST,
        municipalities=[MUNICIPALITY],
    )
    return {"Authorization": f"Bearer {token}"}


def main(options: BenchOptions) -> NoReturn:
    """The `kurator bench` command. Exits without interpreter finalisation, as the worker
    does: the Temporal SDK's native threads can abort it after a clean run."""
    status = _bench(options)
    logging.shutdown()
    sys.stdout.flush()
    os._exit(status)


def _bench(options: BenchOptions) -> int:
    configure_logging("WARNING")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    console = Console(width=max(Console().width, 100))  # the table needs 100 columns
    # This process hosts both sides' workers: their collector set as `kurator worker` sets its
    # own, the same for both (the API and the worker memory probe are `kurator` processes).
    tune_collector()
    try:
        result = asyncio.run(run_bench(options, console))
    except (BenchError, ExceptionGroup) as error:
        if not report_errors(error, BenchError, "bench failed"):
            raise
        return 1
    report(result, options, console)
    return 0
