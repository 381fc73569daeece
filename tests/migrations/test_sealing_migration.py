"""Migration 0006 seals what an existing deployment stored in clear: family records, comments
and providers, each with its family's key (an existing one kept, a missing one created as the
key store creates it), and refuses to run without the master key when there is any.

Every name, comment and provider here is invented and obviously synthetic."""

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import Engine, text

from infra.audit.chain import check_chain
from infra.migrate import alembic_config, current_revision, head_revision, upgrade_to_head
from infra.sealing.family_keys import FamilyKeyStore
from models.crud.case_events import list_events
from models.crud.case_projections import get_view
from models.crud.families import read_family
from models.db import make_async_engine, make_session_factory, make_sync_engine
from models.payloads.vocabulary import StaffRole
from models.settings import SettingsError, get_settings
from tests.support.sealing import TEST_MASTER_KEY_FILE, test_key_store
from workflows.ids import case_workflow_id

OLD_FAMILY = "a" * 32  # written before 0005: no data key yet
KEYED_FAMILY = "b" * 32  # a case ran after 0005: its key exists (the codec created it)
CASE = uuid.UUID(int=0x6006)
KEYED_CASE = uuid.UUID(int=0x6007)
NAME = "Досельная Прасковья Миграционная"
COMMENT = "соседка Вымышленная сообщила о пожаре"
PROVIDER = "ООО Синтетический Подрядчик"
ROUTE_PROVIDER = "Тестовый Центр Помощи"
OPENED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def old_database(empty_database_url: str) -> str:
    """A database at 0005 holding clear rows, as an existing deployment has them."""
    command.upgrade(alembic_config(empty_database_url), "0005")
    engine = make_sync_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            for family in (OLD_FAMILY, KEYED_FAMILY):
                connection.execute(
                    text(
                        "INSERT INTO families (id, family_key, municipality, record) "
                        "VALUES (:id, :key, 'berdsk', CAST(:record AS jsonb))"
                    ),
                    {"id": uuid.uuid4(), "key": family, "record": json.dumps(_record(family))},
                )
        _insert_case(engine, CASE, OLD_FAMILY)
        _insert_case(engine, KEYED_CASE, KEYED_FAMILY)
    finally:
        engine.dispose()
    return empty_database_url


def _record(family: str) -> dict[str, object]:
    return {
        "registry_id": f"SYN-{family[:6]}",
        "members": [
            {"role": "parent", "full_name": NAME, "birth_date": "1980-02-03"},
            {"role": "child", "full_name": "Досельный Ребёнок", "birth_date": "2016-04-05"},
        ],
        "address": "Старая ул., д. 6",
        "phone": "+7 900 000-00-06",
    }


def _insert_case(engine: Engine, case_id: uuid.UUID, family: str) -> None:
    view = {
        "case_id": str(case_id),
        "workflow_id": case_workflow_id(family),
        "version": 2,
        "municipality": "berdsk",
        "stage": "support",
        "policy_version": "2026.11-default",
        "opened_at": OPENED.isoformat(),
        "plan_items": [
            {
                "item_id": "leg-1",
                "service_type": "social_legal",
                "provider": PROVIDER,
                "responsible": "staff-101",
                "deadline": OPENED.isoformat(),
            }
        ],
        "details": {"route": {"routes": ["other_providers"], "providers": [ROUTE_PROVIDER]}},
        "deadlines": [
            {
                "key": "T10:leg-1",
                "code": "T10",
                "due_at": OPENED.isoformat(),
                "responsible": "staff-101",
                "overdue": True,
                "escalation_level": 1,
                "escalated_to": "supervisor",
            }
        ],
    }
    events = [
        (1, "signal_received", COMMENT, {"source": "agency_referral", "child_safety": False}),
        (2, "route_set", None, {"routes": ["other_providers"], "providers": [ROUTE_PROVIDER]}),
    ]
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO case_projections (case_id, workflow_id, version, municipality, "
                "stage, policy_version, opened_at, overdue, escalation_level, view) VALUES "
                "(:case_id, :workflow_id, 2, 'berdsk', 'support', '2026.11-default', :opened, "
                "false, 0, CAST(:view AS jsonb))"
            ),
            {
                "case_id": case_id,
                "workflow_id": view["workflow_id"],
                "opened": OPENED,
                "view": json.dumps(view),
            },
        )
        for seq, action, reason, data in events:
            connection.execute(
                text(
                    "INSERT INTO case_events (id, case_id, seq, action, actor_id, actor_role, "
                    "stage_after, reason, occurred_at, data) VALUES (:id, :case_id, :seq, "
                    ":action, 'staff-001', 'specialist', 'identified', :reason, :at, "
                    "CAST(:data AS jsonb))"
                ),
                {
                    "id": uuid.uuid4(),
                    "case_id": case_id,
                    "seq": seq,
                    "action": action,
                    "reason": reason,
                    "at": OPENED,
                    "data": json.dumps(data),
                },
            )


def _everything_stored(url: str) -> bytes:
    """Every value of the three tables, as bytes (the sealed records as they are stored)."""
    engine = make_sync_engine(url)
    try:
        with engine.connect() as connection:
            records = connection.execute(text("SELECT sealed_record FROM families")).scalars()
            texts = [
                str(connection.execute(text(query)).all())
                for query in (
                    "SELECT families::text FROM families",
                    "SELECT case_events::text FROM case_events",
                    "SELECT case_projections::text FROM case_projections",
                )
            ]
            return b"\n".join([*(bytes(r) for r in records), *(t.encode() for t in texts)])
    finally:
        engine.dispose()


@pytest.fixture
def no_master_key_setting(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("KURATOR_MASTER_KEY_FILE", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def test_existing_clear_rows_are_sealed_with_each_familys_key(old_database: str) -> None:
    engine = make_async_engine(old_database)
    sessions = make_session_factory(engine)
    keys: FamilyKeyStore = test_key_store(sessions)
    try:
        existing = await keys.for_owner(KEYED_FAMILY)  # the codec made it after 0005

        upgrade_to_head(old_database, master_key_file=TEST_MASTER_KEY_FILE)

        assert current_revision(old_database) == head_revision()
        stored = _everything_stored(old_database)
        assert b"sealed:v1:" in stored
        for clear in (NAME, COMMENT, PROVIDER, ROUTE_PROVIDER, "Старая ул.", "SYN-aaaaaa"):
            assert clear.encode() not in stored
        # A fresh store (no cache): the keys come from the database, unwrapped by the master.
        opened = test_key_store(sessions)
        async with sessions() as session, session.begin():
            old = await read_family(
                session,
                keys=opened,
                family_key=OLD_FAMILY,
                staff_id="staff-001",
                role=StaffRole.SPECIALIST,
                purpose="migration test",
            )
        async with sessions() as session:
            events = await list_events(session, case_id=KEYED_CASE, keys=opened)
            view = await get_view(session, case_id=CASE, keys=opened)
            connection = await session.connection()
            keyed = await connection.execute(
                text("SELECT record_key_id FROM families WHERE family_key = :key"),
                {"key": KEYED_FAMILY},
            )
            coded = await connection.execute(
                text("SELECT action, actor_role FROM case_events WHERE case_id = :case"),
                {"case": CASE},
            )
        assert old is not None
        assert old.members[0].full_name == NAME
        assert old.address == "Старая ул., д. 6"
        assert [(e.seq, e.reason) for e in events] == [(1, COMMENT), (2, None)]
        assert events[1].data["providers"] == [ROUTE_PROVIDER]
        assert view is not None
        assert [item.provider for item in view.plan_items] == [PROVIDER]
        assert view.details["route"]["providers"] == [ROUTE_PROVIDER]
        assert keyed.scalar_one() == existing.key_id  # the family's key was kept, not replaced
        assert sorted(coded.all()) == [
            ("route_set", "specialist"),
            ("signal_received", "specialist"),
        ]
    finally:
        await engine.dispose()


def test_without_the_master_key_the_migration_stops_and_says_why(
    old_database: str, no_master_key_setting: None
) -> None:
    with pytest.raises(SettingsError, match="KURATOR_MASTER_KEY_FILE"):
        upgrade_to_head(old_database)
    assert current_revision(old_database) == "0005"  # nothing of 0006 stayed
    assert NAME in _clear_records(old_database)


def test_an_empty_database_needs_no_master_key(
    empty_database_url: str, no_master_key_setting: None
) -> None:
    upgrade_to_head(empty_database_url)
    assert current_revision(empty_database_url) == head_revision()


def _clear_records(url: str) -> str:
    engine = make_sync_engine(url)
    try:
        with engine.connect() as connection:
            return str(connection.execute(text("SELECT record::text FROM families")).all())
    finally:
        engine.dispose()


def test_existing_events_are_chained_and_open_deadlines_fill_the_inbox(old_database: str) -> None:
    """Migrations 0008 and 0009 over rows an earlier deployment stored."""
    upgrade_to_head(old_database, master_key_file=TEST_MASTER_KEY_FILE)
    engine = make_sync_engine(old_database)
    try:
        with engine.connect() as connection:
            for case_id in (CASE, KEYED_CASE):
                rows = connection.execute(
                    text("SELECT * FROM case_events WHERE case_id = :c ORDER BY seq"),
                    {"c": case_id},
                ).mappings()
                head, broken = check_chain(case_id, [dict(row) for row in rows])
                assert broken is None
                assert head is not None
                assert head.seq == 2
                stored_head = connection.execute(
                    text("SELECT seq, hash FROM case_chain_heads WHERE case_id = :c"),
                    {"c": case_id},
                ).one()
                assert tuple(stored_head) == (head.seq, head.hash)
            workflows = connection.execute(
                text("SELECT DISTINCT workflow_id FROM case_events WHERE case_id = :c"),
                {"c": CASE},
            ).scalars()
            assert list(workflows) == [case_workflow_id(OLD_FAMILY)]
            items = connection.execute(
                text(
                    "SELECT case_id, key, kind, overdue, responsible, escalated_to "
                    "FROM case_inbox_items ORDER BY case_id"
                )
            ).all()
    finally:
        engine.dispose()
    assert [tuple(item) for item in items] == [
        (case_id, "T10:leg-1", "deadline", True, "staff-101", "supervisor")
        for case_id in sorted((CASE, KEYED_CASE))
    ]
