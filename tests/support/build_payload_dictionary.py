"""How `infra/sealing/payload_dictionary_1.jsonl` was made (run once, in December 2026):

    python -m tests.support.build_payload_dictionary infra/sealing/payload_dictionary_1.jsonl

Never run it over dictionary 1 again: every payload sealed with that dictionary needs its
exact bytes to open (infra/sealing/payload_dictionary.py). It stays here as the recipe for a
dictionary 2, should the payloads' shape drift far enough from 1 to matter.

The source is the committed synthetic histories of the sealed sets (tests/workflows/histories),
opened with their fixture keys, every JSON payload made anonymous before it is kept: ids and
moments become zeros of the same shape, and any text with a space or longer than a code
(free text, even synthetic) is dropped, so the dictionary holds the payloads' structure, field
names and codes, and nothing of any case. The L2 lifecycle (`case_l2_goals_achieved`) is left
out: issue 9's size target is measured on it, and it must not be compressed against itself.
Most frequent payloads last; payloads above 1,500 bytes left out (a rare large input would
take the space of many views).

Last in the dictionary, after those shapes, comes the case policy context every case loads
at intake and carries on to its follow-ups (the shipped default policy and the production
calendar from 2025, as `load_case_policy` returned them in December 2026): public rules, not
a case's data, and the largest payload of a case (10 KB of JSON). Last, because zlib reaches
back only 32 KB from where it is: a case's state carries the policy a few hundred bytes in,
and continues for KB after it. Before it, the most frequent shapes that fit in 30 KB.
"""

import asyncio
import collections
import json
import re
import sys
from pathlib import Path
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowHistory

from infra.sealing.codec import FamilyPayloadCodec, is_sealed
from infra.sealing.payload_dictionary import WINDOW_BYTES
from infra.sealing.payloads import payloads_of
from infra.sealing.static_keys import StaticKeySource
from models.payloads.policy_context import CasePolicyContext
from models.policy.loader import load_calendar, load_policy

HISTORIES = Path(__file__).resolve().parents[1] / "workflows" / "histories"
SETS = ("case_number", "local_persist", "sealed")
LEFT_OUT = "case_l2_goals_achieved.json"
KEYS_FILE = "data-keys.json"
LONGEST_PAYLOAD = 1500
# zlib reaches back 32 KB from where it is in the payload: 2 KB less keeps the whole dictionary
# in reach of a payload's first 2 KB (24 to 32 KB measured alike on the L2 lifecycle).
BUDGET_BYTES = WINDOW_BYTES - 2048

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_MOMENT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def anonymous(value: Any) -> Any:
    """`value` with ids and moments zeroed and free text dropped; codes and shape kept."""
    if isinstance(value, dict):
        return {key: anonymous(item) for key, item in value.items()}
    if isinstance(value, list):
        return [anonymous(item) for item in value]
    if isinstance(value, str):
        if _UUID.match(value):
            return "00000000-0000-0000-0000-000000000000"
        if _MOMENT.match(value):
            return "2000-01-01T00:00:00.000000Z"
        if " " in value or len(value) > 48:
            return ""
    return value


def _recorded(path: Path) -> tuple[StaticKeySource, WorkflowHistory]:
    keys = StaticKeySource.read(path.parent / KEYS_FILE)
    return keys, WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))


async def _opened_json(path: Path) -> list[bytes]:
    keys, history = _recorded(path)
    codec = FamilyPayloadCodec(keys)
    sealed = [p for event in history.events for _, p in payloads_of(event) if is_sealed(p)]
    opened: list[Payload] = await codec.decode(sealed)
    return [p.data for p in opened if p.metadata.get("encoding") == b"json/plain"]


async def dictionary_lines() -> list[str]:
    counted: collections.Counter[str] = collections.Counter()
    for name in SETS:
        for path in sorted((HISTORIES / name).glob("*.json")):
            if path.name in (KEYS_FILE, LEFT_OUT):
                continue
            for data in await _opened_json(path):
                line = json.dumps(
                    anonymous(json.loads(data)), ensure_ascii=False, separators=(",", ":")
                )
                if len(line.encode()) <= LONGEST_PAYLOAD:
                    counted[line] += 1
    shapes = [
        line for line, _ in sorted(counted.items(), key=lambda kv: (kv[1], len(kv[0]), kv[0]))
    ]
    policy = _policy_context_line()
    while shapes and len(_framed([*shapes, policy])) > BUDGET_BYTES:
        shapes.pop(0)  # the least frequent
    return [*shapes, policy]


def _policy_context_line() -> str:
    context = CasePolicyContext(
        policy=load_policy("default"), calendar=load_calendar(None, from_year=2025)
    )
    return context.model_dump_json()


def _framed(lines: list[str]) -> bytes:
    return b"".join(
        Payload(metadata={"encoding": b"json/plain"}, data=line.encode()).SerializeToString()
        for line in lines
    )


def main(out: Path) -> None:
    lines = asyncio.run(dictionary_lines())
    out.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    sys.stdout.write(f"{len(lines)} payload shapes written to {out}\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
