"""`kurator bench audit`: the audit reads' timings over a synthetic oblast (issue 11 point 7).

A fresh embedded PostgreSQL (or the one kept in `--data-dir`) is filled by the generator
(workers/bench/oblast_data.py), the API runs in its own process (`kurator api`, logged in as
the application's role) and this process times it over plain HTTP (workers/bench/http.py),
one request at a time, so a figure is one request's latency:

- a case's audit history and its state at a random moment (GET /api/v1/audit/cases/{id}/...),
  of random cases; the indicators of the whole oblast for a year; a municipality's export,
  streamed (events/s, and how much the API process grew meanwhile);
- `kurator audit verify` when the CLI has it, and beside it the chain check itself
  (`check_chain` over every stored row, read through a server-side cursor);
- what exists already: a case's history (GET /api/v1/cases/{id}/events), a page of a
  municipality's cases and an inbox (issue 9).

An endpoint the API does not route yet (absent from its OpenAPI paths) is reported as not
available; one that answers an error is reported with its status.
"""

import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psutil
import psycopg
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from api.auth import issue_token
from infra.db_roles import ensure_app_login, url_as
from infra.migrate import upgrade_to_head
from infra.sealing.master_keys import key_file_line
from models.payloads.vocabulary import StaffRole
from models.settings import Settings
from workers.bench.api_process import BenchError, api_server
from workers.bench.http import LeanHttp, lean_http
from workers.bench.measure import percentile
from workers.bench.oblast_cases import json_time
from workers.bench.oblast_data import OblastSpec, generate_oblast, psycopg_url
from workers.devstack.embedded_postgres import EmbeddedPostgres, ensure_database
from workers.devstack.processes import free_port
from workers.staff_directory import ensure_synthetic_members

APP_LOGIN = "kurator_bench_app"
DATABASE = "kurator_oblast"
EXPORT_MUNICIPALITY = "berdsk"
INBOX_MUNICIPALITY = "berdsk"
# The staff the reads are made as, put into the staff directory first.
BENCH_MINISTRY = "bench-ministry"
BENCH_SPECIALIST = f"spec-{INBOX_MUNICIPALITY}-01"
_MUNICIPALITY_EXPORT = "/api/v1/audit/municipalities/{municipality}/export"
_EXPORT = "/api/v1/audit/export"


@dataclass(frozen=True)
class AuditBenchOptions:
    cases: int
    events_per_case: int = 30
    seed: int = 0
    jobs: int = 2
    requests: int = 200  # per latency measure
    indicator_runs: int = 3
    data_dir: Path | None = None  # keep the generated cluster here (reused when filled)
    # The measures to take (MEASURES' names), None for all: a quicker loop over a kept cluster.
    only: frozenset[str] | None = None

    def takes(self, measure: str) -> bool:
        return self.only is None or measure in self.only


# The measures `--only` can pick, in the order they are taken.
MEASURES = ("history", "state", "indicators", "export", "staff", "verify")


def parse_only(text: str) -> frozenset[str]:
    """`--only`'s comma-separated measures; ValueError naming any unknown one."""
    names = frozenset(name.strip() for name in text.split(",") if name.strip())
    unknown = sorted(names - set(MEASURES))
    if unknown or not names:
        named = ", ".join(unknown) or "(none given)"
        raise ValueError(f"unknown measure {named}: pick from {', '.join(MEASURES)}")
    return names


@dataclass
class Figure:
    measure: str
    figure: str
    target: str = ""
    verdict: str = ""


@dataclass
class AuditReport:
    figures: list[Figure] = field(default_factory=list)

    def add(self, measure: str, figure: str, target: str = "", met: bool | None = None) -> None:
        verdict = "" if met is None else ("met" if met else "NOT met")
        self.figures.append(Figure(measure, figure, target, verdict))


async def run_audit_bench(options: AuditBenchOptions, console: Console) -> AuditReport:
    with tempfile.TemporaryDirectory(prefix="kurator-oblast-") as scratch:
        home = options.data_dir or Path(scratch)
        home.mkdir(parents=True, exist_ok=True)
        postgres = EmbeddedPostgres(home / "postgres")
        console.print(f"Starting PostgreSQL in {home}…")
        server_url = await asyncio.to_thread(postgres.start)
        try:
            return await _bench(home, server_url, options, console)
        finally:
            await asyncio.to_thread(postgres.stop)


async def _bench(
    home: Path, server_url: str, options: AuditBenchOptions, console: Console
) -> AuditReport:
    report = AuditReport()
    owner_url = ensure_database(server_url, DATABASE)
    await asyncio.to_thread(upgrade_to_head, owner_url)
    app_url = url_as(owner_url, APP_LOGIN)
    await asyncio.to_thread(ensure_app_login, owner_url, app_url)
    await ensure_synthetic_members(
        app_url,
        [
            (BENCH_MINISTRY, StaffRole.MINISTRY, []),
            (BENCH_SPECIALIST, StaffRole.SPECIALIST, [INBOX_MUNICIPALITY]),
        ],
        by="kurator-bench",
    )
    key_file = home / "master-keys"
    if not key_file.exists():
        key_file.write_text(key_file_line("bench-oblast") + "\n")
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    stored = _scalar(owner_url, "SELECT count(*) FROM case_projections")
    if stored:
        console.print(f"Reusing the {stored:,} cases already in {home}")
    else:
        spec = OblastSpec(
            cases=options.cases,
            now=now,
            events_per_case=options.events_per_case,
            seed=options.seed,
            jobs=options.jobs,
        )
        made = await generate_oblast(owner_url, key_file, spec, console.print)
        report.add(
            "generate: cases, events",
            f"{made.cases:,} cases, {made.events:,} events in {made.seconds / 60:.1f} min "
            f"({made.events_per_second:,.0f} events/s)",
            "350k × 30 well under 15 min",
            made.seconds < 15 * 60 if made.cases >= 350_000 else None,
        )
    events = _scalar(owner_url, "SELECT count(*) FROM case_events")
    settings = Settings(
        master_key_file=key_file,
        database_url=app_url,
        temporal_address=f"127.0.0.1:{free_port()}",  # the API connects lazily: reads only
        jwt_secret=SecretStr(uuid.uuid4().hex * 2),
        pseudonym_secret=SecretStr(uuid.uuid4().hex * 2),
        log_level="WARNING",
    )
    rng = random.Random(options.seed)
    sample = _sample_cases(owner_url, options.requests)
    console.print("Starting the API in its own process…")
    async with (
        api_server(settings, in_process=False, seal=True, needs_temporal=False) as url,
        lean_http(url, size=2, request_seconds=1800) as http,
    ):
        reads = _Reads(http, settings, await _routes(http))
        console.print(f"Timing reads over {len(sample)} random cases…")
        if options.takes("history"):
            await reads.history(report, sample)
        if options.takes("state"):
            await reads.state(report, sample, now, rng)
        if options.takes("indicators"):
            await reads.indicators(report, now, options.indicator_runs)
        if options.takes("export"):
            await reads.export(report, now)
        if options.takes("staff"):
            await reads.existing(report, sample)
    if options.takes("verify"):
        console.print("Verifying the chains…")
        _verify_cli(report, settings, events)
    return report


# Issue 9: every read endpoint p99 ≤ 50 ms at 350,000 cases; a deep page as cheap as the first.
READ_TARGET_P99 = 0.050
DEEP_PAGE = 40


class _Reads:
    def __init__(self, http: LeanHttp, settings: Settings, routes: set[str]) -> None:
        assert settings.jwt_secret is not None
        secret = settings.jwt_secret.get_secret_value().encode()
        self.http = http
        self.routes = routes
        ministry = issue_token(
            secret=secret, staff_id=BENCH_MINISTRY, role=StaffRole.MINISTRY, municipalities=[]
        )
        self.ministry = {"Authorization": f"Bearer {ministry}", "X-Purpose": "audit"}
        specialist = issue_token(
            secret=secret,
            staff_id=BENCH_SPECIALIST,
            role=StaffRole.SPECIALIST,
            municipalities=[INBOX_MUNICIPALITY],
        )
        self.specialist = {"Authorization": f"Bearer {specialist}", "X-Purpose": "case_work"}

    async def timed(
        self, paths: list[str], headers: dict[str, str]
    ) -> tuple[list[float], str | None]:
        """Each path's round trip, one at a time; the first failure's description, if any."""
        took = []
        for path in paths:
            started = time.perf_counter()
            status, body = await self.http.get(path, headers)
            took.append(time.perf_counter() - started)
            if status != 200:
                return took, f"answered {status}: {body[:200].decode(errors='replace')}"
        return took, None

    def available(self, report: AuditReport, measure: str, route: str) -> bool:
        if route in self.routes:
            return True
        report.add(measure, f"not available ({route} is not routed yet)")
        return False

    async def latency(
        self,
        report: AuditReport,
        measure: str,
        paths: list[str],
        headers: dict[str, str],
        target_p99: float | None,
    ) -> None:
        took, failure = await self.timed(paths, headers)
        if failure is not None:
            report.add(measure, f"failed: {failure}")
            return
        p50, p99 = percentile(took, 0.5), percentile(took, 0.99)
        target = "" if target_p99 is None else f"p99 < {target_p99 * 1000:.0f} ms"
        report.add(
            measure,
            f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms ({len(took)} requests)",
            target,
            None if target_p99 is None else p99 < target_p99,
        )

    async def history(self, report: AuditReport, sample: list[dict[str, Any]]) -> None:
        route = "/api/v1/audit/cases/{case_id}/history"
        measure = "audit history of a case"
        if self.available(report, measure, route):
            paths = [f"/api/v1/audit/cases/{case['case_id']}/history" for case in sample]
            await self.latency(report, measure, paths, self.ministry, 0.020)

    async def state(
        self, report: AuditReport, sample: list[dict[str, Any]], now: datetime, rng: random.Random
    ) -> None:
        route = "/api/v1/audit/cases/{case_id}/state"
        measure = "state of a case at a moment"
        if not self.available(report, measure, route):
            return
        paths = []
        for case in sample:
            span = (now - case["opened_at"]).total_seconds()
            at = case["opened_at"] + timedelta(seconds=rng.uniform(0, span))
            moment = quote(json_time(at))
            paths.append(f"/api/v1/audit/cases/{case['case_id']}/state?at={moment}")
        await self.latency(report, measure, paths, self.ministry, 0.050)

    async def indicators(self, report: AuditReport, now: datetime, runs: int) -> None:
        route = "/api/v1/reports/indicators"
        measure = "indicators, whole oblast, a year"
        if not self.available(report, measure, route):
            return
        start = (now - timedelta(days=365)).date().isoformat()
        path = f"{route}?from={start}&to={now.date().isoformat()}"
        took, failure = await self.timed([path] * runs, self.ministry)
        if failure is not None:
            report.add(measure, f"failed: {failure}")
            return
        p50 = percentile(took, 0.5)
        report.add(measure, f"p50 {p50:.2f} s of {runs} runs", "< 3 s", p50 < 3)

    async def export(self, report: AuditReport, now: datetime) -> None:
        measure = f"export of {EXPORT_MUNICIPALITY}, two years, streamed"
        start = quote(json_time(now - timedelta(days=800)))
        period = f"from={start}&to={quote(json_time(now + timedelta(hours=1)))}&format=jsonl"
        # The municipality in the path (the audit API's), or as a parameter (issue 11's text).
        if _MUNICIPALITY_EXPORT in self.routes:
            path = f"/api/v1/audit/municipalities/{EXPORT_MUNICIPALITY}/export?{period}"
        elif self.available(report, measure, _EXPORT):
            path = f"{_EXPORT}?municipality={EXPORT_MUNICIPALITY}&{period}"
        else:
            return
        api = _api_process()
        lines = received = 0
        rss_before = api.memory_info().rss if api is not None else 0
        cpu_before = sum(api.cpu_times()[:2]) if api is not None else 0.0
        rss_peak = rss_before
        next_sample = 0

        def sink(chunk: bytes) -> None:
            """Count the lines; look at the API's memory after every MB streamed."""
            nonlocal lines, received, rss_peak, next_sample
            lines += chunk.count(b"\n")
            received += len(chunk)
            if api is not None and received >= next_sample:
                next_sample = received + 2**20
                rss_peak = max(rss_peak, api.memory_info().rss)

        started = time.perf_counter()
        status, body = await self.http.get(path, self.ministry, sink=sink)
        took = time.perf_counter() - started
        if status != 200:
            report.add(measure, f"failed: answered {status}: {body[:200].decode(errors='replace')}")
            return
        rate = lines / took if took else 0.0
        grew = (rss_peak - rss_before) / 2**20
        # The API's own CPU a line: what the rate would be with a core to itself (the
        # machines here are shared, and the wall-clock rate moves with their load).
        cpu = sum(api.cpu_times()[:2]) - cpu_before if api is not None else 0.0
        per_line = f"; API CPU {cpu / lines * 1e6:.0f} µs a line" if lines and api else ""
        report.add(
            measure,
            f"{lines:,} events in {took:.2f} s: {rate:,.0f} events/s; API grew {grew:.0f} MB"
            f"{per_line}",
            "≥ 50,000 events/s, memory flat",
            rate >= 50_000,
        )

    async def existing(self, report: AuditReport, sample: list[dict[str, Any]]) -> None:
        """The staff's reads, each with issue 9's target: p99 ≤ 50 ms at 350,000 cases."""
        paths = [f"/api/v1/cases/{case['case_id']}/events" for case in sample]
        await self.latency(
            report, "GET /cases/{id}/events (today's history)", paths, self.ministry, 0.020
        )
        count = max(20, len(sample) // 4)
        first = "/api/v1/cases?municipality=novosibirsk&limit=50"
        reads = [
            ("GET /cases, a page of novosibirsk (ministry)", first, self.ministry),
            (
                f"GET /cases, a page of {INBOX_MUNICIPALITY} (specialist)",
                "/api/v1/cases?limit=50",
                self.specialist,
            ),
            (
                f"GET /tasks, a {INBOX_MUNICIPALITY} specialist's inbox",
                "/api/v1/tasks",
                self.specialist,
            ),
            ("GET /tasks, the ministry's inbox (the oblast)", "/api/v1/tasks", self.ministry),
        ]
        for measure, path, headers in reads:
            await self.latency(report, measure, [path] * count, headers, READ_TARGET_P99)
        deep, reached, failure = await self.deep_page(first, DEEP_PAGE)
        measure = f"GET /cases, novosibirsk page {reached} by cursor (ministry)"
        if failure is not None:
            report.add(measure, f"failed: {failure}")
        else:
            await self.latency(report, measure, [deep] * count, self.ministry, READ_TARGET_P99)

    async def deep_page(self, first: str, pages: int) -> tuple[str, int, str | None]:
        """The path of page `pages` of a listing (or of its last, if it has fewer), followed
        there cursor by cursor, and which page that is; a failure's description, if any."""
        path, page = first, 1
        while page < pages:
            status, body = await self.http.get(path, self.ministry)
            if status != 200:
                return path, page, f"answered {status}: {body[:200].decode(errors='replace')}"
            cursor = json.loads(body)["next_cursor"]
            if cursor is None:
                break
            path, page = f"{first}&after={quote(cursor)}", page + 1
        return path, page, None


async def _routes(http: LeanHttp) -> set[str]:
    status, body = await http.get("/openapi.json", {})
    if status != 200:
        raise BenchError(f"GET /openapi.json answered {status}")
    return set(json.loads(body)["paths"])


def _api_process() -> psutil.Process | None:
    """The API's child process (`kurator api`), to watch its memory."""
    for child in psutil.Process().children():
        try:
            if "workers.cli" in " ".join(child.cmdline()):
                return child
        except psutil.Error:
            continue
    return None


def _scalar(url: str, query: str) -> int:
    with psycopg.connect(psycopg_url(url)) as connection:
        row = connection.execute(query).fetchone()
    return int(row[0]) if row is not None else 0


def _sample_cases(url: str, count: int) -> list[dict[str, Any]]:
    with psycopg.connect(psycopg_url(url), row_factory=psycopg.rows.dict_row) as connection:
        return connection.execute(
            "SELECT case_id, opened_at, municipality FROM case_projections "
            "ORDER BY random() LIMIT %s",
            (count,),
        ).fetchall()


def _verify_cli(report: AuditReport, settings: Settings, events: int) -> None:
    """`kurator audit verify`, when the CLI has it (issue 11's own verifier)."""
    from workers.cli import app

    measure = "kurator audit verify, everything"
    if not any(group.name == "audit" for group in app.registered_groups):
        report.add(measure, "not available (no `kurator audit` command yet)")
        return
    env = {k: v for k, v in os.environ.items() if not k.startswith("KURATOR_")}
    env.update(
        {
            "KURATOR_DATABASE_URL": settings.require_database_url(),
            "KURATOR_MASTER_KEY_FILE": str(settings.require_master_key_file()),
            "KURATOR_LOG_LEVEL": "WARNING",
        }
    )
    started = time.perf_counter()
    done = subprocess.run(
        # No anchors were ever made for a synthetic oblast: each chain checked on its own.
        [sys.executable, "-m", "workers.cli", "audit", "verify", "--chains-only"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.perf_counter() - started
    if done.returncode != 0:
        report.add(measure, f"failed (exit {done.returncode}): {done.stderr.strip()[-200:]}")
        return
    report.add(
        measure,
        f"{events:,} events in {took / 60:.1f} min: {events / took:,.0f} events/s",
        "minutes, not hours",
        took < 3600,
    )


def print_report(report: AuditReport, console: Console, options: AuditBenchOptions) -> None:
    table = Table(
        title="Audit reads over a synthetic oblast",
        caption=f"{options.cases:,} cases asked, ~{options.events_per_case} events each; "
        "API in its own process; one request at a time",
    )
    for column in ("measure", "figure", "target", ""):
        table.add_column(column)
    for figure in report.figures:
        table.add_row(figure.measure, figure.figure, figure.target, figure.verdict)
    console.print(table)


def main(options: AuditBenchOptions, console: Console) -> int:
    """The `kurator bench audit` command; its exit status."""
    try:
        report = asyncio.run(run_audit_bench(options, console))
    except BenchError as error:
        console.print(f"[red]bench failed: {error}[/]")
        return 1
    print_report(report, console, options)
    return 0
