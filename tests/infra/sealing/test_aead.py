"""The AES-256-GCM envelopes: what goes in comes out, and nothing else opens."""

import pytest

from infra.sealing.aead import NONCE_BYTES, SealError, new_key, open_sealed, seal

PLAINTEXT = "Комментарий специалиста: синтетический текст ".encode() * 20


def test_an_envelope_opens_with_its_key_and_associated_data() -> None:
    key = new_key()
    envelope = seal(key, PLAINTEXT, associated_data=b"key-1")
    assert open_sealed(key, envelope, associated_data=b"key-1") == PLAINTEXT


def test_the_plaintext_is_compressed_and_not_in_clear() -> None:
    envelope = seal(new_key(), PLAINTEXT, associated_data=b"key-1")
    assert len(envelope) < len(PLAINTEXT) / 4  # repetitive text compresses before encryption
    assert "синтетический".encode() not in envelope


def test_each_envelope_has_a_fresh_nonce() -> None:
    key = new_key()
    first, second = (seal(key, PLAINTEXT, associated_data=b"a") for _ in range(2))
    assert first[:NONCE_BYTES] != second[:NONCE_BYTES]
    assert first != second


def test_a_changed_byte_fails_to_open() -> None:
    key = new_key()
    envelope = bytearray(seal(key, PLAINTEXT, associated_data=b"a"))
    envelope[NONCE_BYTES + 3] ^= 0x01
    with pytest.raises(SealError, match="does not open"):
        open_sealed(key, bytes(envelope), associated_data=b"a")


def test_other_associated_data_fails_to_open() -> None:
    key = new_key()
    envelope = seal(key, PLAINTEXT, associated_data=b"key-1")
    with pytest.raises(SealError, match="does not open"):
        open_sealed(key, envelope, associated_data=b"key-2")


def test_another_key_fails_to_open() -> None:
    envelope = seal(new_key(), PLAINTEXT, associated_data=b"a")
    with pytest.raises(SealError, match="does not open"):
        open_sealed(new_key(), envelope, associated_data=b"a")


def test_a_short_envelope_is_not_one() -> None:
    with pytest.raises(SealError, match="too short"):
        open_sealed(new_key(), b"\x00" * (NONCE_BYTES + 15), associated_data=b"a")
