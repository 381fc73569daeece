"""Family records and their access log on a real PostgreSQL, and the seeded territory.

Every name, number and address here is invented and obviously synthetic.
"""

from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from infra.sealing.columns import SealedValueError
from infra.sealing.family_keys import FamilyKeyStore, KeyDestroyed
from models.crud.families import (
    FamilyErased,
    access_log,
    locate_family,
    read_family,
    save_family,
)
from models.crud.municipalities import list_municipalities
from models.db import SessionFactory
from models.family_records import FamilyAccessAction, FamilyIn, FamilyRecordPublic
from models.identity import family_key
from models.payloads.vocabulary import StaffRole
from models.territory import MUNICIPALITIES

SECRET = b"test-pseudonym-secret"
STAFF_ID = "staff-001"
SPECIALIST = StaffRole.SPECIALIST


def _family(registry_id: str, *, address: str = "Синтетическая ул., д. 0") -> FamilyIn:
    members: list[dict[str, Any]] = [
        {"role": "parent", "full_name": "Тестова Анна Синтетическая", "birth_date": "1990-01-01"},
        {"role": "child", "full_name": "Тестов Пётр Вымышленный", "birth_date": "2015-06-01"},
    ]
    return FamilyIn.model_validate(
        {"registry_id": registry_id, "members": members, "address": address}
    )


def _new_registry_id() -> str:
    """A registry id of the test's own, so tests sharing the database never meet."""
    return f"SYN-{uuid4().hex[:12]}"


async def test_the_seeded_municipalities_equal_the_territory_module(
    sessions: SessionFactory, keys: FamilyKeyStore
) -> None:
    async with sessions() as session:
        stored = await list_municipalities(session)
    assert {(m.code, m.name_ru, m.kind) for m in stored} == {
        (m.code, m.name_ru, m.kind) for m in MUNICIPALITIES
    }
    assert len(stored) == len(MUNICIPALITIES)
    assert [m.kind for m in stored[:5]] == ["city_district"] * 5


async def test_saving_twice_keeps_one_family_with_the_newer_record_and_logs_both_writes(
    sessions: SessionFactory, keys: FamilyKeyStore
) -> None:
    registry_id = _new_registry_id()
    key = family_key(registry_id, SECRET)
    async with sessions() as session, session.begin():
        first_id, first_new = await save_family(
            session,
            keys=keys,
            family_key=key,
            municipality="berdsk",
            family=_family(registry_id),
            purpose="intake",
            staff_id=STAFF_ID,
            role=SPECIALIST,
        )
    async with sessions() as session, session.begin():
        second_id, second_new = await save_family(
            session,
            keys=keys,
            family_key=key,
            municipality="berdsk",
            family=_family(registry_id, address="Вымышленный пер., д. 1"),
            purpose="address changed",
            staff_id=STAFF_ID,
            role=SPECIALIST,
        )
    async with sessions() as session:
        located = await locate_family(session, family_key=key)
        log = await access_log(session, family_id=first_id)

    assert (first_new, second_new) == (True, False)
    assert second_id == first_id
    assert located is not None
    assert (located.id, located.municipality) == (first_id, "berdsk")
    assert [(e.action, e.purpose, e.staff_id, e.role) for e in log] == [
        (FamilyAccessAction.WRITE, "intake", "staff-001", StaffRole.SPECIALIST),
        (FamilyAccessAction.WRITE, "address changed", "staff-001", StaffRole.SPECIALIST),
    ]

    async with sessions() as session, session.begin():
        record = await read_family(
            session,
            keys=keys,
            family_id=first_id,
            staff_id=STAFF_ID,
            role=SPECIALIST,
            purpose="check the address",
        )
    assert record is not None
    assert record.address == "Вымышленный пер., д. 1"
    assert record.updated_at > record.created_at


async def test_reading_returns_the_record_and_logs_who_read_it_and_why(
    sessions: SessionFactory, keys: FamilyKeyStore
) -> None:
    registry_id = _new_registry_id()
    key = family_key(registry_id, SECRET)
    async with sessions() as session, session.begin():
        family_id, _ = await save_family(
            session,
            keys=keys,
            family_key=key,
            municipality="iskitim_district",
            family=_family(registry_id),
            purpose="intake",
            staff_id=STAFF_ID,
            role=SPECIALIST,
        )
    async with sessions() as session, session.begin():
        record = await read_family(
            session,
            keys=keys,
            family_key=key,
            staff_id="staff-101",
            role=StaffRole.SUPERVISOR,
            purpose="review of the plan",
        )
    async with sessions() as session:
        log = await access_log(session, family_id=family_id)

    assert record is not None
    assert (record.id, record.family_key, record.municipality) == (
        family_id,
        key,
        "iskitim_district",
    )
    assert record.registry_id == registry_id
    assert [m.full_name for m in record.members] == [
        "Тестова Анна Синтетическая",
        "Тестов Пётр Вымышленный",
    ]
    assert [(e.action, e.staff_id, e.role, e.purpose) for e in log] == [
        (FamilyAccessAction.WRITE, "staff-001", StaffRole.SPECIALIST, "intake"),
        (FamilyAccessAction.READ, "staff-101", StaffRole.SUPERVISOR, "review of the plan"),
    ]


async def test_reading_an_unknown_family_returns_none(
    sessions: SessionFactory, keys: FamilyKeyStore
) -> None:
    async with sessions() as session, session.begin():
        record = await read_family(
            session,
            keys=keys,
            family_key=family_key(_new_registry_id(), SECRET),
            staff_id=STAFF_ID,
            role=SPECIALIST,
            purpose="lookup",
        )
        missing = await locate_family(session, family_key="0" * 32)
    assert (record, missing) == (None, None)


async def test_a_family_in_an_unknown_municipality_is_refused_by_the_foreign_key(
    sessions: SessionFactory, keys: FamilyKeyStore
) -> None:
    registry_id = _new_registry_id()
    async with sessions() as session:
        with pytest.raises(IntegrityError, match="fk_families_municipality"):
            async with session.begin():
                await save_family(
                    session,
                    keys=keys,
                    family_key=family_key(registry_id, SECRET),
                    municipality="atlantis",
                    family=_family(registry_id),
                    purpose="intake",
                    staff_id=STAFF_ID,
                    role=SPECIALIST,
                )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"family_key": "k", "family_id": uuid4()}, "exactly one"),
        ({}, "exactly one"),
        ({"family_key": "k", "purpose": "  "}, "purpose"),
        ({"family_key": "k", "staff_id": ""}, "staff_id"),
    ],
)
async def test_a_read_must_name_one_family_a_reader_and_a_purpose(
    sessions: SessionFactory, keys: FamilyKeyStore, arguments: dict[str, Any], message: str
) -> None:
    given: dict[str, Any] = {
        "keys": keys,
        "purpose": "audit",
        "staff_id": STAFF_ID,
        "role": SPECIALIST,
        **arguments,
    }
    async with sessions() as session:
        with pytest.raises(ValueError, match=message):
            await read_family(session, **given)


async def _saved(sessions: SessionFactory, keys: FamilyKeyStore, registry_id: str) -> str:
    key = family_key(registry_id, SECRET)
    async with sessions() as session, session.begin():
        await save_family(
            session,
            keys=keys,
            family_key=key,
            municipality="berdsk",
            family=_family(registry_id, address="Шифрованная ул., д. 7"),
            purpose="intake",
            staff_id=STAFF_ID,
            role=SPECIALIST,
        )
    return key


async def _read(sessions: SessionFactory, keys: FamilyKeyStore, key: str) -> FamilyRecordPublic:
    async with sessions() as session, session.begin():
        record = await read_family(
            session, keys=keys, family_key=key, staff_id=STAFF_ID, role=SPECIALIST, purpose="t"
        )
    assert record is not None
    return record


async def test_the_stored_record_is_sealed_with_the_familys_own_key(
    sessions: SessionFactory, keys: FamilyKeyStore
) -> None:
    registry_id = _new_registry_id()
    key = await _saved(sessions, keys, registry_id)
    async with sessions() as session:
        connection = await session.connection()
        row = (
            await connection.execute(
                text(
                    "SELECT f.*, k.family_key AS key_owner FROM families f "
                    "JOIN family_data_keys k ON k.key_id = f.record_key_id "
                    "WHERE f.family_key = :key"
                ),
                {"key": key},
            )
        ).one()
    stored = bytes(row.sealed_record)
    assert row.key_owner == key
    assert "record" not in row._mapping  # the clear JSON column is gone
    for clear in (registry_id, "Тестова Анна Синтетическая", "Шифрованная ул., д. 7"):
        assert clear.encode() not in stored
        assert clear.encode("utf-16-le") not in stored
    assert (await _read(sessions, keys, key)).address == "Шифрованная ул., д. 7"


async def test_a_record_moved_onto_another_familys_row_does_not_open(
    sessions: SessionFactory, keys: FamilyKeyStore
) -> None:
    one = await _saved(sessions, keys, _new_registry_id())
    other = await _saved(sessions, keys, _new_registry_id())
    async with sessions() as session, session.begin():
        # A tamperer with write access copies one family's envelope and key id onto another.
        connection = await session.connection()
        await connection.execute(
            text(
                "UPDATE families SET (sealed_record, record_key_id) = "
                "(SELECT sealed_record, record_key_id FROM families WHERE family_key = :one) "
                "WHERE family_key = :other"
            ),
            {"one": one, "other": other},
        )
    with pytest.raises(SealedValueError, match=r"families\.record"):
        await _read(sessions, keys, other)


async def test_a_family_whose_key_was_destroyed_reads_as_erased(
    sessions: SessionFactory, keys: FamilyKeyStore
) -> None:
    key = await _saved(sessions, keys, _new_registry_id())
    assert await keys.destroy(key, staff_id="staff-900", role="head", reason="retention over")
    with pytest.raises(FamilyErased):
        await _read(sessions, keys, key)
    async with sessions() as session, session.begin():
        with pytest.raises(KeyDestroyed):  # nothing new is recorded for an erased family
            await save_family(
                session,
                keys=keys,
                family_key=key,
                municipality="berdsk",
                family=_family("SYN-again"),
                purpose="intake",
                staff_id=STAFF_ID,
                role=SPECIALIST,
            )
