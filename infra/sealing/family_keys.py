"""The family key store: per-family data keys, created on first use, unwrapped through the
master keyring and cached in memory for a short while.

Why a cache with a lifetime: every Temporal payload is sealed and opened with a family key,
and a round trip to PostgreSQL and the master key per payload would cost more than the step
itself. Why a short one: after an erasure, another process may still hold the key in memory;
`cache_seconds` (60 by default) bounds how long it can still open that family's payloads. A
destroyed key is remembered as destroyed for good.
"""

import time
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import cached_property
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlmodel.ext.asyncio.session import AsyncSession

from infra.logs import get_logger
from infra.sealing.aead import new_key
from infra.sealing.master_keys import MasterKeyring
from models.crud.family_data_keys import (
    StoredKey,
    destroy_key,
    insert_key,
    key_of_family,
    keys_by_id,
    keys_to_rewrap,
    store_rewrapped,
    workflow_of_case,
)
from models.db import SessionFactory
from models.tables.family_data_key import SYSTEM_KEY_OWNER
from workflows.ids import case_of_follow_up, case_of_social_contract, family_key_of

log = get_logger(__name__)

DEFAULT_CACHE_SECONDS = 60.0
REWRAP_BATCH = 500


@dataclass(frozen=True)
class DataKey:
    key_id: UUID
    owner: str  # the family key (pseudonym), or SYSTEM_KEY_OWNER
    secret: bytes

    def __repr__(self) -> str:  # never print the secret
        return f"DataKey(key_id={self.key_id}, owner={self.owner!r})"

    @cached_property
    def cipher(self) -> AESGCM:
        """The secret's cipher, made once: it lives as long as this key is held (the store's
        cache), so a destroyed key's cipher goes with it."""
        return AESGCM(self.secret)


class KeyDestroyed(Exception):
    """The family's data was erased: its key no longer exists."""

    def __init__(self, key_id: UUID) -> None:
        super().__init__(f"data key {key_id} was destroyed (the family's data was erased)")
        self.key_id = key_id


class UnknownKey(Exception):
    def __init__(self, key_id: UUID) -> None:
        super().__init__(f"no data key {key_id} exists")
        self.key_id = key_id


def wrapping_context(key_id: UUID, owner: str) -> bytes:
    """The associated data a data key is wrapped under (migration 0006 wraps keys too)."""
    # Binds a wrapped key to its row: a wrapped key copied onto another family's row fails.
    return f"kurator-data-key:{key_id}:{owner}".encode()


def owner_named_by(workflow_id: str | None) -> str | UUID:
    """Whose key seals a workflow's payloads, as far as its id tells: the family's pseudonym
    a case workflow's id carries, the case a follow-up's or a social contract's id names (whose
    family the caller looks up), or the system owner for anything else."""
    if workflow_id is None:
        return SYSTEM_KEY_OWNER
    family = family_key_of(workflow_id)
    if family is not None:
        return family
    case_id = case_of_follow_up(workflow_id) or case_of_social_contract(workflow_id)
    return SYSTEM_KEY_OWNER if case_id is None else case_id


class FamilyKeyStore:
    def __init__(
        self,
        sessions: SessionFactory,
        master_keys: MasterKeyring,
        *,
        cache_seconds: float = DEFAULT_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._master = master_keys
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._by_id: dict[UUID, tuple[DataKey, float]] = {}
        self._id_of_owner: dict[str, UUID] = {}
        self._destroyed: set[UUID] = set()
        self._family_of_case: dict[UUID, str] = {}

    async def for_owner(self, owner: str) -> DataKey:
        """The key that seals new data of `owner` (a family key, or SYSTEM_KEY_OWNER), created
        when the family has none yet. Raises KeyDestroyed for an erased family: nothing new
        may be written for it under a fresh key."""
        cached_id = self._id_of_owner.get(owner)
        if cached_id is not None:
            fresh = self._cached(cached_id)
            if fresh is not None:
                return fresh
        async with self._sessions() as session, session.begin():
            stored = await key_of_family(session, family_key=owner)
            if stored is None:
                key_id, secret = uuid.uuid4(), new_key()
                wrapped = await self._master.current.wrap(
                    secret, associated_data=wrapping_context(key_id, owner)
                )
                await insert_key(
                    session,
                    key_id=key_id,
                    family_key=owner,
                    wrapped=wrapped,
                    master_key_id=self._master.current.key_id,
                )
                # Another process may have created the family's key at the same moment.
                stored = await key_of_family(session, family_key=owner)
                assert stored is not None
        return await self._remember(stored)

    async def by_id(self, key_id: UUID) -> DataKey:
        """The key an envelope names. Raises KeyDestroyed or UnknownKey."""
        key = (await self.by_ids([key_id]))[key_id]
        if key is None:
            raise KeyDestroyed(key_id)
        return key

    async def by_ids(
        self,
        key_ids: Collection[UUID],
        *,
        session: AsyncSession | None = None,
        read: Collection[StoredKey] = (),
    ) -> dict[UUID, DataKey | None]:
        """The keys envelopes name, those not cached in one query: None for a destroyed key
        (its values read as erased). Raises UnknownKey. `session`: the caller's, to look them
        up in the transaction it holds open rather than on a connection of their own. `read`:
        key rows the caller's own statement read already (a history's family key): those
        keys are not looked up again."""
        found: dict[UUID, DataKey | None] = {}
        missing = []
        for key_id in key_ids:
            fresh = None if key_id in self._destroyed else self._cached(key_id)
            if fresh is None and key_id not in self._destroyed:
                missing.append(key_id)
            else:
                found[key_id] = fresh
        stored = {row.key_id: row for row in read if row.key_id in missing}
        unread = [key_id for key_id in missing if key_id not in stored]
        if unread:
            if session is None:
                async with self._sessions() as own:
                    rows = await keys_by_id(own, key_ids=unread)
            else:
                rows = await keys_by_id(session, key_ids=unread)
            stored |= {row.key_id: row for row in rows}
        for key_id in missing:
            if key_id not in stored:
                raise UnknownKey(key_id)
            try:
                found[key_id] = await self._remember(stored[key_id])
            except KeyDestroyed:
                found[key_id] = None
        return found

    async def owner_of_workflow(self, workflow_id: str | None) -> str:
        """Whose key seals a workflow's payloads: its family's for a case or a follow-up
        workflow, the system key for anything else. A follow-up's id names its case, whose
        projection names the case workflow, whose id carries the family's pseudonym; the
        answer is remembered, since a case never changes family."""
        owner = owner_named_by(workflow_id)
        if not isinstance(owner, UUID):
            return owner
        case_id = owner
        known = self._family_of_case.get(case_id)
        if known is not None:
            return known
        async with self._sessions() as session:
            case_workflow = await workflow_of_case(session, case_id=case_id)
        family = None if case_workflow is None else family_key_of(case_workflow)
        if family is None:
            # Only outside production: a replay or a test with no projection of the case. The
            # payloads are sealed all the same, under the system key, and the codec says so.
            log.warning(
                "workflow of an unknown case: sealed under the system key",
                workflow_id=workflow_id,
            )
            return SYSTEM_KEY_OWNER
        self._family_of_case[case_id] = family  # a case never changes family
        return family

    async def destroy(self, family_key: str, *, staff_id: str, role: str, reason: str) -> bool:
        """Erase the family's key for good; True if a live key was destroyed."""
        async with self._sessions() as session, session.begin():
            stored = await key_of_family(session, family_key=family_key)
            destroyed = await destroy_key(
                session, family_key=family_key, staff_id=staff_id, role=role, reason=reason
            )
        if stored is not None:
            self.forget(stored.key_id)
            self._destroyed.add(stored.key_id)
        return destroyed

    def forget(self, key_id: UUID) -> None:
        cached = self._by_id.pop(key_id, None)
        if cached is not None:
            self._id_of_owner.pop(cached[0].owner, None)

    async def rewrap(self) -> int:
        """Re-wrap every live key under the current master key; how many were re-wrapped.
        Temporal histories and sealed columns are untouched: the data keys do not change."""
        current = self._master.current
        total = 0
        while True:
            async with self._sessions() as session, session.begin():
                batch = await keys_to_rewrap(
                    session, current_master_key_id=current.key_id, limit=REWRAP_BATCH
                )
                for stored in batch:
                    secret = await self._unwrap(stored)
                    wrapped = await current.wrap(
                        secret, associated_data=wrapping_context(stored.key_id, stored.family_key)
                    )
                    await store_rewrapped(
                        session, key_id=stored.key_id, wrapped=wrapped, master_key_id=current.key_id
                    )
            total += len(batch)
            if len(batch) < REWRAP_BATCH:
                return total

    def _cached(self, key_id: UUID) -> DataKey | None:
        cached = self._by_id.get(key_id)
        if cached is None or cached[1] < self._clock():
            return None
        return cached[0]

    async def _remember(self, stored: StoredKey) -> DataKey:
        if stored.wrapped is None:
            self._destroyed.add(stored.key_id)
            raise KeyDestroyed(stored.key_id)
        key = DataKey(stored.key_id, stored.family_key, await self._unwrap(stored))
        self._by_id[key.key_id] = (key, self._clock() + self._cache_seconds)
        self._id_of_owner[key.owner] = key.key_id
        return key

    async def _unwrap(self, stored: StoredKey) -> bytes:
        assert stored.wrapped is not None
        assert stored.master_key_id is not None
        return await self._master.unwrap(
            stored.master_key_id,
            stored.wrapped,
            associated_data=wrapping_context(stored.key_id, stored.family_key),
        )
