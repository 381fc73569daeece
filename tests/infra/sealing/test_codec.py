"""The payload codec and the sealing converter: the family's key from the context, its id in
the metadata, plain payloads passed through, failures encoded."""

import uuid
from datetime import UTC, datetime

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.converter import (
    ActivitySerializationContext,
    DataConverter,
    WorkflowSerializationContext,
)
from temporalio.exceptions import ApplicationError

from infra.sealing.aead import SealError, seal
from infra.sealing.codec import (
    KEY_ID_METADATA,
    SEALED_ENCODING,
    UNPRIMED_SEALED_ENCODING,
    FamilyPayloadCodec,
    is_sealed,
    key_id_of,
    open_payload,
)
from infra.sealing.family_keys import FamilyKeyStore, KeyDestroyed
from models.crud.case_projections import save_view
from models.db import SessionFactory
from models.tables.family_data_key import SYSTEM_KEY_OWNER
from tests.support.cases import fresh_state
from workflows.ids import case_workflow_id, follow_up_workflow_id

SECRET_TEXT = "Синтетический-комментарий-7731"


def _plain(text: str = SECRET_TEXT) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=f'"{text}"'.encode())


def _context(workflow_id: str) -> WorkflowSerializationContext:
    return WorkflowSerializationContext(namespace="default", workflow_id=workflow_id)


async def _case_with_projection(
    sessions: SessionFactory, keys: FamilyKeyStore, family: str
) -> uuid.UUID:
    """A case of `family` as the worker projects it: the row a follow-up's key is found by."""
    state = fresh_state(datetime.now(UTC))
    state.workflow_id = case_workflow_id(family)
    key = await keys.for_owner(family)
    async with sessions() as session, session.begin():
        await save_view(session, view=state.view(), key=key)
    return state.case_id


async def test_a_case_payload_is_sealed_under_its_familys_key(keys: FamilyKeyStore) -> None:
    family = uuid.uuid4().hex
    codec = FamilyPayloadCodec(keys).with_context(_context(case_workflow_id(family)))
    [sealed] = await codec.encode([_plain()])
    family_key = await keys.for_owner(family)
    assert is_sealed(sealed)
    assert sealed.metadata["encoding"] == SEALED_ENCODING
    assert key_id_of(sealed) == family_key.key_id
    assert sealed.metadata[KEY_ID_METADATA] == str(family_key.key_id).encode()
    assert SECRET_TEXT.encode() not in sealed.SerializeToString()
    assert open_payload(family_key, sealed) == _plain()
    # Decoding needs no context: the metadata names the key (as the Web UI's codec needs).
    assert await FamilyPayloadCodec(keys).decode([sealed]) == [_plain()]


async def test_a_follow_up_payload_is_sealed_under_its_cases_family_key(
    keys: FamilyKeyStore, sessions: SessionFactory
) -> None:
    family = uuid.uuid4().hex
    case_id = await _case_with_projection(sessions, keys, family)
    activity = ActivitySerializationContext(
        namespace="default",
        activity_id="1",
        activity_type="persist_step",
        activity_task_queue="q",
        workflow_id=follow_up_workflow_id(case_id),
        workflow_type="CaseFollowUpWorkflow",
        is_local=False,
    )
    [sealed] = await FamilyPayloadCodec(keys).with_context(activity).encode([_plain()])
    assert key_id_of(sealed) == (await keys.for_owner(family)).key_id


async def test_payloads_outside_a_family_go_under_the_system_key(keys: FamilyKeyStore) -> None:
    system = await keys.for_owner(SYSTEM_KEY_OWNER)
    for codec in (
        FamilyPayloadCodec(keys),
        FamilyPayloadCodec(keys).with_context(_context("calendar-refresh")),
        FamilyPayloadCodec(keys).with_context(_context(follow_up_workflow_id(uuid.uuid4()))),
    ):
        [sealed] = await codec.encode([_plain()])
        assert key_id_of(sealed) == system.key_id


async def test_unsealed_payloads_pass_through_decode(keys: FamilyKeyStore) -> None:
    family = uuid.uuid4().hex
    codec = FamilyPayloadCodec(keys).with_context(_context(case_workflow_id(family)))
    [sealed] = await codec.encode([_plain("b")])
    assert await codec.decode([_plain("a"), sealed, _plain("c")]) == [
        _plain("a"),
        _plain("b"),
        _plain("c"),
    ]
    assert await codec.encode([]) == []


async def test_a_tampered_envelope_fails_to_decode(keys: FamilyKeyStore) -> None:
    codec = FamilyPayloadCodec(keys).with_context(_context(case_workflow_id(uuid.uuid4().hex)))
    [sealed] = await codec.encode([_plain()])
    tampered = Payload()
    tampered.CopyFrom(sealed)
    tampered.data = sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    with pytest.raises(SealError):
        await codec.decode([tampered])


async def test_an_envelope_moved_under_another_key_id_fails(keys: FamilyKeyStore) -> None:
    """The key id is the associated data: relabelling an envelope does not open it."""
    first = FamilyPayloadCodec(keys).with_context(_context(case_workflow_id(uuid.uuid4().hex)))
    second_family = uuid.uuid4().hex
    [sealed] = await first.encode([_plain()])
    other = await keys.for_owner(second_family)
    relabelled = Payload()
    relabelled.CopyFrom(sealed)
    relabelled.metadata[KEY_ID_METADATA] = str(other.key_id).encode()
    with pytest.raises(SealError):
        await first.decode([relabelled])


async def test_an_erased_familys_payloads_no_longer_decode(keys: FamilyKeyStore) -> None:
    family = uuid.uuid4().hex
    codec = FamilyPayloadCodec(keys).with_context(_context(case_workflow_id(family)))
    [sealed] = await codec.encode([_plain()])
    await keys.destroy(family, staff_id="staff-301", role="head", reason="lawful request")
    with pytest.raises(KeyDestroyed):
        await codec.decode([sealed])
    with pytest.raises(KeyDestroyed):
        await codec.encode([_plain()])


async def test_a_failure_message_and_stack_trace_are_sealed(
    data_converter: DataConverter,
) -> None:
    family = uuid.uuid4().hex
    converter = data_converter.with_context(_context(case_workflow_id(family)))
    try:
        raise ApplicationError(SECRET_TEXT, type="Rejected", non_retryable=True)
    except ApplicationError as raised:
        error = raised
    failure = Failure()
    await converter.encode_failure(error, failure)
    assert failure.message == "Encoded failure"
    assert failure.stack_trace == ""
    assert is_sealed(failure.encoded_attributes)
    assert SECRET_TEXT.encode() not in failure.SerializeToString()
    decoded = await data_converter.decode_failure(failure)
    assert isinstance(decoded, ApplicationError)
    assert decoded.message == SECRET_TEXT


async def test_an_envelope_sealed_before_the_dictionary_still_opens(keys: FamilyKeyStore) -> None:
    """Cases sealed before payload dictionary 1 (zlib alone, the earlier encoding) keep
    opening; today's, relabelled as the earlier kind, fails as a SealError."""
    family = uuid.uuid4().hex
    key = await keys.for_owner(family)
    key_id = str(key.key_id).encode()
    earlier = Payload(
        metadata={"encoding": UNPRIMED_SEALED_ENCODING, KEY_ID_METADATA: key_id},
        data=seal(key.cipher, _plain().SerializeToString(), associated_data=key_id),
    )
    assert is_sealed(earlier)
    assert await FamilyPayloadCodec(keys).decode([earlier]) == [_plain()]
    codec = FamilyPayloadCodec(keys).with_context(_context(case_workflow_id(family)))
    [today] = await codec.encode([_plain()])
    assert today.metadata["encoding"] == SEALED_ENCODING != UNPRIMED_SEALED_ENCODING
    relabelled = Payload()
    relabelled.CopyFrom(today)
    relabelled.metadata["encoding"] = UNPRIMED_SEALED_ENCODING
    with pytest.raises(SealError):
        await codec.decode([relabelled])
