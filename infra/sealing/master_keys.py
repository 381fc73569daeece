"""Master keys: they wrap (encrypt) the per-family data keys stored in PostgreSQL, and the
database never holds them.

`MasterKey` is the one interface a key service implements. `LocalMasterKey` keeps the key in
the process, read from a key file (`KURATOR_MASTER_KEY_FILE`): what `kurator dev` and the
compose file use. In production a KMS or Vault's transit engine implements the same three
members (README, "Keys"), so the data keys are unwrapped by the service and the master key
never leaves it.

A `MasterKeyring` is the current key, which wraps every new data key, and the retired ones,
which only unwrap until `kurator keys rewrap` has re-wrapped everything under the current one.
"""

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from infra.sealing.aead import KEY_BYTES, SealError, new_key, open_sealed, seal
from models.settings import Settings

KEY_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class MasterKey(Protocol):
    """A key that wraps data keys. Async because a real one is a network call to a KMS."""

    @property
    def key_id(self) -> str: ...

    async def wrap(self, data_key: bytes, *, associated_data: bytes) -> bytes: ...

    async def unwrap(self, wrapped: bytes, *, associated_data: bytes) -> bytes: ...


@dataclass(frozen=True)
class LocalMasterKey:
    """A master key held in this process (AES-256-GCM key wrapping)."""

    key_id: str
    secret: bytes

    def __post_init__(self) -> None:
        if not KEY_ID_PATTERN.match(self.key_id):
            raise MasterKeyError(f"master key id {self.key_id!r} must be 1-64 of [A-Za-z0-9._-]")
        if len(self.secret) != KEY_BYTES:
            raise MasterKeyError(f"master key {self.key_id} must be {KEY_BYTES} bytes")

    def __repr__(self) -> str:  # never print the secret
        return f"LocalMasterKey(key_id={self.key_id!r})"

    async def wrap(self, data_key: bytes, *, associated_data: bytes) -> bytes:
        return seal(self.secret, data_key, associated_data=associated_data)

    async def unwrap(self, wrapped: bytes, *, associated_data: bytes) -> bytes:
        return open_sealed(self.secret, wrapped, associated_data=associated_data)


class MasterKeyError(Exception):
    """A master key is missing, malformed, or does not open what it should."""


@dataclass(frozen=True)
class MasterKeyring:
    current: MasterKey
    retired: Sequence[MasterKey] = ()

    def __post_init__(self) -> None:
        ids = [self.current.key_id, *(key.key_id for key in self.retired)]
        if len(set(ids)) != len(ids):
            raise MasterKeyError("master key ids must be unique")

    def by_id(self, key_id: str) -> MasterKey:
        for key in (self.current, *self.retired):
            if key.key_id == key_id:
                return key
        raise MasterKeyError(
            f"no master key {key_id!r} is configured: a data key was wrapped by it; add it to "
            "the key file as a retired key until `kurator keys rewrap` has run"
        )

    async def unwrap(self, master_key_id: str, wrapped: bytes, *, associated_data: bytes) -> bytes:
        try:
            return await self.by_id(master_key_id).unwrap(wrapped, associated_data=associated_data)
        except SealError as error:
            raise MasterKeyError(f"master key {master_key_id!r} does not unwrap: {error}") from None


def parse_key_file(text: str, *, source: str) -> MasterKeyring:
    """Keys, one per line: `<key id> <base64 of 32 bytes>`; the first is current, the others
    are retired. Blank lines and `#` comments are ignored."""
    keys: list[LocalMasterKey] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2:
            raise MasterKeyError(f"{source}:{number}: expected `<key id> <base64 key>`")
        key_id, encoded = parts
        try:
            secret = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise MasterKeyError(f"{source}:{number}: the key is not base64") from None
        try:
            keys.append(LocalMasterKey(key_id, secret))
        except MasterKeyError as error:
            raise MasterKeyError(f"{source}:{number}: {error}") from None
    if not keys:
        raise MasterKeyError(f"{source}: no master key in the file")
    return MasterKeyring(current=keys[0], retired=keys[1:])


def read_key_file(path: Path) -> MasterKeyring:
    try:
        text = path.read_text()
    except OSError as error:
        raise MasterKeyError(f"cannot read the master key file {path}: {error.strerror}") from None
    return parse_key_file(text, source=str(path))


def key_file_line(key_id: str, secret: bytes | None = None) -> str:
    """A key file line for a new (or given) key."""
    key = LocalMasterKey(key_id, secret if secret is not None else new_key())
    return f"{key.key_id} {base64.b64encode(key.secret).decode()}"


def master_keys_of(settings: Settings) -> MasterKeyring:
    """The keyring the settings name. Raises SettingsError or MasterKeyError naming the
    problem."""
    return read_key_file(settings.require_master_key_file())
