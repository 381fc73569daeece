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
import math
import os
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import httpx
import uvicorn
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

import workflows
from api.app import create_app
from api.auth import issue_token
from infra.errors import report_errors
from infra.logs import configure_logging
from infra.migrate import upgrade_to_head
from infra.sealing.master_keys import key_file_line
from infra.sealing.setup import sealing_from_settings
from models.db import make_async_engine, make_session_factory
from models.payloads.vocabulary import StaffRole
from models.settings import Settings
from workers.bench import bare_workflow
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
    percentile,
)
from workers.devstack.embedded_postgres import EmbeddedPostgres, ensure_database
from workers.devstack.processes import free_port
from workers.devstack.temporal_dev import find_binary
from workers.staff_directory import ensure_synthetic_members
from workers.worker import build_worker
from workflows.search_attributes import ALL_SEARCH_ATTRIBUTES

# Issue 9's targets: a step as cheap as bare Temporal's.
TARGET_THROUGHPUT_RATIO = 1.0
TARGET_P99_RATIO = 1.2
MUNICIPALITY = "berdsk"
# The staff the benchmark acts as: in the staff directory like anyone whose token the API takes.
BENCH_STAFF_ID = "bench-specialist"
BARE_QUEUE = "bench-bare"
KURATOR_QUEUE = "bench-kurator"
KURATOR_ONLY = {"PostgreSQL", "API process"}  # processes the bare side does not use


class BenchError(Exception):
    """The benchmark could not run; the message says what failed."""


@dataclass(frozen=True)
class BenchOptions:
    cases: int
    steps: int
    concurrency: int
    max_seconds: float
    warmup_cases: int
    api_process: bool
    rounds: int
    seal: bool = True  # False: Kurator talks to Temporal in plain JSON (`--no-seal`)
    cached_workflows: int = 1000  # each worker's max_cached_workflows


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


def _kurator(http: LeanHttp, auth: dict[str, str], run: str) -> tuple[Opener, Stepper]:
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


@asynccontextmanager
async def api_server(
    settings: Settings, *, in_process: bool, seal: bool, needs_temporal: bool = True
) -> AsyncIterator[str]:
    """The API on a free port: uvicorn in this event loop, or `kurator api` in a child (its
    unsealed twin, workers/bench/unsealed_api.py, when `seal` is off). Without
    `needs_temporal` (reads only), a child that answers /health at all is serving, even
    though it reports Temporal and the worker missing (503)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    if in_process:
        config = uvicorn.Config(
            create_app(settings, seal_payloads=seal),
            host="127.0.0.1",
            port=port,
            log_config=None,
            lifespan="on",
        )
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve())
        while not server.started:
            if serving.done():
                raise BenchError("the API did not start (its log is above)")
            await asyncio.sleep(0.05)
        try:
            yield url
        finally:
            server.should_exit = True
            await serving
        return
    env = {k: v for k, v in os.environ.items() if not k.startswith("KURATOR_")}
    env.update(_environment(settings, port))
    command = ("workers.cli", "api") if seal else ("workers.bench.unsealed_api",)
    child = await asyncio.create_subprocess_exec(sys.executable, "-m", *command, env=env)
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(200):
                try:
                    answer = (await http.get(f"{url}/health")).status_code
                    if answer == 200 or not needs_temporal:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise BenchError("the API child process did not become healthy in 20 s")
        yield url
    finally:
        child.terminate()
        await asyncio.wait_for(child.wait(), 30)


def _environment(settings: Settings, port: int) -> dict[str, str]:
    assert settings.jwt_secret is not None
    assert settings.pseudonym_secret is not None
    return {
        "KURATOR_DATABASE_URL": settings.require_database_url(),
        "KURATOR_TEMPORAL_ADDRESS": settings.require_temporal_address(),
        "KURATOR_TASK_QUEUE": settings.task_queue,
        "KURATOR_JWT_SECRET": settings.jwt_secret.get_secret_value(),
        "KURATOR_PSEUDONYM_SECRET": settings.pseudonym_secret.get_secret_value(),
        "KURATOR_MASTER_KEY_FILE": str(settings.require_master_key_file()),
        "KURATOR_API_PORT": str(port),
        "KURATOR_LOG_LEVEL": "WARNING",
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


async def run_bench(options: BenchOptions, console: Console) -> tuple[Side, Side, CodecCost]:
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
                meter = CpuMeter(postgres.pgdata)
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
) -> tuple[Side, Side, CodecCost]:
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
    engine = make_async_engine(database_url)
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
    bare = Side("bare Temporal")
    kurator = Side("Kurator (HTTP)" if options.seal else "Kurator, unsealed")
    try:
        async with (
            bare_worker,
            kurator_worker,
            api_server(settings, in_process=not options.api_process, seal=options.seal) as api_url,
            lean_http(api_url, size=options.concurrency * 2, request_seconds=60) as http,
        ):
            auth = _auth(settings)
            workloads: dict[str, Callable[[str], tuple[Opener, Stepper]]] = {
                bare.name: lambda tag: _bare(client, tag),
                kurator.name: lambda tag: _kurator(http, auth, tag),
            }
            console.print(f"Warming up: {options.warmup_cases} cases a side…")
            warm_budget = options.max_seconds / 8
            warm = Load(options.warmup_cases, options.steps, options.concurrency, warm_budget)
            for name, workload in workloads.items():
                await drive(Side(name), *workload(f"{run}w"), warm)
            timer.take("bare_noop")
            timer.take("persist_step")
            rounds = _rounds(options)
            budget = options.max_seconds / (2 * len(rounds))
            for number, cases in enumerate(rounds, start=1):
                order = (bare, kurator) if number % 2 else (kurator, bare)
                for side in order:
                    console.print(
                        f"Round {number}/{len(rounds)}: {side.name}, {cases} cases × "
                        f"{options.steps} steps, {options.concurrency} in flight…"
                    )
                    load = Load(cases, options.steps, options.concurrency, budget)
                    opener, stepper = workloads[side.name](f"{run}r{number}")
                    steps, elapsed = len(side.steps), side.elapsed
                    await measured(side, meter, drive(side, opener, stepper, load))
                    took = side.elapsed - elapsed
                    side.round_throughput.append((len(side.steps) - steps) / took if took else 0)
                    activity_name = "bare_noop" if side is bare else "persist_step"
                    side.activity.extend(timer.take(activity_name))
                    timer.take("load_case_policy")
        console.print("Measuring the codec alone: a contact step's payloads, sealed and plain…")
        codec = await codec_cost(sealing, pydantic_data_converter)
    finally:
        await engine.dispose()
    return bare, kurator, codec


def _rounds(options: BenchOptions) -> list[int]:
    """Cases per round: the runs alternate sides, so a change in the machine's load (other
    processes, a warming cache) falls on both sides alike."""
    count = max(1, min(options.rounds, options.cases))
    share, extra = divmod(options.cases, count)
    return [share + (1 if number < extra else 0) for number in range(count)]


def _auth(settings: Settings) -> dict[str, str]:
    assert settings.jwt_secret is not None
    token = issue_token(
        secret=settings.jwt_secret.get_secret_value().encode(),
        staff_id=BENCH_STAFF_ID,
        role=StaffRole.SPECIALIST,
        municipalities=[MUNICIPALITY],
    )
    return {"Authorization": f"Bearer {token}"}


def _ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1000:.1f}"


def _ratio(kurator: float, bare: float) -> str:
    if not bare or math.isnan(bare) or math.isnan(kurator):
        return "-"
    return f"{kurator / bare:.2f}×"


def report(
    bare: Side, kurator: Side, codec: CodecCost, options: BenchOptions, console: Console
) -> None:
    where = "in a child process" if options.api_process else "in the bench process"
    table = Table(
        title="Kurator against bare Temporal, same server, same run",
        caption=f"{options.cases} cases × {options.steps} steps a side, {options.concurrency} "
        f"in flight, {options.rounds} alternating rounds; API {where}; Temporal on a file; "
        f"workflow cache {options.cached_workflows} a worker",
    )
    table.add_column("", no_wrap=True)
    for column in (bare.name, kurator.name, "Kurator / bare"):
        table.add_column(column, justify="right")

    def row(
        label: str, of_bare: float, of_kurator: float, *, ms: bool = True, added: bool = False
    ) -> None:
        """`added`: bare does next to none of this work, so show what Kurator adds."""
        shown = _ms if ms else (lambda value: f"{value:.1f}")
        versus = f"+{_ms(of_kurator - of_bare)} ms" if added else _ratio(of_kurator, of_bare)
        table.add_row(label, shown(of_bare), shown(of_kurator), versus)

    table.add_row("cases completed", str(bare.cases_done), str(kurator.cases_done), "")
    table.add_row("steps", str(len(bare.steps)), str(len(kurator.steps)), "")
    row("wall time, s", bare.elapsed, kurator.elapsed, ms=False)
    row("throughput, steps/s", bare.throughput, kurator.throughput, ms=False)
    row("step p50, ms", percentile(bare.steps, 0.5), percentile(kurator.steps, 0.5))
    row("step p99, ms", percentile(bare.steps, 0.99), percentile(kurator.steps, 0.99))
    row("open p50, ms", percentile(bare.starts, 0.5), percentile(kurator.starts, 0.5))
    row("open p99, ms", percentile(bare.starts, 0.99), percentile(kurator.starts, 0.99))
    for label, fraction in (("step activity p50, ms", 0.5), ("step activity p99, ms", 0.99)):
        activity = (percentile(bare.activity, fraction), percentile(kurator.activity, fraction))
        row(label, *activity, added=True)
    operations = {side.name: len(side.steps) + len(side.starts) for side in (bare, kurator)}
    for name in sorted(set(bare.cpu) | set(kurator.cpu)):
        row(
            f"CPU/call, ms: {name}",
            bare.cpu.get(name, 0.0) / max(1, operations[bare.name]),
            kurator.cpu.get(name, 0.0) / max(1, operations[kurator.name]),
            added=name in KURATOR_ONLY,
        )
    row(
        "CPU/call, ms: all",
        sum(bare.cpu.values()) / max(1, operations[bare.name]),
        sum(kurator.cpu.values()) / max(1, operations[kurator.name]),
    )
    console.print(table)
    console.print(
        "A step: bare, an update running a no-op activity; Kurator, POST /contacts: token, "
        "case read, update, persist_step activity (one PostgreSQL transaction: events, "
        "notifications, projection), search attributes. Open: update-with-start plus the "
        "first activity (Kurator: intake with family record, policy load and persist). "
        "CPU/call: per open or step, by process.",
        highlight=False,
    )
    for side in (bare, kurator):
        if side.stopped_early:
            console.print(
                f"[yellow]{side.name} stopped early: its time budget "
                f"({options.max_seconds / 2:.0f} s a side) ran out after {side.cases_done} of "
                f"{options.cases} cases[/]"
            )
    console.print(
        f"Codec alone, one contact step's 4 payloads encoded and decoded: sealed "
        f"{codec.sealed_us:.0f} µs, plain {codec.plain_us:.0f} µs ({codec.ratio:.2f}×, "
        f"+{codec.sealed_us - codec.plain_us:.0f} µs a step); stored {codec.sealed_bytes} "
        f"bytes sealed, {codec.plain_bytes} plain."
        + ("" if options.seal else " Kurator ran unsealed (--no-seal) above."),
        highlight=False,
    )
    spread = [
        kurator_round / bare_round
        for bare_round, kurator_round in zip(
            bare.round_throughput, kurator.round_throughput, strict=False
        )
        if bare_round
    ]
    if spread:
        console.print(
            "Throughput ratio round by round: "
            + ", ".join(f"{ratio:.2f}" for ratio in spread)
            + f" (spread {min(spread):.2f}–{max(spread):.2f})",
            highlight=False,
        )
    throughput = kurator.throughput / bare.throughput if bare.throughput else math.nan
    p99 = percentile(kurator.steps, 0.99) / percentile(bare.steps, 0.99)
    console.print(
        f"Throughput ratio {throughput:.2f} (target ≥ {TARGET_THROUGHPUT_RATIO}): "
        f"{'met' if throughput >= TARGET_THROUGHPUT_RATIO else 'NOT met'}; "
        f"p99 ratio {p99:.2f} (target ≤ {TARGET_P99_RATIO}): "
        f"{'met' if p99 <= TARGET_P99_RATIO else 'NOT met'}",
        highlight=False,
    )


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
    try:
        bare, kurator, codec = asyncio.run(run_bench(options, console))
    except (BenchError, ExceptionGroup) as error:
        if not report_errors(error, BenchError, "bench failed"):
            raise
        return 1
    report(bare, kurator, codec, options, console)
    return 0
