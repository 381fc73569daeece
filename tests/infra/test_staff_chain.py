"""The staff directory's chain shows an event altered, removed or re-linked."""

from datetime import UTC, datetime
from typing import Any

from infra.audit.staff_chain import GENESIS_HASH, directory_chain_problem, directory_event_hash


def _chain(count: int) -> list[dict[str, Any]]:
    rows, prev = [], GENESIS_HASH
    for seq in range(1, count + 1):
        row: dict[str, Any] = {
            "seq": seq,
            "staff_id": f"s-{seq}",
            "action": "created",
            "actor_id": "min-1",
            "actor_role": "ministry",
            "source": "api",
            "reason": None,
            "before": None,
            "after": {"role": "specialist", "municipalities": ["berdsk"], "active": True},
            "occurred_at": datetime(2026, 12, 2, 10, seq, tzinfo=UTC),
        }
        row["prev_hash"], row["hash"] = prev, directory_event_hash(row, prev)
        prev = row["hash"]
        rows.append(row)
    return rows


def test_an_intact_chain_verifies() -> None:
    assert directory_chain_problem(_chain(4)) is None
    assert directory_chain_problem([]) is None


def test_an_altered_removed_or_relinked_event_is_named() -> None:
    altered = _chain(4)
    altered[1]["after"] = {**altered[1]["after"], "role": "ministry"}
    assert directory_chain_problem(altered) == (
        2,
        "the stored hash does not match the event's content",
    )
    removed = _chain(4)
    del removed[2]
    assert directory_chain_problem(removed) == (4, "expected event 3 here (an event is missing)")
    relinked = _chain(3)
    relinked[2]["prev_hash"] = GENESIS_HASH
    assert directory_chain_problem(relinked) == (3, "prev_hash does not match the event before it")
