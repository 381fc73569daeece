"""The chains beside the case histories: the staff directory's (one chain,
infra/audit/staff_chain.py) and the resource map's (one chain an entry,
models/resource_map/history_chain.py). Their heads are anchored with the cases' (under keys
that cannot be a case id: `staff-directory`, `resource:<entry id>`), so that rewriting a
whole register chain, or deleting its last changes or a whole entry's history, is detected as
it is for a case; `kurator audit verify` checks them against the newest anchor.

Registers are small (staff and providers, not events by the million): each check reads all of
its rows.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from infra.audit.staff_chain import CHAINED_COLUMNS as STAFF_COLUMNS
from infra.audit.staff_chain import directory_chain_problem
from models.resource_map.history_chain import CHAINED_COLUMNS as RESOURCE_COLUMNS
from models.resource_map.history_chain import first_broken

STAFF_DIRECTORY = "staff-directory"
RESOURCE_PREFIX = "resource:"

STAFF_ROWS = (
    f"SELECT {', '.join([*STAFF_COLUMNS, 'prev_hash', 'hash'])} "
    "FROM staff_directory_events ORDER BY seq"
)
RESOURCE_ROWS = (
    f"SELECT {', '.join([*RESOURCE_COLUMNS, 'prev_hash', 'hash'])} "
    "FROM resource_changes ORDER BY provider_id, seq"
)

Rows = Sequence[Mapping[str, Any]]


def is_register_key(key: str) -> bool:
    return key == STAFF_DIRECTORY or key.startswith(RESOURCE_PREFIX)


@dataclass(frozen=True)
class RegisterChain:
    key: str
    rows: Rows
    first_problem: Callable[[Rows], tuple[int, str] | None]


def _resource_problem(provider_id: UUID) -> Callable[[Rows], tuple[int, str] | None]:
    def problem(rows: Rows) -> tuple[int, str] | None:
        broken = first_broken(provider_id, rows)
        if broken is None:
            return None
        return broken, "its link or content does not hold (the change was altered or removed)"

    return problem


def register_chains(staff_rows: Rows, resource_rows: Rows) -> list[RegisterChain]:
    """The directory's chain, and each resource-map entry's, from their stored rows (the
    resources' in provider and seq order)."""
    chains = [RegisterChain(STAFF_DIRECTORY, staff_rows, directory_chain_problem)]
    by_provider: dict[UUID, list[Mapping[str, Any]]] = {}
    for row in resource_rows:
        by_provider.setdefault(UUID(str(row["provider_id"])), []).append(row)
    chains += [
        RegisterChain(f"{RESOURCE_PREFIX}{provider}", rows, _resource_problem(provider))
        for provider, rows in by_provider.items()
    ]
    return chains


@dataclass(frozen=True)
class RegisterVerdict:
    key: str
    events: int
    head: tuple[int, str] | None  # the chain's last event, when the whole chain holds
    broken_seq: int | None = None
    problem: str | None = None


def judge(chain: RegisterChain, anchored: Any | None) -> RegisterVerdict:
    """Whether the chain holds from its first event, and still holds the head the newest
    anchor recorded of it (`anchored`: an AnchoredHead, or None when never anchored)."""
    rows = chain.rows
    broken = chain.first_problem(rows)
    if broken is not None:
        return RegisterVerdict(chain.key, len(rows), None, *broken)
    head = (int(rows[-1]["seq"]), str(rows[-1]["hash"])) if rows else None
    if anchored is not None:
        if len(rows) < anchored.seq:
            return RegisterVerdict(
                chain.key,
                len(rows),
                None,
                anchored.seq,
                f"deleted after anchor {anchored.anchor}: it recorded the chain up to event "
                f"{anchored.seq}, the stored chain ends at event {len(rows)}",
            )
        if rows[anchored.seq - 1]["hash"] != anchored.hash:
            return RegisterVerdict(
                chain.key,
                len(rows),
                None,
                anchored.seq,
                f"rewritten after anchor {anchored.anchor}: the chain holds, but its event "
                f"{anchored.seq} is not the one that anchor recorded",
            )
    return RegisterVerdict(chain.key, len(rows), head)


def read_registers(connection: Any) -> list[RegisterChain]:
    """Every register chain, read through a psycopg connection whose rows are dicts."""
    return register_chains(
        connection.execute(STAFF_ROWS).fetchall(), connection.execute(RESOURCE_ROWS).fetchall()
    )


def judge_all(
    chains: Iterable[RegisterChain], anchored: Mapping[str, Any]
) -> list[RegisterVerdict]:
    """Every register chain judged, and every anchored register with no stored rows at all
    (its whole history deleted) as broken."""
    verdicts = [judge(chain, anchored.get(chain.key)) for chain in chains]
    present = {verdict.key for verdict in verdicts if verdict.events}
    for key in sorted(k for k in anchored if is_register_key(k) and k not in present):
        head = anchored[key]
        verdicts.append(
            RegisterVerdict(
                key,
                0,
                None,
                head.seq,
                f"deleted after anchor {head.anchor}: it recorded the chain up to event "
                f"{head.seq}, and no event of it is stored",
            )
        )
    return [verdict for verdict in verdicts if verdict.events or verdict.problem]
