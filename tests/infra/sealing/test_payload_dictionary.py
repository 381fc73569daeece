"""Payload dictionary 1 is frozen (every payload sealed with it needs its exact bytes), holds
the payloads' shape and nothing of any case, and halves what a case's payloads weigh."""

import hashlib
import json
import re
import uuid
from datetime import UTC, datetime
from importlib import resources

import pytest
from temporalio.api.common.v1 import Payload

from infra.sealing.aead import SealError, new_key, open_sealed, seal
from infra.sealing.payload_dictionary import DICTIONARY_FILE, WINDOW_BYTES, payload_dictionary
from models.payloads.policy_context import CasePolicyContext
from tests.support.cases import fresh_state

# Dictionary 1's digest, as shipped in December 2026. If this fails, the dictionary changed,
# and every case sealed with it would stop opening: restore the file; a new dictionary is a
# new file with a number of its own.
DICTIONARY_1_SHA256 = "f3484142d88ab306f228c40d825ab549dd579bc2e049b7d67b537e472fc296e2"

_ZERO_ID = "00000000-0000-0000-0000-000000000000"
_CODE = re.compile(r"^[^\s]{0,48}$")


def test_dictionary_1_is_the_one_shipped() -> None:
    dictionary = payload_dictionary()
    assert 28_000 < len(dictionary) <= WINDOW_BYTES  # zlib would not see past the window
    assert hashlib.sha256(dictionary).hexdigest() == DICTIONARY_1_SHA256


def _strings(value: object) -> list[str]:
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return [value] if isinstance(value, str) else []


def test_the_dictionary_holds_the_policy_codes_and_shape_not_a_cases_data() -> None:
    text = (resources.files("infra.sealing") / DICTIONARY_FILE).read_text(encoding="utf-8")
    *shapes, policy_context = text.splitlines()
    # Last the shipped default policy and calendar, public rules, as a case loads them.
    context = CasePolicyContext.model_validate_json(policy_context)
    assert context.policy.version.endswith("-default")
    assert context.model_dump_json() == policy_context
    strings = [s for line in shapes for s in _strings(json.loads(line))]
    assert strings
    for value in strings:
        assert _CODE.match(value), value  # no free text: nothing with a space, nothing long
        try:
            as_id = uuid.UUID(value)
        except ValueError:
            continue
        assert str(as_id) == _ZERO_ID, value  # no id of any case, family or run


def _view_payload() -> Payload:
    view = fresh_state(datetime(2026, 12, 1, 9, tzinfo=UTC)).view()
    return Payload(metadata={"encoding": b"json/plain"}, data=view.model_dump_json().encode())


def test_a_case_view_seals_at_half_the_size_and_opens_back() -> None:
    key = new_key()
    plain = _view_payload().SerializeToString()
    primed = seal(key, plain, associated_data=b"k", dictionary=payload_dictionary())
    unprimed = seal(key, plain, associated_data=b"k")
    assert len(primed) * 2 < len(unprimed), (len(primed), len(unprimed))
    opened = open_sealed(key, primed, associated_data=b"k", dictionary=payload_dictionary())
    assert opened == plain
    # Opened as the other kind: zlib's header says whether a dictionary was used, so text
    # compressed without one opens either way, and text compressed with it fails without it
    # as a SealError (what the codec and the codec server handle), never a zlib error.
    assert (
        open_sealed(key, unprimed, associated_data=b"k", dictionary=payload_dictionary()) == plain
    )
    with pytest.raises(SealError, match="does not decompress"):
        open_sealed(key, primed, associated_data=b"k")
