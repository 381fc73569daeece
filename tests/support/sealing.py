"""The test suite's keys: a committed, synthetic master key file, helpers to build what
production builds from it, and a fixed key source for the committed sealed histories, whose
data keys live in a committed JSON file rather than in the database they were recorded with."""

import base64
import json
import uuid
from collections.abc import Iterable
from pathlib import Path
from uuid import UUID

from sqlalchemy import text
from temporalio.converter import DataConverter

from infra.sealing.aead import new_key
from infra.sealing.converter import sealing_data_converter
from infra.sealing.family_keys import DataKey, FamilyKeyStore, UnknownKey
from infra.sealing.master_keys import read_key_file
from models.db import SessionFactory
from models.tables.family_data_key import SYSTEM_KEY_OWNER
from workflows.ids import case_of_follow_up, case_of_social_contract, family_key_of

TEST_MASTER_KEY_FILE = Path(__file__).with_name("test-master-keys")

# The data keys are stored in clear (base64): they are random keys of synthetic test families,
# sealing nothing but the committed test histories, and a fixture must open without any other
# secret. Never a real family's key.
FIXTURE_NOTE = (
    "Synthetic data keys of the committed test histories (tests/workflows/histories/sealed), "
    "in clear: they seal nothing but these fixtures. Written by tests.workflows.record_histories."
)


def test_key_store(sessions: SessionFactory) -> FamilyKeyStore:
    return FamilyKeyStore(sessions, read_key_file(TEST_MASTER_KEY_FILE))


def test_data_converter(sessions: SessionFactory) -> DataConverter:
    return sealing_data_converter(test_key_store(sessions))


class StaticKeySource:
    """A fixed set of data keys (infra.sealing.codec.KeySource), for replaying committed
    histories without the database they were recorded with. `cases` maps a case id to its
    family, as the case projections did when the follow-ups were recorded."""

    def __init__(
        self,
        keys: Iterable[DataKey],
        cases: dict[UUID, str],
        workflow_ids: dict[str, str] | None = None,
    ) -> None:
        self._by_id = {key.key_id: key for key in keys}
        self._by_owner = {key.owner: key for key in self._by_id.values()}
        self._cases = dict(cases)
        # History file name -> the workflow id it was recorded under, so that a replay runs
        # under the same id and its codec finds the same family (the test server's histories
        # do not name their workflow).
        self.workflow_ids = dict(workflow_ids or {})
        # What a replay of a history outside any family seals (the replayer discards it): a
        # key of this object's own, never exported.
        self._system = DataKey(uuid.uuid4(), SYSTEM_KEY_OWNER, new_key())

    @property
    def keys(self) -> list[DataKey]:
        return list(self._by_id.values())

    async def for_owner(self, owner: str) -> DataKey:
        try:
            return self._by_owner[owner]
        except KeyError:
            if owner == SYSTEM_KEY_OWNER:
                return self._system
            raise LookupError(f"the fixture holds no data key of {owner!r}") from None

    async def by_id(self, key_id: UUID) -> DataKey:
        try:
            return self._by_id[key_id]
        except KeyError:
            if key_id == self._system.key_id:
                return self._system
            raise UnknownKey(key_id) from None

    async def owner_of_workflow(self, workflow_id: str | None) -> str:
        if workflow_id is None:
            return SYSTEM_KEY_OWNER
        family = family_key_of(workflow_id)
        if family is not None:
            return family
        case_id = case_of_follow_up(workflow_id) or case_of_social_contract(workflow_id)
        return self._cases.get(case_id, SYSTEM_KEY_OWNER) if case_id else SYSTEM_KEY_OWNER

    def to_json(self) -> str:
        document = {
            "note": FIXTURE_NOTE,
            "keys": [
                {
                    "key_id": str(key.key_id),
                    "owner": key.owner,
                    "secret": base64.b64encode(key.secret).decode(),
                }
                for key in sorted(self._by_id.values(), key=lambda k: str(k.key_id))
            ],
            "cases": {str(case_id): family for case_id, family in sorted(self._cases.items())},
            "workflow_ids": dict(sorted(self.workflow_ids.items())),
        }
        return json.dumps(document, indent=2) + "\n"

    @classmethod
    def from_json(cls, document: str) -> "StaticKeySource":
        loaded = json.loads(document)
        keys = [
            DataKey(UUID(key["key_id"]), key["owner"], base64.b64decode(key["secret"]))
            for key in loaded["keys"]
        ]
        cases = {UUID(case_id): family for case_id, family in loaded["cases"].items()}
        return cls(keys, cases, loaded["workflow_ids"])

    @classmethod
    def read(cls, path: Path) -> "StaticKeySource":
        return cls.from_json(path.read_text(encoding="utf-8"))

    @classmethod
    async def exported_from(
        cls, store: FamilyKeyStore, sessions: SessionFactory, workflow_ids: dict[str, str]
    ) -> "StaticKeySource":
        """Every live data key of the database `store` reads, and the family of every case."""
        async with sessions() as session:
            connection = await session.connection()
            key_ids = (
                await connection.execute(
                    text("SELECT key_id FROM family_data_keys WHERE wrapped IS NOT NULL")
                )
            ).scalars()
            keys = [await store.by_id(key_id) for key_id in list(key_ids)]
            cases = (
                await connection.execute(text("SELECT case_id, workflow_id FROM case_projections"))
            ).all()
        families = {row[0]: family_key_of(row[1]) for row in cases}
        known = {case_id: family for case_id, family in families.items() if family is not None}
        return cls(keys, known, workflow_ids)


# Helpers, not tests: test modules import them, and pytest would collect them by their names.
test_key_store.__test__ = False  # type: ignore[attr-defined]
test_data_converter.__test__ = False  # type: ignore[attr-defined]
