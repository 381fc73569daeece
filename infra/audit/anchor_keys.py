"""The key that signs the audit anchors (Ed25519). PostgreSQL never holds it: whoever can
rewrite the database cannot forge an anchor. Verifying needs only the public key.

Files are PEM: the private key as PKCS#8 (unencrypted, so keep the file at mode 0600 and out
of the database's backups), the public key as SubjectPublicKeyInfo.
"""

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class AnchorKeyError(Exception):
    """A signing or public key cannot be read; the message names the file and the problem."""


@dataclass(frozen=True)
class VerifyingKey:
    """A public key and its id, which every anchor it signed names."""

    key: Ed25519PublicKey
    key_id: str

    def verifies(self, signature: bytes, message: bytes) -> bool:
        try:
            self.key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class SigningKey:
    key: Ed25519PrivateKey
    public: VerifyingKey

    def sign(self, message: bytes) -> bytes:
        return self.key.sign(message)


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def verifying_key(public: Ed25519PublicKey) -> VerifyingKey:
    """The key with its id: the first 16 hex digits of the sha256 of its raw 32 bytes."""
    return VerifyingKey(public, "ed25519:" + hashlib.sha256(_raw(public)).hexdigest()[:16])


def signing_key(private: Ed25519PrivateKey) -> SigningKey:
    return SigningKey(private, verifying_key(private.public_key()))


def public_key_pem(public: VerifyingKey) -> str:
    return public.key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def write_new_signing_key(path: Path) -> SigningKey:
    """A new random key written to `path` (mode 0600; an existing file is never replaced: it
    may be the key earlier anchors were signed with)."""
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise AnchorKeyError(f"{path} exists already; it is not replaced") from None
    except OSError as error:
        raise AnchorKeyError(f"cannot create {path}: {error.strerror}") from None
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
    return signing_key(private)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise AnchorKeyError(f"cannot read the key file {path}: {error.strerror}") from None


def read_signing_key(path: Path) -> SigningKey:
    """The Ed25519 private key in `path` (PEM)."""
    try:
        private = serialization.load_pem_private_key(_read(path), password=None)
    except (ValueError, TypeError) as error:
        raise AnchorKeyError(f"{path} is not an unencrypted PEM private key: {error}") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise AnchorKeyError(f"{path} holds a {type(private).__name__}, not an Ed25519 key")
    return signing_key(private)


def read_verifying_key(path: Path) -> VerifyingKey:
    """The public key in `path`: a PEM public key, or derived from a PEM private key."""
    data = _read(path)
    if b"PRIVATE KEY" in data:
        return read_signing_key(path).public
    try:
        public = serialization.load_pem_public_key(data)
    except ValueError as error:
        raise AnchorKeyError(f"{path} is not a PEM public key: {error}") from None
    if not isinstance(public, Ed25519PublicKey):
        raise AnchorKeyError(f"{path} holds a {type(public).__name__}, not an Ed25519 key")
    return verifying_key(public)
