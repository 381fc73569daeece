"""The payload codec that seals every payload Kurator writes to Temporal with its family's key.

Which family: the SDK hands the codec a serialization context naming the workflow a payload
belongs to (`with_context`); the key store maps a case or follow-up workflow id to its family
pseudonym, anything else to the system key. Which key opens it: the envelope's metadata names
its data key id, so a payload opens without any context, as the remote codec server (the Web
UI's) needs. A payload that is not an envelope (histories recorded before sealing) passes
through `decode` unchanged, so old histories still replay.

Two envelopes, told apart by their encoding: today's compresses the payload against the
preset payload dictionary 1 (infra/sealing/payload_dictionary.py: a case's payloads at under
a third of their size), the earlier one with zlib alone; both open, only today's is written.
An older process meeting today's envelope cannot open it (it fails the workflow task, which
is retried): deploy workers, API and codec server together.
"""

from collections.abc import Sequence
from typing import Protocol, Self
from uuid import UUID

from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec, SerializationContext, WithSerializationContext

from infra.sealing.aead import open_sealed, seal
from infra.sealing.family_keys import DataKey
from infra.sealing.payload_dictionary import payload_dictionary

SEALED_ENCODING = b"binary/kurator-sealed-d1"  # compressed against payload dictionary 1
UNPRIMED_SEALED_ENCODING = b"binary/kurator-sealed"  # zlib alone: written until December 2026
SEALED_ENCODINGS = frozenset({SEALED_ENCODING, UNPRIMED_SEALED_ENCODING})
KEY_ID_METADATA = "kurator-key-id"


class KeySource(Protocol):
    """Where the codec gets keys: `FamilyKeyStore` in the processes, a fixed set in tests."""

    async def for_owner(self, owner: str) -> DataKey: ...

    async def by_id(self, key_id: UUID) -> DataKey: ...

    async def owner_of_workflow(self, workflow_id: str | None) -> str: ...


def is_sealed(payload: Payload) -> bool:
    return payload.metadata.get("encoding") in SEALED_ENCODINGS


def key_id_of(payload: Payload) -> UUID:
    """The data key a sealed payload names. Raises ValueError for a malformed one."""
    return UUID(payload.metadata[KEY_ID_METADATA].decode())


def seal_payload(key: DataKey, payload: Payload) -> Payload:
    key_id = str(key.key_id).encode()
    return Payload(
        metadata={"encoding": SEALED_ENCODING, KEY_ID_METADATA: key_id},
        data=seal(
            key.cipher,
            payload.SerializeToString(),
            associated_data=key_id,
            dictionary=payload_dictionary(),
        ),
    )


def open_payload(key: DataKey, payload: Payload) -> Payload:
    """The payload inside an envelope of either kind. Raises SealError if it does not open
    with `key`."""
    primed = payload.metadata.get("encoding") == SEALED_ENCODING
    opened = open_sealed(
        key.cipher,
        payload.data,
        associated_data=str(key.key_id).encode(),
        dictionary=payload_dictionary() if primed else None,
    )
    return Payload.FromString(opened)


class FamilyPayloadCodec(PayloadCodec, WithSerializationContext):
    def __init__(self, keys: KeySource, workflow_id: str | None = None) -> None:
        self._keys = keys
        self._workflow_id = workflow_id

    def with_context(self, context: SerializationContext) -> Self:
        # Workflow and activity contexts both carry the workflow id (None for an activity run
        # outside a workflow, whose payloads go under the system key).
        workflow_id: str | None = getattr(context, "workflow_id", None)
        return type(self)(self._keys, workflow_id)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        if not payloads:
            return []
        owner = await self._keys.owner_of_workflow(self._workflow_id)
        key = await self._keys.for_owner(owner)
        return [seal_payload(key, payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        decoded = []
        for payload in payloads:
            if not is_sealed(payload):
                decoded.append(payload)
                continue
            key = await self._keys.by_id(key_id_of(payload))
            decoded.append(open_payload(key, payload))
        return decoded
