"""What the proposals count from the cases' projections: the open plan items naming each map
entry, each curator's open cases by level, and a case's assessed circumstances."""

import json
from collections.abc import Collection
from uuid import UUID

from sqlalchemy import TextClause, text
from sqlmodel.ext.asyncio.session import AsyncSession

from models.payloads.vocabulary import NeedCircumstance
from models.policy.codes import AccompanimentLevel

# Items of open cases, not done yet, naming one of the entries. provider_id is a code, never
# sealed (only free text is), so it is read in clear. The containment test (one per entry,
# OR-ed) finds the cases through ix_case_projections_open_plan_items; only their plans are
# unnested and counted.
_OPEN_ITEMS = """
    SELECT item->>'provider_id' AS provider_id, count(*) AS items
    FROM case_projections p, jsonb_array_elements(p.view->'plan_items') AS item
    WHERE p.closed_at IS NULL
      AND ({naming})
      AND item->>'provider_id' = ANY(CAST(:ids AS text[]))
      AND item->>'done_at' IS NULL
    GROUP BY 1
"""
_CASELOAD = text(
    """
    SELECT curator, level, count(*) AS cases FROM case_projections
    WHERE closed_at IS NULL AND curator = ANY(CAST(:ids AS text[]))
    GROUP BY curator, level
    """
)
_CIRCUMSTANCES = text(
    """
    SELECT data->'circumstances' FROM case_events
    WHERE case_id = :case_id AND action = 'assessment_recorded'
    ORDER BY seq DESC LIMIT 1
    """
)


async def open_items_by_provider(
    session: AsyncSession, provider_ids: Collection[UUID]
) -> dict[UUID, int]:
    if not provider_ids:
        return {}
    statement, values = open_items_query(provider_ids)
    connection = await session.connection()
    rows = await connection.execute(statement, values)
    return {UUID(provider_id): int(items) for provider_id, items in rows}


def open_items_query(provider_ids: Collection[UUID]) -> tuple[TextClause, dict[str, object]]:
    """The count of open items naming the entries, and its parameters: one containment
    pattern per entry, as GIN cannot serve `@> ANY(...)`."""
    ids = sorted(str(i) for i in provider_ids)
    naming = " OR ".join(
        f"p.view->'plan_items' @> CAST(:item_{n} AS jsonb)" for n in range(len(ids))
    )
    values: dict[str, object] = {"ids": ids}
    values |= {f"item_{n}": json.dumps([{"provider_id": i}]) for n, i in enumerate(ids)}
    return text(_OPEN_ITEMS.format(naming=naming)), values


async def open_cases_by_curator(
    session: AsyncSession, staff_ids: Collection[str]
) -> dict[str, dict[AccompanimentLevel | None, int]]:
    if not staff_ids:
        return {}
    connection = await session.connection()
    found: dict[str, dict[AccompanimentLevel | None, int]] = {}
    for curator, level, cases in await connection.execute(_CASELOAD, {"ids": list(staff_ids)}):
        key = None if level is None else AccompanimentLevel(level)
        found.setdefault(curator, {})[key] = int(cases)
    return found


async def assessed_circumstances(
    session: AsyncSession, case_id: UUID
) -> list[NeedCircumstance] | None:
    """The circumstances of the case's latest assessment; None when none was recorded."""
    connection = await session.connection()
    found = (await connection.execute(_CIRCUMSTANCES, {"case_id": case_id})).first()
    if found is None:
        return None
    return [NeedCircumstance(code) for code in found[0] or []]


_LEVEL = text("SELECT level FROM case_projections WHERE case_id = :case_id")


async def case_level(session: AsyncSession, case_id: UUID) -> AccompanimentLevel | None:
    connection = await session.connection()
    level = (await connection.execute(_LEVEL, {"case_id": case_id})).scalar_one_or_none()
    return None if level is None else AccompanimentLevel(level)
