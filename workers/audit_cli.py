"""`kurator audit`: the signing key of the audit anchors, an anchor written now, and `verify`,
which recomputes every case chain and holds it against the anchor log. Thin: the work is
infra/audit's; this module reads settings and prints."""

import asyncio
import json
import os
import uuid
from pathlib import Path
from typing import Annotated

import psycopg
import typer

from infra.audit.anchor_keys import (
    AnchorKeyError,
    VerifyingKey,
    public_key_pem,
    read_signing_key,
    read_verifying_key,
    write_new_signing_key,
)
from infra.audit.anchor_log import AnchorLogError
from infra.audit.registers import STAFF_DIRECTORY, RegisterVerdict
from infra.audit.verify import VerifyResult, verify_database
from infra.logs import configure_logging, get_logger
from models.settings import Settings, SettingsError
from workers.process_settings import process_settings

log = get_logger(__name__)

# Broken cases printed one per line; the rest are counted.
PROBLEMS_PRINTED = 100

audit_app = typer.Typer(
    help="The tamper-evident case history: signed anchors of all chains, and their check.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


def _fail(message: str, status: int = 2) -> typer.Exit:
    log.error(message)
    return typer.Exit(status)


@audit_app.command("new-signing-key")
def new_signing_key(
    out: Annotated[Path, typer.Option(help="Where to write the key (mode 0600); never replaced.")],
) -> None:
    """Write a new Ed25519 key that signs the audit anchors, and print its public key (PEM),
    which is all `kurator audit verify --public-key` needs. Keep the key file out of the
    database's backups: whoever holds both could forge anchors."""
    configure_logging()
    try:
        key = write_new_signing_key(out)
    except AnchorKeyError as error:
        raise _fail(str(error)) from None
    typer.echo(f"# key id {key.public.key_id}; the key is in {out}")
    typer.echo(public_key_pem(key.public), nl=False)


@audit_app.command()
def anchor() -> None:
    """Write one anchor now (what the worker's schedule does every
    KURATOR_AUDIT_ANCHOR_INTERVAL_SECONDS). Needs KURATOR_DATABASE_URL,
    KURATOR_AUDIT_ANCHOR_LOG and KURATOR_AUDIT_SIGNING_KEY_FILE. Prints the anchor as JSON."""
    from infra.audit.anchor import write_anchor
    from models.db import make_async_engine, make_session_factory

    settings = process_settings()
    try:
        database_url = settings.require_database_url()
        log_path = settings.require_audit_anchor_log()
        key = read_signing_key(settings.require_audit_signing_key_file())
    except (SettingsError, AnchorKeyError) as error:
        raise _fail(str(error)) from None

    async def write() -> str:
        engine = make_async_engine(database_url)
        try:
            written = await write_anchor(make_session_factory(engine), log_path=log_path, key=key)
        finally:
            await engine.dispose()
        return written.model_dump_json()

    try:
        typer.echo(asyncio.run(write()))
    except AnchorLogError as error:
        raise _fail(str(error), status=1) from None


def _verifying_key(settings: Settings, public_key: Path | None) -> VerifyingKey:
    source = public_key or settings.audit_signing_key_file
    if source is None:
        raise SettingsError(
            "no key to verify the anchors with: give --public-key FILE or set "
            "KURATOR_AUDIT_SIGNING_KEY_FILE"
        )
    return read_verifying_key(source)


def _report(result: VerifyResult) -> None:
    typer.echo(
        f"checked {result.events} events of {result.cases} cases in {result.seconds:.1f} s "
        f"({result.events_per_second:,.0f} events/s)"
    )
    if result.anchor_log is None:
        typer.echo("no anchor log: chains checked only (a whole case deleted or re-chained")
        typer.echo("  consistently would go unnoticed)")
    else:
        last = (
            f"; the last, anchor {result.anchors}, at {result.last_anchored_at}"
            if result.anchors
            else ""
        )
        typer.echo(f"anchor log {result.anchor_log}: {result.anchors} anchors verified{last}")
        typer.echo(
            f"{result.events_after_anchor} events after the last anchor of their case "
            f"({result.cases_unanchored} cases never anchored): checked by their chain only"
        )
        if result.log_problem is not None:
            typer.echo(f"BROKEN anchor log: {result.log_problem}")
    for problem in result.problems[:PROBLEMS_PRINTED]:
        where = "whole case" if problem.seq is None else f"event {problem.seq}"
        typer.echo(f"BROKEN case {problem.case_id} {where}: {problem.problem}")
    if len(result.problems) > PROBLEMS_PRINTED:
        typer.echo(f"... and {len(result.problems) - PROBLEMS_PRINTED} more broken cases")
    _report_registers(result.registers)
    directory = _directory(result.registers)
    directory_broken = directory is not None and directory.problem is not None
    resources_broken = [r for r in _resources(result.registers) if r.problem is not None]
    if result.clean:
        typer.echo("clean: every chain holds and matches the anchors")
    else:
        typer.echo(
            f"NOT CLEAN: {len(result.problems)} broken cases"
            + (", the anchor log is broken" if result.log_problem else "")
            + (", the staff directory's chain is broken" if directory_broken else "")
            + (f", {len(resources_broken)} broken resource-map entries" if resources_broken else "")
        )


@audit_app.command()
def verify(
    case: Annotated[
        str | None, typer.Option("--case", help="Only this case (its id, a UUID).")
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option(
            help="The anchors' public key (PEM). Default: KURATOR_AUDIT_SIGNING_KEY_FILE's."
        ),
    ] = None,
    anchor_log: Annotated[
        Path | None, typer.Option(help="The anchor log. Default: KURATOR_AUDIT_ANCHOR_LOG.")
    ] = None,
    chains_only: Annotated[
        bool, typer.Option(help="No anchor log: check each case's chain alone.")
    ] = False,
    database_url: Annotated[str | None, typer.Option(help="Default: KURATOR_DATABASE_URL.")] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="Processes checking ranges of cases (one snapshot). Default: CPUs, up to 4.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Recompute every case's hash chain from the stored events and check it against the
    latest anchors: exit 0 when clean, 1 naming the first broken link of each broken case (case
    id, event seq, what is wrong) or the anchor log's first broken line, 2 on a usage error.
    Reads the history only (any login of `kurator_app` will do); prints no stored text."""
    settings = process_settings()
    try:
        case_id = uuid.UUID(case) if case is not None else None
    except ValueError:
        raise _fail(f"--case {case!r} is not a UUID") from None
    try:
        url = database_url or settings.require_database_url()
        log_path = None if chains_only else (anchor_log or settings.require_audit_anchor_log())
        key = None if log_path is None else _verifying_key(settings, public_key)
    except SettingsError as error:
        raise _fail(f"{error} (or --chains-only)") from None
    except AnchorKeyError as error:
        raise _fail(str(error)) from None
    try:
        result = verify_database(
            url,
            case_id=case_id,
            anchor_log=log_path,
            key=key,
            jobs=jobs or min(4, os.cpu_count() or 1),
        )
    except AnchorLogError as error:
        raise _fail(str(error)) from None
    except psycopg.Error as error:
        raise _fail(f"cannot read the case history: {type(error).__name__}: {error}") from None
    if as_json:
        typer.echo(json.dumps(_as_dict(result) | _registers_dict(result), ensure_ascii=False))
    else:
        _report(result)
    raise typer.Exit(0 if result.clean else 1)


def _directory(registers: list[RegisterVerdict]) -> RegisterVerdict | None:
    return next((r for r in registers if r.key == STAFF_DIRECTORY), None)


def _resources(registers: list[RegisterVerdict]) -> list[RegisterVerdict]:
    return [r for r in registers if r.key != STAFF_DIRECTORY]


def _report_registers(registers: list[RegisterVerdict]) -> None:
    """The staff directory's chain and the resource map's (one an entry), when checked."""
    directory = _directory(registers)
    if directory is not None and directory.problem is None:
        typer.echo(f"staff directory: {directory.events} events, its chain holds")
    elif directory is not None:
        typer.echo(f"BROKEN staff directory event {directory.broken_seq}: {directory.problem}")
    resources = _resources(registers)
    holding = [r for r in resources if r.problem is None]
    if resources:
        changes = sum(r.events for r in holding)
        typer.echo(f"resource map: {len(holding)} entries, {changes} changes, their chains hold")
    for broken in (r for r in resources if r.problem is not None):
        entry = broken.key.partition(":")[2]
        typer.echo(
            f"BROKEN resource-map entry {entry} change {broken.broken_seq}: {broken.problem}"
        )


def _registers_dict(result: VerifyResult) -> dict[str, object]:
    directory = _directory(result.registers)
    found: dict[str, object] = {
        "resource_map": [
            {"entry": r.key.partition(":")[2], "changes": r.events, "clean": r.problem is None}
            | ({} if r.problem is None else {"broken_seq": r.broken_seq, "problem": r.problem})
            for r in _resources(result.registers)
        ]
    }
    if directory is not None:
        found["staff_directory"] = {
            "events": directory.events,
            "clean": directory.problem is None,
            "broken_seq": directory.broken_seq,
            "problem": directory.problem,
        }
    return found


def _as_dict(result: VerifyResult) -> dict[str, object]:
    return {
        "clean": result.clean,
        "events": result.events,
        "cases": result.cases,
        "seconds": round(result.seconds, 3),
        "events_per_second": round(result.events_per_second),
        "anchor_log": None if result.anchor_log is None else str(result.anchor_log),
        "anchors": result.anchors,
        "last_anchored_at": result.last_anchored_at,
        "events_after_anchor": result.events_after_anchor,
        "cases_unanchored": result.cases_unanchored,
        "log_problem": result.log_problem,
        "problems": [
            {"case_id": p.case_id, "seq": p.seq, "problem": p.problem} for p in result.problems
        ],
    }
