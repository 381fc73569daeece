"""The anchor signing key's files: written once at mode 0600, read back, and its public half
enough to verify."""

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key

from infra.audit.anchor_keys import (
    AnchorKeyError,
    public_key_pem,
    read_signing_key,
    read_verifying_key,
    write_new_signing_key,
)


def test_a_new_key_is_private_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "signing.pem"
    written = write_new_signing_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    read = read_signing_key(path)
    assert read.public.key_id == written.public.key_id
    assert read.public.key_id.startswith("ed25519:")
    assert read.public.verifies(written.sign(b"anchor"), b"anchor")
    assert not read.public.verifies(written.sign(b"anchor"), b"other")


def test_the_public_key_alone_verifies_and_the_private_file_gives_it_too(tmp_path: Path) -> None:
    key = write_new_signing_key(tmp_path / "signing.pem")
    public_file = tmp_path / "public.pem"
    public_file.write_text(public_key_pem(key.public))
    for source in (public_file, tmp_path / "signing.pem"):
        public = read_verifying_key(source)
        assert public.key_id == key.public.key_id
        assert public.verifies(key.sign(b"x"), b"x")


def test_an_existing_key_file_is_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / "signing.pem"
    first = write_new_signing_key(path)
    with pytest.raises(AnchorKeyError, match="exists already"):
        write_new_signing_key(path)
    assert read_signing_key(path).public.key_id == first.public.key_id


def test_other_files_are_refused_naming_the_problem(tmp_path: Path) -> None:
    ec = tmp_path / "ec.pem"
    ec.write_bytes(
        generate_private_key(SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(AnchorKeyError, match="not an Ed25519 key"):
        read_signing_key(ec)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    with pytest.raises(AnchorKeyError, match="not a PEM public key"):
        read_verifying_key(garbage)
    with pytest.raises(AnchorKeyError, match="cannot read the key file"):
        read_signing_key(tmp_path / "missing.pem")
