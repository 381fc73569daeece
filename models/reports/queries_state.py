"""Indicators of the cases' current state (case_projections): open cases by stage and level,
new and closed cases per month, and families per curator."""

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from models.payloads.vocabulary import Stage
from models.reports import labels
from models.reports.results import Cell, Column
from models.reports.sql import Scope, rows

OPEN_COLUMNS = [
    Column(key="stage", label_ru="Этап (код)", kind="text"),
    Column(key="stage_ru", label_ru="Этап", kind="text"),
    Column(key="level", label_ru="Уровень (код)", kind="text"),
    Column(key="level_ru", label_ru="Уровень", kind="text"),
    Column(key="cases", label_ru="Случаев", kind="count"),
]


async def open_cases_by_stage_level(session: AsyncSession, scope: Scope) -> list[dict[str, Cell]]:
    sql = f"""
        SELECT p.stage, p.level, count(*) AS cases
        FROM case_projections p
        WHERE p.stage <> 'closed' AND p.opened_at < :end {scope.projections_in_territory()}
        GROUP BY p.stage, p.level
    """
    found = await rows(session, sql, scope.params())
    order = {stage.value: i for i, stage in enumerate(Stage)}
    levels = list(labels.LEVELS)
    result: list[dict[str, Cell]] = []
    for row in sorted(
        found,
        key=lambda r: (order.get(r["stage"], 99), levels.index(r["level"] or labels.NO_LEVEL)),
    ):
        level = row["level"] or labels.NO_LEVEL
        result.append(
            {
                "stage": row["stage"],
                "stage_ru": labels.label(labels.STAGES, row["stage"]),
                "level": level,
                "level_ru": labels.label(labels.LEVELS, level),
                "cases": int(row["cases"]),
            }
        )
    return result


MONTH_COLUMNS = [
    Column(key="month", label_ru="Месяц", kind="text"),
    Column(key="new", label_ru="Новые случаи", kind="count"),
    Column(key="closed", label_ru="Закрытые случаи", kind="count"),
]


async def new_and_closed_by_month(session: AsyncSession, scope: Scope) -> list[dict[str, Cell]]:
    territory = scope.projections_in_territory()
    sql = f"""
        SELECT month, sum(opened) AS new, sum(closed) AS closed FROM (
            SELECT to_char((p.opened_at AT TIME ZONE 'UTC') + :off, 'YYYY-MM') AS month,
                   1 AS opened, 0 AS closed
            FROM case_projections p
            WHERE p.opened_at >= :start AND p.opened_at < :end {territory}
            UNION ALL
            SELECT to_char((p.closed_at AT TIME ZONE 'UTC') + :off, 'YYYY-MM'), 0, 1
            FROM case_projections p
            WHERE p.closed_at >= :start AND p.closed_at < :end {territory}
        ) AS m
        GROUP BY month
    """
    found = {row["month"]: row for row in await rows(session, sql, scope.params())}
    result: list[dict[str, Cell]] = []
    for month in scope.filter.months():
        row: Any = found.get(month)
        result.append(
            {
                "month": month,
                "new": int(row["new"]) if row else 0,
                "closed": int(row["closed"]) if row else 0,
            }
        )
    return result


CASELOAD_COLUMNS = [
    Column(key="curator", label_ru="Куратор (табельный идентификатор)", kind="text"),
    Column(key="families", label_ru="Семей на сопровождении", kind="count"),
]
NO_CURATOR = "без куратора"


async def caseload(session: AsyncSession, scope: Scope) -> list[dict[str, Cell]]:
    sql = f"""
        SELECT p.curator, count(*) AS families
        FROM case_projections p
        WHERE p.stage <> 'closed' AND p.opened_at < :end {scope.projections_in_territory()}
        GROUP BY p.curator
        ORDER BY p.curator IS NULL, families DESC, p.curator
    """
    return [
        {"curator": row["curator"] or NO_CURATOR, "families": int(row["families"])}
        for row in await rows(session, sql, scope.params())
    ]
