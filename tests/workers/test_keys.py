"""Master key rotation: a case sealed under master key A, re-wrapped under B by `kurator keys
rewrap`, still decodes and replays once A is gone from the key file, and every data key row
in PostgreSQL names B. Temporal's history is not touched by the rotation."""

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import text
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from infra.migrate import upgrade_to_head
from infra.sealing.converter import sealing_data_converter
from infra.sealing.family_keys import FamilyKeyStore
from infra.sealing.master_keys import MasterKeyError, key_file_line, read_key_file
from models.db import SessionFactory, make_async_engine, make_session_factory
from models.payloads import actions as act
from models.payloads.vocabulary import NeedDecision
from tests.support.cases import open_case, specialist, supervisor
from tests.support.temporal import start_time_skipping
from workers.worker import build_worker
from workflows.case import CaseWorkflow
from workflows.follow_up import CaseFollowUpWorkflow

ROOT = Path(__file__).resolve().parents[2]
COMMENT = "ПРОВЕРКА-ротация-ключа"


@pytest_asyncio.fixture
async def own_database(empty_database_url: str) -> AsyncIterator[tuple[str, SessionFactory]]:
    """A database of this test's own: a rewrap re-wraps every key of its database, which on
    the shared one would take the other tests' keys away from the test master key."""
    await asyncio.to_thread(upgrade_to_head, empty_database_url)
    engine = make_async_engine(empty_database_url)
    yield empty_database_url, make_session_factory(engine)
    await engine.dispose()


async def _kurator(*args: str, database_url: str, key_file: Path) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KURATOR_")}
    env |= {"KURATOR_DATABASE_URL": database_url, "KURATOR_MASTER_KEY_FILE": str(key_file)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "workers.cli",
        *args,
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


async def _sealed_case(sessions: SessionFactory, key_file: Path) -> list[WorkflowHistory]:
    """A case refused at assessment, closed, and its follow-up started: sealed under the key
    file's master key."""
    keys = FamilyKeyStore(sessions, read_key_file(key_file))
    env = await start_time_skipping(sealing_data_converter(keys))
    try:
        task_queue = f"rotation-{uuid.uuid4().hex}"
        async with build_worker(env.client, task_queue=task_queue, sessions=sessions, keys=keys):
            handle, _ = await open_case(env.client, task_queue)
            staff = specialist()
            await handle.execute_update(CaseWorkflow.register_intake, act.IntakeBody().by(staff))
            await handle.execute_update(
                CaseWorkflow.record_assessment,
                act.AssessmentBody(decision=NeedDecision.REFUSED, comment=COMMENT).by(staff),
            )
            await handle.execute_update(
                CaseWorkflow.approve_closure,
                act.ClosureApprovalBody(approve=True).by(supervisor()),
            )
            outcome = await handle.result()
            assert outcome.follow_up_workflow_id is not None
            follow_up = env.client.get_workflow_handle(outcome.follow_up_workflow_id)
            return [await handle.fetch_history(), await follow_up.fetch_history()]
    finally:
        await env.shutdown()


async def test_a_rotated_master_key_keeps_old_histories_readable(
    own_database: tuple[str, SessionFactory], tmp_path: Path
) -> None:
    database_url, sessions = own_database
    line_a, line_b = key_file_line("rotation-a"), key_file_line("rotation-b")
    key_file = tmp_path / "master-keys"
    key_file.write_text(line_a + "\n")
    histories = await _sealed_case(sessions, key_file)
    assert COMMENT.encode() not in histories[0].to_json().encode()

    # A removed too early: the rewrap names the master key it still needs, and changes nothing.
    key_file.write_text(line_b + "\n")
    status, output = await _kurator("keys", "rewrap", database_url=database_url, key_file=key_file)
    assert status == 2, output
    assert "no master key 'rotation-a' is configured" in output

    # Rotate: B on top, A retired below it; re-wrap; run again to see it is idempotent.
    key_file.write_text(f"{line_b}\n# retired, until rewrap has run\n{line_a}\n")
    status, output = await _kurator("keys", "rewrap", database_url=database_url, key_file=key_file)
    assert status == 0, output
    assert "1 data keys re-wrapped under master key rotation-b" in output  # the family's
    status, output = await _kurator("keys", "rewrap", database_url=database_url, key_file=key_file)
    assert status == 0, output
    assert "0 data keys re-wrapped under master key rotation-b" in output

    # Drop A: the old histories decode and replay under B alone.
    key_file.write_text(line_b + "\n")
    under_b = sealing_data_converter(FamilyKeyStore(sessions, read_key_file(key_file)))
    replayer = Replayer(workflows=[CaseWorkflow, CaseFollowUpWorkflow], data_converter=under_b)
    for history in histories:
        replayed = await replayer.replay_workflow(history)
        assert replayed.replay_failure is None
    assessment = next(
        event.workflow_execution_update_accepted_event_attributes.accepted_request.input.args
        for event in histories[0].events
        if event.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
        == "record_assessment"
    )
    command = act.command_type(act.AssessmentBody)
    [decoded] = await under_b.decode(assessment.payloads, [command])
    assert isinstance(decoded, command)
    assert decoded.comment == COMMENT

    async with sessions() as session:
        rows = (await session.exec(text("SELECT master_key_id FROM family_data_keys"))).all()  # type: ignore[call-overload]
    assert [row[0] for row in rows] == ["rotation-b"]

    # And A really is gone: a keyring holding only A opens none of the data keys.
    only_a = tmp_path / "only-a"
    only_a.write_text(line_a + "\n")
    stale = FamilyKeyStore(sessions, read_key_file(only_a))
    with pytest.raises(MasterKeyError, match="no master key 'rotation-b'"):
        await stale.for_owner(histories[0].workflow_id.removeprefix("case-"))
