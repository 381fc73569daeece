"""A fixed set of data keys read from a JSON document: the key source of the committed test
histories, replayed (by the tests and by the bench's replay timing) without the database they
were recorded in. Synthetic keys only: a document in this form holds secrets in clear."""

import base64
import json
import uuid
from collections.abc import Iterable
from pathlib import Path
from uuid import UUID

from infra.sealing.aead import new_key
from infra.sealing.family_keys import DataKey, UnknownKey, owner_named_by
from models.tables.family_data_key import SYSTEM_KEY_OWNER

# The data keys are stored in clear (base64): they are random keys of synthetic test families,
# sealing nothing but the committed test histories, and a fixture must open without any other
# secret. Never a real family's key.
FIXTURE_NOTE = (
    "Synthetic data keys of the committed test histories (tests/workflows/histories/sealed), "
    "in clear: they seal nothing but these fixtures. Written by tests.workflows.record_histories."
)


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
        owner = owner_named_by(workflow_id)
        return self._cases.get(owner, SYSTEM_KEY_OWNER) if isinstance(owner, UUID) else owner

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
