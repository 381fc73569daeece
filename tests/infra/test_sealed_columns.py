"""Sealed column values: they round-trip, name their key, and refuse to open when changed,
moved to another field or row, or put under another family's key; a destroyed key reads as
erased. Pure: keys made here, no database."""

import json
import uuid
from typing import Any

import pytest

from infra.sealing.aead import new_key
from infra.sealing.columns import (
    ERASED_TEXT,
    SEALED_TEXT_PREFIX,
    WITHHELD_TEXT,
    SealedValueError,
    has_free_text,
    key_id_of_text,
    key_ids_in_text,
    open_bytes,
    open_free_json,
    open_free_json_text,
    open_free_text,
    open_text,
    seal_bytes,
    seal_free_text,
    seal_text,
    sealed_key_ids,
    withhold_free_text,
)
from infra.sealing.family_keys import DataKey

FIELD = "case_events.reason:00000000-0000-0000-0000-000000000001:3"
COMMENT = "Синтетический комментарий о семье Вымышленных"


def _key(owner: str = "a" * 32) -> DataKey:
    return DataKey(uuid.uuid4(), owner, new_key())


def test_a_text_round_trips_and_names_its_key_but_not_its_content() -> None:
    key = _key()
    sealed = seal_text(key, COMMENT, field=FIELD)
    assert sealed.startswith(f"{SEALED_TEXT_PREFIX}{key.key_id}:")
    assert key_id_of_text(sealed, field=FIELD) == key.key_id
    assert "Вымышленных" not in sealed
    assert sealed != seal_text(key, COMMENT, field=FIELD)  # a fresh nonce every time
    assert open_text(sealed, {key.key_id: key}, field=FIELD) == COMMENT


def test_bytes_round_trip() -> None:
    key = _key()
    envelope = seal_bytes(key, COMMENT.encode(), field="families.record:x")
    assert COMMENT.encode() not in envelope
    opened = open_bytes(key.key_id, envelope, {key.key_id: key}, field="families.record:x")
    assert opened == COMMENT.encode()


def _flip_a_character(sealed: str) -> str:
    # Not the last one: base64's last character may carry padding bits, which decode to the
    # same bytes whatever they are. Every character before it carries six bits of data.
    position = len(sealed) - 5
    changed = "A" if sealed[position] != "A" else "B"
    return sealed[:position] + changed + sealed[position + 1 :]


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda s, other: (_flip_a_character(s), FIELD), id="a changed byte"),
        pytest.param(lambda s, other: (s, FIELD.replace(":3", ":4")), id="another row"),
        pytest.param(
            lambda s, other: (s, FIELD.replace("reason", "data.comment")), id="another field"
        ),
        pytest.param(
            lambda s, other: (s.replace(s.split(":")[2], str(other.key_id)), FIELD),
            id="under another family's key",
        ),
        pytest.param(lambda s, other: (s[: len(SEALED_TEXT_PREFIX) + 8], FIELD), id="truncated"),
    ],
)
def test_a_tampered_or_moved_text_does_not_open(tamper: Any) -> None:
    key, other = _key(), _key("b" * 32)
    value, field = tamper(seal_text(key, COMMENT, field=FIELD), other)
    with pytest.raises(SealedValueError) as raised:
        open_text(value, {key.key_id: key, other.key_id: other}, field=field)
    assert "Вымышленных" not in str(raised.value)  # an error names the field, not the value


def test_bytes_moved_to_another_familys_row_do_not_open() -> None:
    key = _key()
    envelope = seal_bytes(key, COMMENT.encode(), field="families.record:aaaa")
    with pytest.raises(SealedValueError, match="families"):
        open_bytes(key.key_id, envelope, {key.key_id: key}, field="families.record:bbbb")


def test_a_destroyed_key_reads_as_erased() -> None:
    key = _key()
    sealed = seal_text(key, COMMENT, field=FIELD)
    envelope = seal_bytes(key, b"record", field="f")
    assert open_text(sealed, {key.key_id: None}, field=FIELD) == ERASED_TEXT
    assert open_bytes(key.key_id, envelope, {key.key_id: None}, field="f") is None


def test_a_key_that_was_not_looked_up_is_an_error_not_a_clear_value() -> None:
    sealed = seal_text(_key(), COMMENT, field=FIELD)
    with pytest.raises(SealedValueError, match="no key was looked up"):
        open_text(sealed, {}, field=FIELD)


def test_a_value_written_before_sealing_reads_as_it_is() -> None:
    assert open_text("a plain comment", {}, field=FIELD) == "a plain comment"


def _plan_event_data() -> dict[str, Any]:
    return {
        "routes": ["other_providers"],
        "providers": ["Фонд Вымышленный", "Центр Синтетический"],
        "items": [
            {"item_id": "item-1", "provider": "Клиника Тестовая", "service_type": "psychological"},
            {"item_id": "item-2", "provider": "Юрист Выдуманный", "channel": "legal"},
        ],
        "comment": None,
        "term_ends_at": "2027-01-01T00:00:00+00:00",
    }


def test_free_text_in_json_is_sealed_and_everything_else_stays_clear() -> None:
    key, data = _key(), _plan_event_data()
    sealed = seal_free_text(key, data, field="case_events.data:c:5")
    assert sealed["routes"] == ["other_providers"]
    assert sealed["term_ends_at"] == data["term_ends_at"]
    assert sealed["comment"] is None
    assert [item["item_id"] for item in sealed["items"]] == ["item-1", "item-2"]
    assert sealed["items"][0]["service_type"] == "psychological"
    for clear in ("Фонд Вымышленный", "Клиника Тестовая", "Юрист Выдуманный"):
        assert clear not in str(sealed)
    assert sealed_key_ids(sealed) == {key.key_id}
    assert has_free_text(data)
    assert not has_free_text({"routes": ["own_services"], "providers": [], "comment": None})

    assert open_free_text(sealed, {key.key_id: key}, field="case_events.data:c:5") == data
    with pytest.raises(SealedValueError):
        open_free_text(sealed, {key.key_id: key}, field="case_events.data:c:6")
    withheld = withhold_free_text(sealed)
    assert withheld["providers"] == [WITHHELD_TEXT, WITHHELD_TEXT]
    assert withheld["items"][1]["provider"] == WITHHELD_TEXT
    assert withheld["routes"] == ["other_providers"]


def test_one_providers_value_cannot_stand_in_for_a_plan_items_provider() -> None:
    key = _key()
    sealed = seal_free_text(key, _plan_event_data(), field="case_events.data:c:5")
    sealed["items"][0]["provider"] = sealed["providers"][0]  # same row, another JSON key
    with pytest.raises(SealedValueError, match="provider"):
        open_free_text(sealed, {key.key_id: key}, field="case_events.data:c:5")


def test_json_text_opens_in_its_parse_as_the_parsed_value_opens() -> None:
    """What the export uses (models/crud/audit_events.opened_json): the same values as
    `open_free_text` over the parsed JSON, the key ids read off the text, and a value moved
    to another JSON key refused alike."""
    key, other = _key(), _key("b" * 32)
    field = "case_events.data:c:5"
    sealed = seal_free_text(key, _plan_event_data(), field=field)
    sealed["note"] = seal_free_text(other, {"comment": COMMENT}, field=field)
    text = json.dumps(sealed, ensure_ascii=False)
    keys = {key.key_id: key, other.key_id: other}
    assert open_free_json(text, keys, field=field) == open_free_text(sealed, keys, field=field)
    assert open_free_json(text, keys, field=field)["items"][1]["provider"] == "Юрист Выдуманный"
    assert key_ids_in_text(text) == {key.key_id, other.key_id} == sealed_key_ids(sealed)
    assert key_ids_in_text(json.dumps(_plan_event_data())) == set()
    with pytest.raises(SealedValueError):
        open_free_json(text, keys, field="case_events.data:c:6")
    sealed["items"][0]["provider"] = sealed["providers"][0]
    with pytest.raises(SealedValueError, match="provider"):
        open_free_json(json.dumps(sealed), keys, field=field)


def test_json_text_as_postgresql_writes_it_opens_without_a_parse() -> None:
    """The export's fast path: jsonb's text with each sealed free-text value (a string, or a
    list of them) replaced, the same values as the parsed walk; text it cannot place (a
    sealed value under another key) is left to the parse (None); a moved value is refused."""
    key = _key()
    field = "case_events.view_changes:c:5"
    data = {**_plan_event_data(), "comment": 'Кавычки " и \\ обратная черта'}
    sealed = seal_free_text(key, data, field=field)
    keys = {key.key_id: key}
    # jsonb's spelling: ", " and ": " between items, keys as they come.
    text = json.dumps(sealed, ensure_ascii=False)
    opened = open_free_json_text(text, keys, field=field)
    assert opened is not None
    assert "sealed:v1:" not in opened
    assert json.loads(opened) == open_free_text(sealed, keys, field=field) == data
    assert open_free_json_text(json.dumps(data, ensure_ascii=False), keys, field=field) == (
        json.dumps(data, ensure_ascii=False)
    )
    elsewhere = {**sealed, "routes": [seal_text(key, "x", field=f"{field}.routes")]}
    assert open_free_json_text(json.dumps(elsewhere), keys, field=field) is None
    with pytest.raises(SealedValueError):
        open_free_json_text(text, keys, field="case_events.view_changes:c:6")
