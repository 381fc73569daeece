"""Ordering the curators a `team` step can name (определение команды сопровождения): pure.

Candidates are the territory's active specialists (the staff directory). A curator's caseload
is the sum of the weights of their open cases' levels (policy data); the lightest come first,
and one above the caseload limit carries a warning.
"""

from collections.abc import Iterable, Mapping

from pydantic import BaseModel, Field

from models.policy.codes import AccompanimentLevel
from models.resource_map.policy import ResourcePolicy


class CuratorProposal(BaseModel):
    rank: int = Field(ge=1)
    staff_id: str
    full_name: str = Field(description="The staff member's own name (a work contact).")
    open_cases: int
    caseload: float = Field(description="Нагрузка / open cases weighted by level.")
    caseload_limit: float
    over_limit: bool
    warning_ru: str | None = Field(None, description="Предупреждение о превышении нагрузки.")


# A curator's open cases, counted by level (None: not assessed yet).
OpenCases = Mapping[AccompanimentLevel | None, int]


def rank_curators(
    specialists: Iterable[tuple[str, str]],
    *,
    open_cases: Mapping[str, OpenCases],
    policy: ResourcePolicy,
    adding: AccompanimentLevel | None = None,
    current: str | None = None,
) -> list[CuratorProposal]:
    """`specialists` as (staff id, full name). `adding`: the level of the case being staffed;
    a curator the case would take above the limit is warned about too (but its `current`
    curator, whose caseload holds it already)."""
    weights, limit = policy.caseload_weights, policy.caseload_limit.value
    scored = []
    for staff_id, full_name in specialists:
        cases = open_cases.get(staff_id, {})
        load = sum(weights.of(level) * count for level, count in cases.items())
        after = load if staff_id == current else load + weights.of(adding)
        warning = None
        if load > limit:
            warning = f"Нагрузка {load:g} превышает предел {limit:g}"
        elif after > limit:
            warning = f"С этим случаем нагрузка {after:g} превысит предел {limit:g}"
        scored.append((load, staff_id, full_name, sum(cases.values()), warning))
    scored.sort(key=lambda entry: (entry[0], entry[1]))
    return [
        CuratorProposal(
            rank=rank,
            staff_id=staff_id,
            full_name=full_name,
            open_cases=count,
            caseload=load,
            caseload_limit=limit,
            over_limit=warning is not None,
            warning_ru=warning,
        )
        for rank, (load, staff_id, full_name, count, warning) in enumerate(scored, start=1)
    ]
