"""What the indicators read is kept by PostgreSQL as events are recorded
(models/tables/case_indicators.py, migration 0018's trigger): it must not depend on how a
case's events were split into steps, and the migration's backfill over stored events must
give exactly what the trigger gives."""

import dataclasses
import importlib.util
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import text

from infra.migrate import upgrade_to_head
from models.db import SessionFactory, make_async_engine, make_session_factory
from models.tables.family_data_key import SYSTEM_KEY_OWNER
from tests.support.report_cases import march_cases, store
from tests.support.sealing import test_key_store
from workers.devstack.embedded_postgres import ensure_database

_MIGRATION = Path(__file__).parents[2] / "migrations/versions/0018_case_indicators.py"
_MILESTONES = "SELECT * FROM case_milestones ORDER BY case_id"
_MARKS = "SELECT * FROM case_event_marks ORDER BY case_id, seq"


def _backfill_sql() -> str:
    spec = importlib.util.spec_from_file_location("migration_0018", _MIGRATION)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module._FROM_EVENTS).format(events="case_events")


async def _rows(sessions: SessionFactory, sql: str) -> list[dict[str, Any]]:
    async with sessions() as session:
        result = await session.exec(text(sql))  # type: ignore[call-overload]
        return [dict(row) for row in result.mappings().all()]


def _without_case(rows: list[dict[str, Any]], renamed: dict[uuid.UUID, uuid.UUID]) -> list[Any]:
    return sorted(
        (
            str(renamed.get(row["case_id"], row["case_id"])),
            *(v for k, v in row.items() if k != "case_id"),
        )
        for row in rows
    )


async def test_marks_do_not_depend_on_steps_and_the_backfill_gives_the_same(
    postgres_server: str,
) -> None:
    url = ensure_database(postgres_server, f"marks_{uuid.uuid4().hex[:12]}")
    upgrade_to_head(url)
    engine = make_async_engine(url)
    sessions = make_session_factory(engine)
    try:
        key = await test_key_store(sessions).for_owner(SYSTEM_KEY_OWNER)
        whole = march_cases()
        # The same cases again, one event a step (each step continues the case's streams).
        stepwise = [dataclasses.replace(case, case_id=uuid.uuid4()) for case in whole]
        for case in whole:
            await store(sessions, key, case)
        for case in stepwise:
            await store(sessions, key, case, events_a_step=1)
        same = {copy.case_id: case.case_id for case, copy in zip(whole, stepwise, strict=True)}
        milestones, marks = await _rows(sessions, _MILESTONES), await _rows(sessions, _MARKS)
        assert len(milestones) == 2 * len(whole)
        assert any(row["on_time"] is False for row in marks)  # the cases have late steps
        assert any(row["on_time"] is True for row in marks)
        firsts = [row for row in milestones if row["case_id"] not in same]
        copies = [row for row in milestones if row["case_id"] in same]
        assert _without_case(copies, same) == _without_case(firsts, {})
        first_marks = [row for row in marks if row["case_id"] not in same]
        copy_marks = [row for row in marks if row["case_id"] in same]
        assert _without_case(copy_marks, same) == _without_case(first_marks, {})

        async with sessions() as session, session.begin():
            await session.exec(text("DELETE FROM case_event_marks"))  # type: ignore[call-overload]
            await session.exec(text("DELETE FROM case_milestones"))  # type: ignore[call-overload]
            await session.exec(text(_backfill_sql()))  # type: ignore[call-overload]
        assert await _rows(sessions, _MILESTONES) == milestones
        assert await _rows(sessions, _MARKS) == marks
    finally:
        await engine.dispose()
