"""Master key files and the keyring: errors name the file and the line."""

import base64
from pathlib import Path

import pytest

from infra.sealing.master_keys import (
    LocalMasterKey,
    MasterKeyError,
    MasterKeyring,
    key_file_line,
    parse_key_file,
    read_key_file,
)

KEY_A = base64.b64encode(b"a" * 32).decode()
KEY_B = base64.b64encode(b"b" * 32).decode()


def test_the_first_key_is_current_and_the_others_retired() -> None:
    ring = parse_key_file(f"# comment\n\nnew {KEY_B}  # rotated in\nold {KEY_A}\n", source="f")
    assert ring.current.key_id == "new"
    assert [key.key_id for key in ring.retired] == ["old"]
    assert ring.by_id("old") == LocalMasterKey("old", b"a" * 32)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"one {KEY_A}\n\nonly-an-id\n", r"^keys:3: expected `<key id> <base64 key>`$"),
        (f"one {KEY_A} extra\n", r"^keys:1: expected"),
        ("one not*base64\n", r"^keys:1: the key is not base64$"),
        (f"# c\none {base64.b64encode(b'short').decode()}\n", r"^keys:2: .*must be 32 bytes"),
        (f"bad/id {KEY_A}\n", r"^keys:1: master key id 'bad/id' must be"),
        ("# nothing but comments\n\n", r"^keys: no master key in the file$"),
    ],
)
def test_a_malformed_key_file_is_named_with_its_line(text: str, message: str) -> None:
    with pytest.raises(MasterKeyError, match=message):
        parse_key_file(text, source="keys")


def test_the_secret_never_appears_in_an_error() -> None:
    with pytest.raises(MasterKeyError) as raised:
        parse_key_file(f"bad/id {KEY_A}\n", source="keys")
    assert KEY_A not in str(raised.value)


def test_duplicate_key_ids_are_refused() -> None:
    with pytest.raises(MasterKeyError, match="unique"):
        parse_key_file(f"same {KEY_A}\nsame {KEY_B}\n", source="keys")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyError, match=r"cannot read the master key file .*absent"):
        read_key_file(tmp_path / "absent")


def test_a_generated_line_parses_back() -> None:
    line = key_file_line("k-2")
    ring = parse_key_file(line + "\n", source="generated")
    assert ring.current.key_id == "k-2"
    assert line.split()[1] not in repr(ring.current)  # the secret is never printed


async def test_a_wrapped_key_unwraps_only_under_its_master_and_context() -> None:
    ring = MasterKeyring(LocalMasterKey("new", b"b" * 32), [LocalMasterKey("old", b"a" * 32)])
    wrapped = await ring.by_id("old").wrap(b"d" * 32, associated_data=b"ctx")
    assert await ring.unwrap("old", wrapped, associated_data=b"ctx") == b"d" * 32
    with pytest.raises(MasterKeyError, match="'new' does not unwrap"):
        await ring.unwrap("new", wrapped, associated_data=b"ctx")
    with pytest.raises(MasterKeyError, match="'old' does not unwrap"):
        await ring.unwrap("old", wrapped, associated_data=b"other")
    with pytest.raises(MasterKeyError, match="no master key 'gone'"):
        await ring.unwrap("gone", wrapped, associated_data=b"ctx")
