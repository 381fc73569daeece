"""Indicators counted from the period's events (their marks, models/tables/case_indicators.py):
closure reasons, escalations, urgent services and child-safety alerts."""

from sqlmodel.ext.asyncio.session import AsyncSession

from models.policy.codes import ClosureReason
from models.reports import labels
from models.reports.results import Cell, Column, share
from models.reports.sql import Scope, rows

CLOSURE_COLUMNS = [
    Column(key="closure_reason", label_ru="Основание (код)", kind="text"),
    Column(key="closure_reason_ru", label_ru="Основание", kind="text"),
    Column(key="cases", label_ru="Случаев", kind="count"),
    Column(key="share", label_ru="Доля снятых", kind="share"),
]


async def closure_reasons(session: AsyncSession, scope: Scope) -> list[dict[str, Cell]]:
    join, territory = scope.cases_in_territory("k")
    sql = f"""
        SELECT COALESCE(k.closure_reason, 'unrecorded') AS reason, count(*) AS cases
        FROM case_event_marks k {join}
        WHERE k.action = 'case_closed' AND k.occurred_at >= :start AND k.occurred_at < :end
              {territory}
        GROUP BY 1
    """
    counts = {row["reason"]: int(row["cases"]) for row in await rows(session, sql, scope.params())}
    total = sum(counts.values())
    # goals_achieved first and always, even at 0: it is the share the ministry asks for.
    counts.setdefault(ClosureReason.GOALS_ACHIEVED.value, 0)
    ordered = sorted(
        counts.items(),
        key=lambda item: (item[0] != ClosureReason.GOALS_ACHIEVED, -item[1], item[0]),
    )
    return [
        {
            "closure_reason": reason,
            "closure_reason_ru": labels.label(labels.CLOSURE_REASONS, reason),
            "cases": cases,
            "share": share(cases, total),
        }
        for reason, cases in ordered
    ]


ESCALATION_COLUMNS = [
    Column(key="municipality", label_ru="Муниципалитет (код)", kind="text"),
    Column(key="municipality_ru", label_ru="Муниципалитет", kind="text"),
    Column(key="rung", label_ru="Ступень", kind="count"),
    Column(key="rung_ru", label_ru="Кому", kind="text"),
    Column(key="escalations", label_ru="Срабатываний", kind="count"),
]


async def escalations(session: AsyncSession, scope: Scope) -> list[dict[str, Cell]]:
    # The municipality is the case's, so the projection is always joined here.
    sql = f"""
        SELECT p.municipality, k.rung, count(*) AS escalations
        FROM case_event_marks k JOIN case_projections p ON p.case_id = k.case_id
        WHERE k.action IN ('overdue', 'escalation')
              AND k.occurred_at >= :start AND k.occurred_at < :end
              {scope.projections_in_territory()}
        GROUP BY 1, 2
        ORDER BY 1, 2
    """
    return [
        {
            "municipality": row["municipality"],
            "municipality_ru": labels.label(labels.MUNICIPALITY_NAMES, row["municipality"]),
            "rung": int(row["rung"]),
            "rung_ru": labels.RUNGS.get(int(row["rung"]), ""),
            "escalations": int(row["escalations"]),
        }
        for row in await rows(session, sql, scope.params())
    ]


URGENT_COLUMNS = [
    Column(key="kind", label_ru="Вид (код)", kind="text"),
    Column(key="kind_ru", label_ru="Вид", kind="text"),
    Column(key="records", label_ru="Записей", kind="count"),
    Column(key="cases", label_ru="Случаев", kind="count"),
]
_URGENT_KINDS = {
    "urgent_service_given": "срочная социальная услуга",
    "child_safety_alert": "сигнал об угрозе ребёнку",
}


async def urgent_services_and_alerts(session: AsyncSession, scope: Scope) -> list[dict[str, Cell]]:
    join, territory = scope.cases_in_territory("k")
    sql = f"""
        SELECT k.action, count(*) AS records, count(DISTINCT k.case_id) AS cases
        FROM case_event_marks k {join}
        WHERE k.action IN ('urgent_service_given', 'child_safety_alert')
              AND k.occurred_at >= :start AND k.occurred_at < :end {territory}
        GROUP BY k.action
    """
    found = {row["action"]: row for row in await rows(session, sql, scope.params())}
    return [
        {
            "kind": kind,
            "kind_ru": name,
            "records": int(found[kind]["records"]) if kind in found else 0,
            "cases": int(found[kind]["cases"]) if kind in found else 0,
        }
        for kind, name in _URGENT_KINDS.items()
    ]
