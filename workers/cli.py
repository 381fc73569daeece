"""The `kurator` command line: the dev stack and each production process."""

import asyncio
import logging
import os
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from infra.logs import configure_logging, get_logger
from models.payloads.vocabulary import StaffRole
from models.settings import DEFAULT_MAX_CACHED_WORKFLOWS, SettingsError
from workers.audit_cli import audit_app
from workers.process_settings import process_settings
from workers.resources_cli import resources_app
from workers.staff_cli import staff_app

log = get_logger(__name__)

app = typer.Typer(
    help="Kurator: durable case management for the social support of families with children.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",  # reflows docstring paragraphs
)


def _exit_on_missing_setting(error: SettingsError) -> typer.Exit:
    log.error(str(error))
    return typer.Exit(2)


@app.command()
def dev() -> None:
    """Run the whole stack on this machine: embedded PostgreSQL, the Temporal dev server with its
    Web UI (http://127.0.0.1:8233), the worker and the API (http://127.0.0.1:8000/docs).

    Data stays in KURATOR_DATA_DIR (default .kurator/) between runs. Set KURATOR_DATABASE_URL or
    KURATOR_TEMPORAL_ADDRESS to use servers of your own instead. Ctrl-C stops everything.
    """
    from workers.devstack.stack import DevStack

    raise typer.Exit(asyncio.run(DevStack(process_settings()).run()))


@app.command()
def worker() -> None:
    """Run a worker on Kurator's task queue. Needs KURATOR_DATABASE_URL and
    KURATOR_TEMPORAL_ADDRESS. Stops on Ctrl-C or SIGTERM."""
    from infra.collector import tune_collector
    from infra.metrics import MetricsPortError
    from workers.worker import run_worker

    tune_collector()  # after the imports: what they made lives as long as the process
    try:
        asyncio.run(run_worker(process_settings()))
    except SettingsError as error:
        raise _exit_on_missing_setting(error) from None
    except MetricsPortError as error:
        log.error(str(error))
        raise typer.Exit(1) from None
    # The worker has shut down cleanly. Skip interpreter finalisation: the Temporal SDK's native
    # threads can abort it (PyGILState_Release, an open SDK issue), which would turn a clean
    # stop into a crash report and a non-zero status.
    logging.shutdown()
    os._exit(0)


@app.command()
def dispatch() -> None:
    """Deliver the notifications outbox: e-mail over SMTP (KURATOR_SMTP_HOST) and the staff
    inbox, with retries and a dead letter. Needs KURATOR_DATABASE_URL. Stops on Ctrl-C or
    SIGTERM."""
    from workers.dispatch import run_dispatcher

    try:
        asyncio.run(run_dispatcher(process_settings()))
    except SettingsError as error:
        raise _exit_on_missing_setting(error) from None


@app.command()
def api() -> None:
    """Serve the staff API with uvicorn on KURATOR_API_HOST:KURATOR_API_PORT. Needs
    KURATOR_DATABASE_URL and KURATOR_TEMPORAL_ADDRESS."""
    from api.app import create_app
    from infra.collector import tune_collector
    from models.reports.catalogue import IndicatorSetError

    settings = process_settings()
    try:
        settings.require_database_url()
        settings.require_temporal_address()
    except SettingsError as error:
        raise _exit_on_missing_setting(error) from None
    try:
        app = create_app(settings)
    except IndicatorSetError as error:
        log.error(f"invalid setting KURATOR_INDICATORS_FILE: {error}")
        raise typer.Exit(2) from None
    config = uvicorn.Config(app, host=settings.api_host, port=settings.api_port, log_config=None)
    tune_collector()
    uvicorn.Server(config).run()


@app.command()
def token(
    staff: Annotated[str, typer.Option(help="Staff id, e.g. staff-101.")],
    role: Annotated[StaffRole, typer.Option(help="specialist, supervisor, head or ministry.")],
    municipality: Annotated[
        list[str] | None,
        typer.Option(help="A municipality code the staff member serves; repeat for several."),
    ] = None,
    hours: Annotated[float, typer.Option(min=0.01, max=720, help="Valid for this long.")] = 8,
) -> None:
    """Print a staff token for development and tests (signed with KURATOR_JWT_SECRET, or the
    secret `kurator dev` keeps in its data directory).

    Use it as `curl -H "Authorization: Bearer $(kurator token --staff staff-101 --role
    specialist --municipality berdsk)" http://127.0.0.1:8000/api/v1/tasks`. The API accepts
    it only while the staff directory lists that staff id, active, with that role and those
    municipalities (`kurator staff add`; `kurator dev` registers staff-101 and a few more).
    """
    from api.auth import TokenError, issue_token
    from workers.devstack.secrets import stored_dev_secret

    settings = process_settings()
    secret = (
        settings.jwt_secret.get_secret_value()
        if settings.jwt_secret
        else stored_dev_secret(settings.data_dir, "KURATOR_JWT_SECRET")
    )
    if secret is None:
        log.error("no secret: set KURATOR_JWT_SECRET, or run `make run` once to create one")
        raise typer.Exit(2)
    try:
        signed = issue_token(
            secret=secret.encode(),
            staff_id=staff,
            role=role,
            municipalities=municipality or [],
            ttl=timedelta(hours=hours),
        )
    except (TokenError, ValueError) as error:
        log.error(f"cannot issue the token: {error}")
        raise typer.Exit(2) from None
    typer.echo(signed)


@app.command()
def demo(
    families: Annotated[int, typer.Option(min=1, max=500, help="How many families.")] = 24,
    api: Annotated[str, typer.Option(help="The running API.")] = "http://127.0.0.1:8000",
    seed: Annotated[
        int | None, typer.Option(help="Same seed, same names, places and scripts.")
    ] = None,
    settle: Annotated[
        float,
        typer.Option(min=0, max=600, help="Wait up to this long for deadlines to pass."),
    ] = 40,
) -> None:
    """Seed a running stack (`make run`) with synthetic families in every stage, through the
    API, on the compressed policy: some steps are left undone so their deadlines pass.

    Each run adds new families (registry ids DEMO-<run>-0001...); earlier ones are untouched.
    """
    from workers.demo.driver import run_demo

    settings = process_settings()
    raise typer.Exit(
        run_demo(settings, api_url=api, families=families, seed_value=seed, settle=settle)
    )


bench_app = typer.Typer(
    help="Benchmarks: Kurator against bare Temporal (no subcommand), a synthetic oblast and "
    "its audit reads.",
    rich_markup_mode="markdown",
)
app.add_typer(bench_app, name="bench")


@bench_app.callback(invoke_without_command=True)
def bench(
    ctx: typer.Context,
    cases: Annotated[int, typer.Option(min=1, help="Cases (workflows) per side.")] = 40,
    steps: Annotated[int, typer.Option(min=1, max=500, help="Steps per case.")] = 10,
    concurrency: Annotated[int, typer.Option(min=1, max=200, help="Cases in flight.")] = 8,
    max_seconds: Annotated[
        float,
        typer.Option(
            min=2, help="Seconds for the measured runs, half a side; warm-up gets 1/8 a side."
        ),
    ] = 120,
    warmup: Annotated[int, typer.Option(min=0, help="Unmeasured cases first, per side.")] = 4,
    api_process: Annotated[
        bool,
        typer.Option(
            "--api-process/--api-in-process",
            help="The API in a child process, as it runs in production (the default), or in "
            "the bench's own process.",
        ),
    ] = True,
    cached_workflows: Annotated[
        int,
        typer.Option(
            min=0,
            help="Each worker's workflow cache (max_cached_workflows); fewer than --cases "
            "makes replays count, as when the open cases outnumber the cache.",
        ),
    ] = DEFAULT_MAX_CACHED_WORKFLOWS,
    rounds: Annotated[int, typer.Option(min=1, help="Alternating rounds of the two sides.")] = 4,
    intake_cases: Annotated[
        int,
        typer.Option(
            min=1,
            help="Cases opened alone per side, for the intake's figures: more than --cases, so "
            "that its p99 is not simply the slowest case.",
        ),
    ] = 160,
    seal: Annotated[
        bool,
        typer.Option(
            "--seal/--no-seal",
            help="--no-seal: Kurator's payloads in plain JSON, to measure what sealing costs.",
        ),
    ] = True,
    memory_cases: Annotated[
        int,
        typer.Option(
            min=0,
            max=20_000,
            help="Cases cached by a `kurator worker` of its own, to read its memory per 1,000 "
            "cached cases; 0 skips it.",
        ),
    ] = 500,
    replays: Annotated[
        int,
        typer.Option(
            min=0,
            max=100,
            help="Timed replays of the longest committed history (a cache miss); 0 skips it.",
        ),
    ] = 5,
) -> None:
    """Measure Kurator against bare Temporal on one dev server, in one run: throughput and
    p50/p99 of a step and of an intake, as ratios; then a worker's memory per 1,000 cached
    cases and the replay time of the longest committed history (`make bench`)."""
    if ctx.invoked_subcommand is not None:
        return
    from workers.bench.options import BenchOptions
    from workers.bench.runner import main

    main(
        BenchOptions(
            cases,
            steps,
            concurrency,
            max_seconds,
            warmup,
            api_process,
            rounds,
            seal,
            cached_workflows,
            memory_cases,
            replays,
            intake_cases,
        )
    )


@bench_app.command("generate")
def bench_generate(
    cases: Annotated[int, typer.Option(min=1, help="Synthetic cases (families) to write.")],
    events_per_case: Annotated[int, typer.Option(min=4, max=500, help="Mean events a case.")] = 30,
    seed: Annotated[int, typer.Option(help="Same seed, same cases.")] = 0,
    jobs: Annotated[int, typer.Option(min=1, max=32, help="Writer processes.")] = 2,
    dev: Annotated[
        bool,
        typer.Option(
            "--dev",
            help="Fill `kurator dev`'s own database (in KURATOR_DATA_DIR, default .kurator/), "
            "sealed with its master key, whether the stack runs or not: `make run` then "
            "serves the oblast.",
        ),
    ] = False,
) -> None:
    """Fill KURATOR_DATABASE_OWNER_URL (else KURATOR_DATABASE_URL), migrated and with no case
    history yet, or with --dev the dev stack's, with a synthetic oblast: N cases over the 35
    municipalities, ~30 events each, sealed, hash-chained and projected as the worker stores
    them. The cases are for reads: no workflow runs them."""
    import asyncio as aio
    from datetime import UTC, datetime

    from workers.bench.oblast_data import (
        Generated,
        GenerationRefused,
        OblastSpec,
        generate_oblast,
    )
    from workers.devstack.dev_database import dev_database
    from workers.devstack.embedded_postgres import EmbeddedPostgresError

    settings = process_settings()
    if dev and settings.database_url is not None:
        typer.echo(
            "refused: --dev fills kurator dev's embedded PostgreSQL, but KURATOR_DATABASE_URL is "
            "set (kurator dev then uses that server): leave out --dev to fill it",
            err=True,
        )
        raise typer.Exit(2)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    spec = OblastSpec(cases=cases, now=now, events_per_case=events_per_case, seed=seed, jobs=jobs)

    def generate(url: str, master_key_file: Path) -> Generated:
        return aio.run(generate_oblast(url, master_key_file, spec, typer.echo))

    try:
        if dev:
            with dev_database(settings.data_dir) as database:
                made = generate(database.owner_url, database.master_key_file)
        else:
            url = settings.database_owner_url or settings.require_database_url()
            made = generate(url, settings.require_master_key_file())
    except GenerationRefused as error:
        typer.echo(f"refused: {error}", err=True)
        raise typer.Exit(1) from None
    except EmbeddedPostgresError as error:
        typer.echo(f"PostgreSQL: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"{made.cases:,} cases, {made.events:,} events in {made.seconds:.0f} s "
        f"({made.events_per_second:,.0f} events/s)"
    )


@bench_app.command("audit")
def bench_audit(
    cases: Annotated[int, typer.Option(min=1, help="Synthetic cases to generate.")] = 350_000,
    events_per_case: Annotated[int, typer.Option(min=4, max=500, help="Mean events a case.")] = 30,
    seed: Annotated[int, typer.Option(help="Same seed, same cases.")] = 0,
    jobs: Annotated[int, typer.Option(min=1, max=32, help="Writer processes.")] = 2,
    requests: Annotated[int, typer.Option(min=1, help="Requests per latency figure.")] = 200,
    data_dir: Annotated[
        str | None,
        typer.Option(help="Keep the generated PostgreSQL here, and reuse it when it is filled."),
    ] = None,
    only: Annotated[
        str | None,
        typer.Option(
            help="Take only these measures, comma-separated: history, state, indicators, "
            "export, staff, verify (default: all)."
        ),
    ] = None,
) -> None:
    """Time the audit reads over a synthetic oblast in a fresh embedded PostgreSQL: history,
    state at a moment, indicators, export, verify, and today's reads (`make bench
    BENCH_ARGS="audit --cases 350000"`)."""
    from pathlib import Path

    from rich.console import Console

    from workers.bench.audit_reads import AuditBenchOptions, main, parse_only

    try:
        measures = None if only is None else parse_only(only)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--only") from None
    configure_logging("WARNING")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    options = AuditBenchOptions(
        cases=cases,
        events_per_case=events_per_case,
        seed=seed,
        jobs=jobs,
        requests=requests,
        data_dir=None if data_dir is None else Path(data_dir),
        only=measures,
    )
    raise typer.Exit(main(options, Console(width=max(Console().width, 120))))


keys_app = typer.Typer(
    help="Master key rotation: the master key wraps each family's data key.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
app.add_typer(keys_app, name="keys")


@keys_app.command("new-master-key")
def new_master_key(
    key_id: Annotated[
        str, typer.Option("--id", help="The new key's id: 1-64 of A-Z a-z 0-9 . _ -.")
    ],
) -> None:
    """Print a new random master key as a key file line (`<id> <base64 key>`).

    To rotate: put the line at the top of KURATOR_MASTER_KEY_FILE (the old key stays below it,
    retired), restart the API and the workers, run `kurator keys rewrap`, then delete the old
    line.
    """
    from infra.sealing.master_keys import MasterKeyError, key_file_line

    try:
        typer.echo(key_file_line(key_id))
    except MasterKeyError as error:
        configure_logging()
        log.error(str(error))
        raise typer.Exit(2) from None


@keys_app.command()
def rewrap() -> None:
    """Re-wrap every family's data key under the current master key (the key file's first
    line). Needs KURATOR_DATABASE_URL and KURATOR_MASTER_KEY_FILE. Safe to run again: keys
    already wrapped by the current master key are left alone. Temporal histories and sealed
    columns are untouched; the data keys do not change."""
    from infra.sealing.master_keys import MasterKeyError
    from workers.keys import rewrap_data_keys

    settings = process_settings()
    try:
        current, count = asyncio.run(rewrap_data_keys(settings))
    except SettingsError as error:
        raise _exit_on_missing_setting(error) from None
    except MasterKeyError as error:
        log.error(str(error))
        raise typer.Exit(2) from None
    typer.echo(f"{count} data keys re-wrapped under master key {current}")


app.add_typer(audit_app, name="audit")
app.add_typer(resources_app, name="resources")
app.add_typer(staff_app, name="staff")

family = typer.Typer(help="A family's data: erasure.", no_args_is_help=True)
app.add_typer(family, name="family")


@family.command("erase")
def erase_family_data(
    family_id: Annotated[str, typer.Argument(help="The family record's id (a UUID).")],
    reason: Annotated[
        str, typer.Option(help="Why, e.g. 'retention period over'; never whom (no names).")
    ],
    staff_id: Annotated[str, typer.Option(help="Who erases, e.g. staff-701.")],
    role: Annotated[StaffRole, typer.Option(help="head or ministry.")] = StaffRole.MINISTRY,
    legal_basis: Annotated[
        str | None, typer.Option(help="The legal basis, e.g. '152-ФЗ ст. 21 ч. 4'.")
    ] = None,
    purpose: Annotated[
        str, typer.Option(help="As the X-Purpose header: a code, optionally ': note'.")
    ] = "erasure",
) -> None:
    """Erase a family's personal data by destroying its data key: its record, sealed fields
    and Temporal payloads can no longer be read; the coded case history stays. Refused while
    a case of the family is open or any of its workflows runs. Needs KURATOR_DATABASE_URL,
    KURATOR_TEMPORAL_ADDRESS and KURATOR_MASTER_KEY_FILE. Prints what was erased as JSON."""
    import uuid

    from infra.family_erasure import ErasureRefused
    from models.access import PurposeError, parse_purpose
    from workers.family_erase import erase_from_cli

    settings = process_settings()
    try:
        parsed_id = uuid.UUID(family_id)
        parsed_purpose = parse_purpose(purpose)
    except ValueError as error:  # PurposeError is one
        kind = "purpose" if isinstance(error, PurposeError) else "family id"
        log.error(f"invalid {kind}: {error if kind == 'purpose' else 'not a UUID'}")
        raise typer.Exit(2) from None
    if not staff_id.strip() or len(staff_id) > 64:
        log.error("invalid staff id: 1 to 64 characters")
        raise typer.Exit(2)
    try:
        answer = asyncio.run(
            erase_from_cli(
                settings,
                family_id=parsed_id,
                staff_id=staff_id,
                role=role,
                reason=reason,
                legal_basis=legal_basis,
                purpose=parsed_purpose,
            )
        )
    except SettingsError as error:
        raise _exit_on_missing_setting(error) from None
    except ErasureRefused as refused:
        log.error(f"not erased ({refused.code}): {refused.message}")
        raise typer.Exit(1) from None
    typer.echo(answer)


@audit_app.command("verify-export")
def verify_export(
    file: Annotated[
        Path, typer.Argument(help="A JSON-lines export (GET /api/v1/audit/.../export).")
    ],
) -> None:
    """Check an audit export offline: recompute every event's hash from its stored columns,
    every link to the event before it, each case record and the manifest. Needs no database
    and no key. Exit 0 when all hold, 1 when something does not (printed), 2 when the file
    cannot be read."""
    from workers.audit_export_cli import verify_export as check

    raise typer.Exit(check(file))


@app.command()
def report(
    date_from: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    date_to: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD (included).")],
    out: Annotated[Path, typer.Option(help="The folder to write into (created if missing).")],
    municipality: Annotated[
        str | None, typer.Option(help="One municipality's code; default: the whole oblast.")
    ] = None,
) -> None:
    """Write the pilot's indicators for a period: the dashboard page (OUT/index.html, charts
    inline, opens offline) and CSV files (OUT/indicators.csv with every indicator, and one
    OUT/<indicator>.csv each). Reads KURATOR_DATABASE_URL; KURATOR_INDICATORS_FILE chooses the
    indicators."""
    from models.reports.catalogue import IndicatorSetError
    from models.reports.period import ReportFilterError
    from workers.report import ReportRequest, write_report

    settings = process_settings()
    try:
        first, last = _iso_day("--from", date_from), _iso_day("--to", date_to)
        written = asyncio.run(write_report(settings, ReportRequest(first, last, municipality, out)))
    except SettingsError as error:
        raise _exit_on_missing_setting(error) from None
    except ReportFilterError as error:
        log.error(f"invalid filter: {error}")
        raise typer.Exit(2) from None
    except IndicatorSetError as error:
        log.error(f"invalid setting KURATOR_INDICATORS_FILE: {error}")
        raise typer.Exit(2) from None
    for path in written:
        typer.echo(str(path))


def _iso_day(option: str, value: str) -> date:
    from models.reports.period import ReportFilterError

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ReportFilterError(option.removeprefix("--"), "not a date (YYYY-MM-DD)") from None


@app.command()
def migrate() -> None:
    """Apply the database migrations (alembic upgrade head) as the schema's owner
    (KURATOR_DATABASE_OWNER_URL, else KURATOR_DATABASE_URL) and exit. When KURATOR_DATABASE_URL
    logs in as another user, that login is made a member of `kurator_app` (created with the
    URL's password if missing): the rights the API and the worker need, and no more."""
    from infra.db_roles import AppLoginError, ensure_app_login
    from infra.migrate import upgrade_to_head

    settings = process_settings()
    try:
        owner_url = settings.require_owner_database_url()
        upgrade_to_head(owner_url, master_key_file=settings.master_key_file)
        ensure_app_login(owner_url, settings.require_database_url())
    except SettingsError as error:
        raise _exit_on_missing_setting(error) from None
    except AppLoginError as error:
        log.error(str(error))
        raise typer.Exit(1) from None
    log.info("database is at the latest migration")


if __name__ == "__main__":
    app()
