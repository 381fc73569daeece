"""What sealing costs a case step, measured directly: the payloads one contact step writes to
Temporal (the update's command, the persist_step activity's input and result, the update's
answer), converted and encoded then decoded and converted back, through the sealing converter
and through the plain one. The family's data key is warm, as in a running worker (the key
store caches it), so this is the codec's own cost: compression and AES-GCM."""

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from temporalio.converter import DataConverter, WorkflowSerializationContext

from models.lifecycle.actions import ACTIONS, Action
from models.lifecycle.state import CaseState
from models.lifecycle.steps import StepLog
from models.payloads import actions as act
from models.payloads.actions import Actor
from models.payloads.vocabulary import SignalSource, StaffRole
from models.policy.loader import load_calendar, load_policy
from workflows.ids import case_workflow_id

MUNICIPALITY = "berdsk"


@dataclass(frozen=True)
class CodecCost:
    plain_us: float  # per step, encode and decode
    sealed_us: float
    plain_bytes: int  # of one step's payloads as stored
    sealed_bytes: int

    @property
    def ratio(self) -> float:
        return self.sealed_us / self.plain_us if self.plain_us else float("nan")


def _step_values() -> tuple[str, list[Any], list[type]]:
    """A synthetic case's contact step: its workflow id, the values and their types."""
    family = uuid.uuid4().hex
    state = CaseState(
        case_id=uuid.uuid4(),
        workflow_id=case_workflow_id(family),
        municipality=MUNICIPALITY,
        policy=load_policy("default"),
        calendar=load_calendar(),
        opened_at=datetime.now(UTC),
    )
    actor = Actor(
        staff_id="bench-specialist", role=StaffRole.SPECIALIST, municipalities=(MUNICIPALITY,)
    )
    steps = []
    for action, body in (
        (Action.RECEIVE_SIGNAL, act.SignalBody(source=SignalSource.SELF_REQUEST)),
        (Action.RECORD_CONTACT, act.ContactBody(reached=True)),
    ):
        command = body.by(actor)
        log = StepLog(state, datetime.now(UTC), actor.staff_id, actor.role)
        ACTIONS[action].transition(state, command, log)
        steps.append((command, log.step()))
    command, step = steps[-1]
    assert step is not None
    values = [command, step, None, step.view]
    return state.workflow_id, values, [type(value) for value in values]


async def _per_step_us(
    converter: DataConverter, values: list[Any], types: list[type], budget: float
) -> tuple[float, int]:
    """Mean µs of a step's encode and decode; the encoded size. Runs for about `budget`
    seconds (at least 20 rounds), so the bench stays bounded."""
    encoded = await converter.encode(values)
    assert await converter.decode(encoded, types) is not None
    size = sum(payload.ByteSize() for payload in encoded)
    rounds, started = 0, time.perf_counter()
    while rounds < 20 or time.perf_counter() - started < budget:
        await converter.decode(await converter.encode(values), types)
        rounds += 1
    return (time.perf_counter() - started) / rounds * 1e6, size


async def codec_cost(
    sealing: DataConverter, plain: DataConverter, *, budget_seconds: float = 1.0
) -> CodecCost:
    workflow_id, values, types = _step_values()
    context = WorkflowSerializationContext(namespace="default", workflow_id=workflow_id)
    sealed_us, sealed_bytes = await _per_step_us(
        sealing.with_context(context), values, types, budget_seconds / 2
    )
    plain_us, plain_bytes = await _per_step_us(
        plain.with_context(context), values, types, budget_seconds / 2
    )
    return CodecCost(plain_us, sealed_us, plain_bytes, sealed_bytes)
