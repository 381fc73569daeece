"""Sealed values in PostgreSQL: the family record in a bytea column, and free text (comments,
providers) inside text and JSON columns, each sealed with its family's data key.

A sealed text is self-describing, `sealed:v1:<key id>:<base64url envelope>`, so it can stand
wherever a string stood (a text column, a JSON value) and opens without knowing its row's
family. Every envelope is bound (AES-GCM associated data) to its key id and to the `field` the
caller names: the column or JSON key and the row (`case_events.reason:<case id>:<seq>`), so a
value copied into another field, row or family fails to open instead of reading as that one.

Opening takes the keys already looked up (`keys_for`, one batch per page): a key that was
destroyed (the family erased) is None there, and its values open as `ERASED_TEXT` (text) or
None (bytes), never as an error. A value that does not open with its own key was tampered
with: that raises `SealedValueError`.
"""

import base64
import binascii
import json
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from functools import lru_cache
from typing import Any, Protocol, TypeGuard
from uuid import UUID

from sqlmodel.ext.asyncio.session import AsyncSession

from infra.sealing.aead import SealError, open_sealed, seal
from infra.sealing.family_keys import DataKey
from models.crud.family_data_keys import StoredKey
from models.payloads.fields import FREE_TEXT_KEYS

SEALED_TEXT_PREFIX = "sealed:v1:"
# What a sealed text reads as once its family's key was destroyed (crypto-shredding).
ERASED_TEXT = "[erased]"
# What a sealed text reads as where it was not opened (a read that shows no free text).
WITHHELD_TEXT = "[sealed]"


class SealedValueError(Exception):
    """A sealed value is malformed or does not open with the key it names. The message names
    the field, never the value."""


class KeyLookup(Protocol):
    """Keys for sealing and opening columns: `FamilyKeyStore`."""

    async def for_owner(self, owner: str) -> DataKey: ...

    async def by_ids(
        self,
        key_ids: Collection[UUID],
        *,
        session: AsyncSession | None = None,
        read: Collection[StoredKey] = (),
    ) -> dict[UUID, DataKey | None]: ...


# Keys by id, as `keys_for` returns them: None for a destroyed key.
OpeningKeys = Mapping[UUID, DataKey | None]


def _binding(key_id: UUID | str, field: str) -> bytes:
    """The associated data of a column's envelope. `key_id` may be the id as a sealed text
    spells it: the canonical form `seal_text` writes, without formatting the UUID again."""
    return f"kurator-column:v1:{key_id}:{field}".encode()


def seal_bytes(key: DataKey, data: bytes, *, field: str) -> bytes:
    """An envelope for a bytea column; the caller stores `key.key_id` beside it."""
    return seal(key.cipher, data, associated_data=_binding(key.key_id, field))


def open_bytes(key_id: UUID, envelope: bytes, keys: OpeningKeys, *, field: str) -> bytes | None:
    """The bytes sealed under `key_id`, or None when that key was destroyed."""
    key = _key(key_id, keys, field)
    if key is None:
        return None
    try:
        return open_sealed(key.cipher, envelope, associated_data=_binding(key_id, field))
    except SealError:
        raise SealedValueError(f"the sealed {field} does not open with its key") from None


def seal_text(key: DataKey, text: str, *, field: str) -> str:
    envelope = seal(key.cipher, text.encode(), associated_data=_binding(key.key_id, field))
    encoded = base64.urlsafe_b64encode(envelope).rstrip(b"=").decode()
    return f"{SEALED_TEXT_PREFIX}{key.key_id}:{encoded}"


def is_sealed_text(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and value.startswith(SEALED_TEXT_PREFIX)


def key_id_of_text(value: str, *, field: str) -> UUID:
    """The key a sealed text names, without decoding its envelope (a batch's key lookup
    reads every value's)."""
    key_id, separator, _ = value.removeprefix(SEALED_TEXT_PREFIX).partition(":")
    try:
        if not separator:
            raise ValueError
        return _key_uuid(key_id)
    except ValueError:
        raise SealedValueError(f"the sealed {field} is malformed") from None


def open_text(value: str, keys: OpeningKeys, *, field: str) -> str:
    """The text sealed in `value`, `ERASED_TEXT` when its key was destroyed. A value that is
    not sealed (written before sealing) reads as it is."""
    if not is_sealed_text(value):
        return value
    key_id, envelope = _parts(value, field)
    key = _key(key_id, keys, field)
    if key is None:
        return ERASED_TEXT
    spelled = value[len(SEALED_TEXT_PREFIX) : len(SEALED_TEXT_PREFIX) + 36]
    try:
        return open_sealed(key.cipher, envelope, associated_data=_binding(spelled, field)).decode()
    except SealError:
        raise SealedValueError(f"the sealed {field} does not open with its key") from None


def seal_free_text(key: DataKey, data: Any, *, field: str) -> Any:
    """`data` (JSON) with every value under a free-text key sealed: a string, or each string of
    a list. `field` names the row; each value is bound to it and to its own JSON key."""
    return _map_free_text(data, lambda text, name: seal_text(key, text, field=f"{field}.{name}"))


def open_free_text(data: Any, keys: OpeningKeys, *, field: str) -> Any:
    """`data` with every sealed free-text value opened (see `open_text`)."""
    return _map_free_text(data, lambda text, name: open_text(text, keys, field=f"{field}.{name}"))


def open_free_json(text: str, keys: OpeningKeys, *, field: str) -> Any:
    """`open_free_text(json.loads(text), ...)` in one pass: each JSON object's free-text
    values opened as the parser builds it, not in a walk over the parsed tree (an export
    opens hundreds of thousands). The same values for anything `seal_free_text` wrote; it
    also reaches objects inside a free-text value, which the sealer never writes to."""

    def change(value: str, name: str) -> str:
        return open_text(value, keys, field=f"{field}.{name}")

    def opened(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        return {
            name: _map_text(value, name, change) if name in FREE_TEXT_KEYS else value
            for name, value in pairs
        }

    return json.loads(text, object_pairs_hook=opened)


# A sealed text standing as the string value of a free-text key, or a list of them, in JSON
# as PostgreSQL writes jsonb (`"key": "value"`, `"key": ["a", "b"]`). Inside a JSON string
# every quote is escaped, so this matches nothing there; a sealed text has no character JSON
# would escape.
_SEALED = re.escape(SEALED_TEXT_PREFIX) + r'[^"\\]*'
_SEALED_FREE_VALUE = re.compile(
    r'"('
    + "|".join(sorted(map(re.escape, FREE_TEXT_KEYS)))
    + rf')": (?:"({_SEALED})"|\[((?:"{_SEALED}", )*"{_SEALED}")\])'
)
_SEALED_ITEM = re.compile(rf'"({_SEALED})"')


def open_free_json_text(text: str, keys: OpeningKeys, *, field: str) -> str | None:
    """JSON text (as PostgreSQL writes jsonb) with each sealed text that is a free-text
    key's value (or in its list of strings) replaced by its opened text, without parsing the
    rest: the text of `open_free_text` over the parsed value, in the same spelling. None when
    some sealed text stands elsewhere: the caller parses then. Raises SealedValueError."""

    def opened(match: re.Match[str]) -> str:
        name, value, items = match.groups()
        bound = f"{field}.{name}"
        if value is not None:
            return f'"{name}": {_json_string(open_text(value, keys, field=bound))}'
        clear = [
            _json_string(open_text(item, keys, field=bound)) for item in _SEALED_ITEM.findall(items)
        ]
        return f'"{name}": [{", ".join(clear)}]'

    result = _SEALED_FREE_VALUE.sub(opened, text)
    return None if SEALED_TEXT_PREFIX in result else result


# A string as JSON, as `json.dumps(text, ensure_ascii=False)` writes it, without building an
# encoder for each value (json.dumps does, given any option): an export writes hundreds of
# thousands.
_json_string = json.encoder.encode_basestring


# The key id of a sealed text, where it stands in JSON or in a column.
_SEALED_KEY_ID = re.compile(
    re.escape(SEALED_TEXT_PREFIX)
    + r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}):"
)


def key_ids_in_text(text: str) -> set[UUID]:
    """The key id of every sealed text in `text` (a column, or JSON as text), without
    parsing it: for a batch's key lookup. It may name more than the sealed values do (text
    that merely looks sealed); a lookup leaves out ids that name no key."""
    return {_key_uuid(key_id) for key_id in _SEALED_KEY_ID.findall(text)}


def withhold_free_text(data: Any) -> Any:
    """`data` with every sealed free-text value replaced by `WITHHELD_TEXT`, no key needed:
    for reads that show none of it (the inbox)."""
    return _map_free_text(data, lambda text, _: WITHHELD_TEXT if is_sealed_text(text) else text)


def has_free_text(data: Any) -> bool:
    """True when `data` holds a free-text string (sealed or not) anywhere."""
    found = False

    def notice(text: str, _: str) -> str:
        nonlocal found
        found = True
        return text

    _map_free_text(data, notice)
    return found


def sealed_key_ids(data: Any) -> set[UUID]:
    """The key id of every sealed free-text value in `data`, for one batched key lookup."""
    found: set[UUID] = set()

    def collect(text: str, name: str) -> str:
        if is_sealed_text(text):
            found.add(key_id_of_text(text, field=name))
        return text

    _map_free_text(data, collect)
    return found


async def keys_for(
    lookup: KeyLookup,
    key_ids: Iterable[UUID],
    *,
    session: AsyncSession | None = None,
    read: Collection[StoredKey] = (),
) -> dict[UUID, DataKey | None]:
    """The keys that open values naming `key_ids`, in one lookup (None: destroyed), in
    `session`'s transaction if given; none for those whose rows are in `read` already."""
    wanted = set(key_ids)
    return await lookup.by_ids(wanted, session=session, read=read) if wanted else {}


# Changes one free-text string, given it and its JSON key.
_Change = Callable[[str, str], str]


def _map_free_text(data: Any, change: _Change) -> Any:
    if isinstance(data, dict):
        return {name: _map_entry(name, value, change) for name, value in data.items()}
    if isinstance(data, list):
        return [_map_free_text(value, change) for value in data]
    return data


def _map_entry(name: str, value: Any, change: _Change) -> Any:
    if name in FREE_TEXT_KEYS:
        return _map_text(value, name, change)
    return _map_free_text(value, change)


def _map_text(value: Any, name: str, change: _Change) -> Any:
    if isinstance(value, str):
        return change(value, name)
    if isinstance(value, list):
        return [_map_text(item, name, change) for item in value]
    return value  # None, or not text at all: nothing to seal


def _parts(value: str, field: str) -> tuple[UUID, bytes]:
    key_id, separator, encoded = value.removeprefix(SEALED_TEXT_PREFIX).partition(":")
    try:
        if not separator:
            raise ValueError
        # `base64.urlsafe_b64decode`, its steps inline (an export decodes hundreds of
        # thousands); text that is not ASCII raises UnicodeEncodeError, a ValueError.
        padded = (encoded + "=" * (-len(encoded) % 4)).encode("ascii")
        return _key_uuid(key_id), binascii.a2b_base64(padded.translate(_FROM_URLSAFE))
    except (ValueError, binascii.Error):
        raise SealedValueError(f"the sealed {field} is malformed") from None


_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")


@lru_cache(maxsize=4096)
def _key_uuid(text: str) -> UUID:
    # A page of a history names a few keys thousands of times: parse each once.
    return UUID(text)


def _key(key_id: UUID, keys: OpeningKeys, field: str) -> DataKey | None:
    if key_id not in keys:
        raise SealedValueError(f"no key was looked up for the sealed {field}")
    return keys[key_id]
