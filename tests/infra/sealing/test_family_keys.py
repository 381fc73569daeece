"""The family key store over the real test database: one key per family, created once however
many ask at once, cached for a bounded time, and destroyed for good."""

import asyncio
import uuid

import pytest

from infra.sealing.family_keys import FamilyKeyStore, KeyDestroyed, UnknownKey
from infra.sealing.master_keys import read_key_file
from models.crud.family_data_keys import keys_by_id
from models.db import SessionFactory
from models.tables.family_data_key import SYSTEM_KEY_OWNER
from tests.support.sealing import TEST_MASTER_KEY_FILE
from tests.support.sealing import test_key_store as key_store
from workflows.ids import case_workflow_id


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _family() -> str:
    return uuid.uuid4().hex


async def test_a_family_gets_one_key_however_often_it_asks(keys: FamilyKeyStore) -> None:
    family = _family()
    first = await keys.for_owner(family)
    assert first.owner == family
    assert len(first.secret) == 32
    assert await keys.for_owner(family) == first
    assert await keys.for_owner(_family()) != first


async def test_twenty_processes_asking_at_once_create_one_key(sessions: SessionFactory) -> None:
    family = _family()
    stores = [key_store(sessions) for _ in range(20)]  # as separate processes would
    found = await asyncio.gather(*(store.for_owner(family) for store in stores))
    assert len({key.key_id for key in found}) == 1
    assert len({key.secret for key in found}) == 1


async def test_twenty_concurrent_asks_in_one_process_create_one_key(keys: FamilyKeyStore) -> None:
    family = _family()
    found = await asyncio.gather(*(keys.for_owner(family) for _ in range(20)))
    assert len({(key.key_id, key.secret) for key in found}) == 1


async def test_a_key_is_found_by_its_id_in_another_store(
    keys: FamilyKeyStore, sessions: SessionFactory
) -> None:
    created = await keys.for_owner(_family())
    assert await key_store(sessions).by_id(created.key_id) == created


async def test_an_unknown_key_id_is_named(keys: FamilyKeyStore) -> None:
    missing = uuid.uuid4()
    with pytest.raises(UnknownKey, match=str(missing)):
        await keys.by_id(missing)


async def test_the_secret_is_stored_wrapped_not_in_clear(
    keys: FamilyKeyStore, sessions: SessionFactory
) -> None:
    created = await keys.for_owner(_family())
    async with sessions() as session:
        (stored,) = await keys_by_id(session, key_ids=[created.key_id])
    assert stored.wrapped is not None
    assert created.secret not in stored.wrapped
    assert stored.master_key_id == read_key_file(TEST_MASTER_KEY_FILE).current.key_id
    assert created.secret.hex() not in repr(created)


async def test_a_cached_key_serves_until_its_time_is_up(sessions: SessionFactory) -> None:
    clock = Clock()
    cached = FamilyKeyStore(
        sessions, read_key_file(TEST_MASTER_KEY_FILE), cache_seconds=60, clock=clock
    )
    family = _family()
    key = await cached.for_owner(family)
    await key_store(sessions).destroy(family, staff_id="staff-301", role="head", reason="r")
    clock.now += 59  # still cached: another process's erasure is not seen yet
    assert await cached.by_id(key.key_id) == key
    assert await cached.for_owner(family) == key
    clock.now += 2  # expired: the store reads the row again and finds it destroyed
    with pytest.raises(KeyDestroyed):
        await cached.by_id(key.key_id)
    with pytest.raises(KeyDestroyed):
        await cached.for_owner(family)


async def test_a_destroyed_key_is_gone_everywhere_for_good(
    keys: FamilyKeyStore, sessions: SessionFactory
) -> None:
    family = _family()
    key = await keys.for_owner(family)
    assert await keys.destroy(family, staff_id="staff-301", role="head", reason="retention over")
    assert not await keys.destroy(family, staff_id="staff-301", role="head", reason="again")
    for store in (keys, key_store(sessions)):
        with pytest.raises(KeyDestroyed, match=str(key.key_id)):
            await store.by_id(key.key_id)
        with pytest.raises(KeyDestroyed):
            await store.for_owner(family)  # no fresh key for an erased family either
    async with sessions() as session:
        # The row stays, so the erasure stays on record.
        (stored,) = await keys_by_id(session, key_ids=[key.key_id])
    assert stored.wrapped is None
    assert stored.master_key_id is None
    assert stored.destroyed_at is not None


async def test_destroying_a_family_without_a_key_changes_nothing(keys: FamilyKeyStore) -> None:
    family = _family()
    assert not await keys.destroy(family, staff_id="staff-301", role="head", reason="r")
    assert (await keys.for_owner(family)).owner == family


async def test_payloads_of_no_family_use_the_system_key(keys: FamilyKeyStore) -> None:
    assert await keys.owner_of_workflow(None) == SYSTEM_KEY_OWNER
    assert await keys.owner_of_workflow("calendar-refresh") == SYSTEM_KEY_OWNER
    system = await keys.for_owner(SYSTEM_KEY_OWNER)
    assert system.owner == SYSTEM_KEY_OWNER
    assert await keys.for_owner(SYSTEM_KEY_OWNER) == system


async def test_a_case_workflow_belongs_to_the_family_its_id_names(keys: FamilyKeyStore) -> None:
    family = _family()
    assert await keys.owner_of_workflow(case_workflow_id(family)) == family
