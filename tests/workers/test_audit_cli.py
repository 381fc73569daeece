"""`kurator audit` as an operator runs it: a new signing key, an anchor written now, and
verify's exit status and report, clean and after a superuser changed an event."""

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from models.tables.family_data_key import SYSTEM_KEY_OWNER
from tests.support.audit import AuditDatabase, add_events, as_superuser, audit_database, new_case

ROOT = Path(__file__).resolve().parents[2]


@pytest_asyncio.fixture
async def audit_db(empty_database_url: str) -> AsyncIterator[AuditDatabase]:
    async with audit_database(empty_database_url) as db:
        yield db


async def kurator(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KURATOR_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "workers.cli",
        *args,
        env=clean | (env or {}),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_anchor_then_verify_clean_then_broken_naming_case_and_seq(
    audit_db: AuditDatabase, tmp_path: Path
) -> None:
    key_file = tmp_path / "signing.pem"
    status, output = await kurator("audit", "new-signing-key", "--out", str(key_file))
    assert status == 0, output
    assert "-----BEGIN PUBLIC KEY-----" in output
    public_file = tmp_path / "public.pem"
    public_file.write_text(output[output.index("-----BEGIN") :])
    log_file = tmp_path / "anchors.jsonl"
    env = {
        "KURATOR_DATABASE_URL": audit_db.app_url,
        "KURATOR_AUDIT_ANCHOR_LOG": str(log_file),
        "KURATOR_AUDIT_SIGNING_KEY_FILE": str(key_file),
    }
    data_key = await audit_db.keys.for_owner(SYSTEM_KEY_OWNER)
    target = await new_case(audit_db.sessions, data_key, 4)
    other = await new_case(audit_db.sessions, data_key, 2)

    status, output = await kurator("audit", "anchor", env=env)
    assert status == 0, output
    written = json.loads(output.strip().splitlines()[-1])
    assert (written["number"], written["cases"], written["changed"]) == (1, 2, 2)

    await add_events(audit_db.sessions, data_key, other, [3])
    status, output = await kurator("audit", "verify", env=env)
    assert status == 0, output
    assert "checked 7 events of 2 cases" in output
    assert "events/s" in output
    assert "1 anchors verified; the last, anchor 1, at" in output
    assert "1 events after the last anchor of their case" in output
    assert output.strip().endswith("clean: every chain holds and matches the anchors")

    statement = "UPDATE case_events SET reason = NULL WHERE case_id = %(c)s AND seq = 2"
    assert as_superuser(audit_db.owner_url, statement, {"c": target}) == 1
    # Verified with the public key alone, the signing key's setting unset.
    only_public = {k: v for k, v in env.items() if k != "KURATOR_AUDIT_SIGNING_KEY_FILE"}
    status, output = await kurator(
        "audit", "verify", "--public-key", str(public_file), env=only_public
    )
    assert status == 1, output
    assert f"BROKEN case {target} event 2: its content was changed" in output
    assert "NOT CLEAN: 1 broken cases" in output
    assert "комментарий" not in output  # no stored text, ever

    status, output = await kurator("audit", "verify", "--case", str(other), "--json", env=env)
    assert status == 0, output
    report = json.loads(output.strip().splitlines()[-1])
    assert (report["clean"], report["events"], report["cases"]) == (True, 3, 1)


async def test_usage_errors_exit_2_naming_the_problem(tmp_path: Path) -> None:
    url = {"KURATOR_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    status, output = await kurator("audit", "verify", env=url)
    assert status == 2
    assert "KURATOR_AUDIT_ANCHOR_LOG is not set (or --chains-only)" in output
    status, output = await kurator("audit", "verify", "--case", "not-a-uuid", env=url)
    assert status == 2
    assert "--case 'not-a-uuid' is not a UUID" in output
    log_only = url | {"KURATOR_AUDIT_ANCHOR_LOG": str(tmp_path / "a.jsonl")}
    status, output = await kurator("audit", "verify", env=log_only)
    assert status == 2
    assert "no key to verify the anchors with" in output
    status, output = await kurator("audit", "anchor", env=log_only)
    assert status == 2
    assert "KURATOR_AUDIT_SIGNING_KEY_FILE is not set" in output
    key_file = tmp_path / "k.pem"
    key_file.write_text("x")
    status, output = await kurator("audit", "new-signing-key", "--out", str(key_file))
    assert status == 2
    assert "exists already" in output
