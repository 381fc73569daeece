"""The bench's two probes of issue 9, run for real on small inputs: the replay time of a
committed history (the real workflow code in the worker's sandbox, its payloads opened with
the set's keys) and the memory of a `kurator worker` process as its cache fills."""

import json
import time
from pathlib import Path

import psycopg
import pytest
from rich.console import Console
from temporalio.testing import WorkflowEnvironment
from temporalio.workflow import NondeterminismError

from models.payloads.vocabulary import StaffRole
from models.settings import Settings
from tests.support.api import api_settings
from workers.bench.api_process import api_server, child_environment
from workers.bench.http import lean_http
from workers.bench.measure import CpuMeter, Load, Side, drive
from workers.bench.options import BenchOptions
from workers.bench.replay_time import (
    HISTORIES,
    KEYS_FILE,
    committed_histories,
    event_count,
    longest,
    replay_time,
)
from workers.bench.report import report_intake
from workers.bench.runner import (
    BENCH_STAFF_ID,
    MUNICIPALITY,
    bench_auth,
    kurator_workload,
    measure_worker_memory,
)
from workers.bench.worker_memory import WARMUP_CASES, cache_size, worker_child
from workers.devstack.embedded_postgres import EmbeddedPostgres
from workers.staff_directory import ensure_synthetic_members


def test_the_longest_committed_history_has_the_most_events() -> None:
    histories = committed_histories()
    assert len(histories) >= 5
    assert all(path.name != KEYS_FILE for path in histories)
    chosen = longest(histories)
    assert all(event_count(chosen) >= event_count(path) for path in histories)
    assert event_count(chosen) > 100  # a whole lifecycle, not a follow-up


async def test_a_committed_history_replays_and_is_timed() -> None:
    shortest = min(committed_histories(), key=event_count)
    replay = await replay_time(shortest, repetitions=2)
    recorded = json.loads(shortest.read_text(encoding="utf-8"))
    assert replay.events == len(recorded["events"])
    assert (
        replay.workflow_type
        == (
            recorded["events"][0]["workflowExecutionStartedEventAttributes"]["workflowType"]["name"]
        )
    )
    assert replay.name == f"compact/{shortest.stem}"
    assert len(replay.seconds) == 2
    assert all(0 < seconds < 30 for seconds in replay.seconds)
    assert 1000 < replay.stored_bytes < len(shortest.read_bytes())  # protobuf, not JSON


async def test_a_history_the_code_does_not_follow_fails_the_replay(tmp_path: Path) -> None:
    """The probe times real replays: one that diverges raises instead of being timed."""
    # A case of the set recorded before the API gave the policy in the start's input: its
    # policy is loaded by an activity, here renamed to one the code does not schedule.
    earlier = committed_histories(HISTORIES / "case_number")
    source = longest([p for p in earlier if p.stem.startswith("case_")])
    recorded = json.loads(source.read_text(encoding="utf-8"))
    [scheduled] = [
        event["activityTaskScheduledEventAttributes"]
        for event in recorded["events"]
        if "activityTaskScheduledEventAttributes" in event
    ]
    assert scheduled["activityType"]["name"] == "load_case_policy"
    scheduled["activityType"]["name"] = "load_another_policy"
    altered = tmp_path / "compact"
    altered.mkdir()
    (altered / KEYS_FILE).write_bytes((source.parent / KEYS_FILE).read_bytes())
    (altered / source.name).write_text(json.dumps(recorded), encoding="utf-8")
    with pytest.raises(NondeterminismError):
        await replay_time(altered / source.name, repetitions=1)


@pytest.fixture
async def bench_settings(
    dev_env: WorkflowEnvironment, database_url: str, task_queue: str
) -> Settings:
    """What the bench's child processes share, with the bench's staff in the directory."""
    await ensure_synthetic_members(
        database_url, [(BENCH_STAFF_ID, StaffRole.SPECIALIST, [MUNICIPALITY])], by="test"
    )
    return api_settings(dev_env, database_url, task_queue)


@pytest.mark.slow
async def test_a_worker_process_is_read_as_its_cache_fills(bench_settings: Settings) -> None:
    settings = bench_settings
    memory = await measure_worker_memory(settings, cases=4, concurrency=2, tag="test")
    assert memory.cases == 4
    # The worker's own metrics: every case opened, warm-up ones included, is still cached.
    assert memory.cached == WARMUP_CASES + 4
    assert memory.max_cached >= memory.cached
    assert 50 * 2**20 < memory.rss_before <= 4 * 2**30  # a real process's resident set
    assert memory.rss_after > 0


@pytest.mark.slow
async def test_kurator_worker_keeps_no_more_cases_than_its_setting(
    bench_settings: Settings,
) -> None:
    """KURATOR_MAX_CACHED_WORKFLOWS reaches `kurator worker`: past it, cases are evicted."""
    settings = bench_settings
    async with (
        worker_child(child_environment(settings), max_cached=3) as worker,
        api_server(settings, in_process=True, seal=True) as url,
        lean_http(url, size=2, request_seconds=60) as http,
    ):
        opener, stepper = kurator_workload(http, bench_auth(settings), "evict")
        await drive(Side("evicted"), opener, stepper, Load(6, 1, 2, budget=120))
        assert await cache_size(worker) == 3


def test_the_cpu_meter_finds_postgresql_where_its_cluster_lives(tmp_path: Path) -> None:
    """Run as root, the embedded cluster runs from a runtime directory, not from `pgdata`:
    the meter must still count PostgreSQL's CPU (Kurator's side alone uses it)."""
    server = EmbeddedPostgres(tmp_path / "data")
    url = server.start()
    try:
        meter = CpuMeter(server.postmaster_pid)
        before = meter.snapshot()
        with psycopg.connect(url) as connection:
            connection.execute("SELECT count(*) FROM generate_series(1, 3000000)")
            during = meter.snapshot()
        # Closed, the backend's CPU is still counted: the postmaster reaped it.
        for _ in range(50):
            after = meter.snapshot()
            if after["PostgreSQL"] >= during["PostgreSQL"]:
                break
            time.sleep(0.1)
        assert during["PostgreSQL"] > before.get("PostgreSQL", 0.0) + 0.1
        assert after["PostgreSQL"] >= during["PostgreSQL"]
        assert after["bench process"] > 0
    finally:
        server.stop()
    assert CpuMeter(server.postmaster_pid).snapshot().get("PostgreSQL", 0.0) == 0.0


def _side(name: str, opens: int, seconds: float, p99: float) -> Side:
    side = Side(name, starts=[p99 / 2] * (opens - 1) + [p99], elapsed=seconds)
    side.cpu.update({"Temporal server": 0.5, "bench process": 0.25})
    # Two rounds of one second: the first took 40% of the opens, the second the rest.
    side.round_throughput = [opens * 0.4, opens * 0.6]
    return side


@pytest.mark.parametrize(
    ("kurator_opens", "kurator_p99", "verdict"),
    [
        (24, 0.110, "Intake throughput ratio 1.20 (target ≥ 1.0): met; p99 ratio 1.10 "),
        (16, 0.150, "Intake throughput ratio 0.80 (target ≥ 1.0): NOT met; p99 ratio 1.50 "),
    ],
)
def test_the_intake_is_reported_against_the_targets(
    kurator_opens: int, kurator_p99: float, verdict: str
) -> None:
    console = Console(record=True, width=120)
    bare = _side("bare Temporal", 20, 2.0, 0.100)
    kurator = _side("Kurator (HTTP)", kurator_opens, 2.0, kurator_p99)
    kurator.stopped_early = kurator_opens < 20  # its budget ran out before its 20 cases
    options = BenchOptions(20, 1, 8, 60, 0, True, 2, intake_cases=20)
    report_intake(bare, kurator, options, console)
    shown = console.export_text()
    assert verdict in shown
    assert "20 cases a side, 8 in flight, 2 alternating rounds" in shown
    ratio = f"{kurator_opens / 20:.2f}"  # the same in both rounds
    assert f"Intake throughput ratio round by round: {ratio}, {ratio} (spread" in shown
    stopped = "Kurator (HTTP) stopped early: its time budget (15 s a side) ran out after 16 of 20"
    assert (stopped in shown) is kurator.stopped_early
    assert "10.0" in shown  # bare's cases a second
    assert f"{kurator_opens / 2:.1f}" in shown
    # CPU per open, by process: 0.75 s over 20 opens is 37.5 ms.
    [all_cpu] = [line for line in shown.splitlines() if "CPU/open, ms: all" in line]
    assert "37.5" in all_cpu
