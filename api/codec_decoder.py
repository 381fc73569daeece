"""What the codec server opens, for whom, and the access-log rows it writes.

Who may read a family's decoded payloads: supervisors and heads of the family's municipality,
and the ministry for every municipality (issue 10; PRODUCT.md §1 makes the Web UI the
supervisors' tool). Not specialists: a decoded history is the case's whole audit trail (every
actor, decision and comment), and PRODUCT.md §3 denies specialists the audit history; they
read their cases through the API. Everyone else gets the payload back still sealed, which the
UI shows as encoded: not an error, since seeing that a step happened is what the UI is for.

Payloads under the system key (SYSTEM_KEY_OWNER) belong to no family: the same roles open them
in any territory, with no access row (there is no family to log). They are still not for
anyone without a token: the codec's own encode seals under that key whatever a UI user typed
into a signal or an update, which may be anything.

A payload opens only if its family's access can be logged: a key whose family has no record
(no municipality to check, no row to point at) stays sealed for everyone, and so does a
destroyed key (the family was erased) or an envelope that does not open with its key.
"""

from collections.abc import Sequence
from uuid import UUID

from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload

from api.deps import sees
from infra.sealing.aead import SealError
from infra.sealing.codec import KEY_ID_METADATA, is_sealed, key_id_of, open_payload
from infra.sealing.family_keys import DataKey, FamilyKeyStore, KeyDestroyed, UnknownKey
from models.access import AccessedData, AccessPurpose, Purpose
from models.crud.access_log import Access, log_access
from models.crud.families import locate_family
from models.db import SessionFactory
from models.family_records import FamilyRef
from models.payloads.actions import Actor
from models.payloads.vocabulary import StaffRole
from models.tables.family_data_key import SYSTEM_KEY_OWNER

# The purpose of every decode in the access log (PRODUCT.md §5): the UI and the CLI alike
# display a workflow's history to a person, a supervisor's or the ministry's review of it.
CODEC_PURPOSE = Purpose(AccessPurpose.SUPERVISION, note="Web UI")
DECODING_ROLES = frozenset({StaffRole.SUPERVISOR, StaffRole.HEAD, StaffRole.MINISTRY})


class MalformedEnvelope(ValueError):
    """A payload says it is sealed but names no valid key; the message says which."""


def _key_ids(payloads: Sequence[Payload]) -> list[UUID | None]:
    """Each payload's data key id, None for one that is not sealed."""
    found: list[UUID | None] = []
    for index, payload in enumerate(payloads):
        if not is_sealed(payload):
            found.append(None)
            continue
        # Checked first: reading a missing map key would insert it.
        if KEY_ID_METADATA not in payload.metadata:
            raise MalformedEnvelope(f"payloads[{index}]: a sealed payload needs {KEY_ID_METADATA}")
        try:
            found.append(key_id_of(payload))
        except ValueError:
            raise MalformedEnvelope(f"payloads[{index}]: {KEY_ID_METADATA} is not a UUID") from None
    return found


async def decode_for(
    reader: Actor | None,
    payloads: Sequence[Payload],
    *,
    keys: FamilyKeyStore,
    sessions: SessionFactory,
) -> list[Payload]:
    """The payloads with what `reader` may read opened, the rest as they came; one access row
    per family opened, committed before the answer. Raises MalformedEnvelope."""
    key_ids = _key_ids(payloads)  # validated for every caller: the same answer to bad input
    if reader is None or reader.role not in DECODING_ROLES:
        return list(payloads)
    data_keys = await _live_keys({key_id for key_id in key_ids if key_id is not None}, keys)
    families = await _families({key.owner for key in data_keys.values()}, sessions)
    opened: list[Payload] = []
    read_families: set[UUID] = set()
    for payload, key_id in zip(payloads, key_ids, strict=True):
        key = None if key_id is None else data_keys.get(key_id)
        family = None if key is None else families.get(key.owner)
        if key is None or not _may_open(reader, key, family):
            opened.append(payload)
            continue
        try:
            opened.append(open_payload(key, payload))
        except (SealError, DecodeError):
            opened.append(payload)  # tampered or corrupt: nothing was read
            continue
        if family is not None:
            read_families.add(family.id)
    if read_families:
        access = Access.by(reader, AccessedData.CODEC_DECODE, CODEC_PURPOSE)
        async with sessions() as session, session.begin():
            await log_access(session, access, family_ids=sorted(read_families))
    return opened


def _may_open(reader: Actor, key: DataKey, family: FamilyRef | None) -> bool:
    if key.owner == SYSTEM_KEY_OWNER:
        return True  # no family's data: any decoding role (the module says why)
    return family is not None and sees(reader, family.municipality)


async def _live_keys(key_ids: set[UUID], keys: FamilyKeyStore) -> dict[UUID, DataKey]:
    """The keys that still exist; an erased family's payloads stay sealed."""
    found = {}
    for key_id in key_ids:
        try:
            found[key_id] = await keys.by_id(key_id)
        except (KeyDestroyed, UnknownKey):
            continue
    return found


async def _families(owners: set[str], sessions: SessionFactory) -> dict[str, FamilyRef]:
    """Where each owning family lives (no personal data read, so no access logged)."""
    family_keys = sorted(owners - {SYSTEM_KEY_OWNER})
    if not family_keys:
        return {}
    found = {}
    async with sessions() as session:
        for family_key in family_keys:
            ref = await locate_family(session, family_key=family_key)
            if ref is not None:
                found[family_key] = ref
    return found
