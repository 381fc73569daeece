"""Indicators of deadlines met, from the events that mark them (models/lifecycle): a step's
own event (`assessment_recorded` ends T2, `plan_approved` ends T3, a reached
`contact_recorded` ends T1 and T5, `review_recorded` ends T6) and the `overdue` event its
deadline records at the due time when the step is not done (`data.code` names the deadline).
A step done before its deadline's `overdue` event was done on time.

They read what PostgreSQL keeps of those events as they are recorded
(models/tables/case_indicators.py): each case's first time at every step and every deadline's
first overdue (`case_milestones`, a row a case), and each review and contact held with whether
it was on time (`case_event_marks`). One pass over a narrow table, never a loop in Python.
"""

from sqlmodel.ext.asyncio.session import AsyncSession

from models.reports.results import Cell, Column, share
from models.reports.sql import Scope, local_date, rows
from models.reports.working_days import working_days_sql

LEGAL_COLUMNS = [
    Column(key="deadline", label_ru="Срок", kind="text"),
    Column(key="deadline_ru", label_ru="Что", kind="text"),
    Column(key="concluded", label_ru="Случаев (решено или просрочено)", kind="count"),
    Column(key="met", label_ru="В срок", kind="count"),
    Column(key="share_met", label_ru="Доля в срок", kind="share"),
    Column(key="median_working_days", label_ru="Медиана, рабочих дней", kind="number"),
]
_LEGAL = {"T2": "решение о нуждаемости", "T3": "ИППСУ"}


def _working_days(since: str, until: str) -> str:
    return f"({working_days_sql(local_date(until))} - {working_days_sql(local_date(since))})"


async def legal_deadlines(session: AsyncSession, scope: Scope) -> list[dict[str, Cell]]:
    join, territory = scope.cases_in_territory("m")
    sql = f"""
        WITH outcomes AS (
            SELECT 'T2' AS deadline, least(decided_at, t2_late_at) AS concluded_at,
                   decided_at IS NOT NULL
                       AND (t2_late_at IS NULL OR decided_at < t2_late_at) AS met,
                   applied_at, decided_at AS done_at
            FROM case_milestones m {join}
            WHERE applied_at IS NOT NULL {territory}
            UNION ALL
            SELECT 'T3', least(programme_at, t3_late_at),
                   programme_at IS NOT NULL
                       AND (t3_late_at IS NULL OR programme_at < t3_late_at),
                   applied_at, programme_at
            FROM case_milestones m {join}
            WHERE applied_at IS NOT NULL {territory}
        )
        SELECT deadline,
            count(*) FILTER (WHERE concluded_at >= :start AND concluded_at < :end) AS concluded,
            count(*) FILTER (WHERE concluded_at >= :start AND concluded_at < :end AND met)
                AS met,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY {_working_days("applied_at", "done_at")})
                FILTER (WHERE done_at >= :start AND done_at < :end) AS median_working_days
        FROM outcomes
        WHERE (concluded_at >= :start AND concluded_at < :end)
              OR (done_at >= :start AND done_at < :end)
        GROUP BY deadline
    """
    found = {row["deadline"]: row for row in await rows(session, sql, scope.params())}
    result: list[dict[str, Cell]] = []
    for code, name in _LEGAL.items():
        row = found.get(code)
        concluded = int(row["concluded"]) if row else 0
        met = int(row["met"]) if row else 0
        median = row["median_working_days"] if row else None
        result.append(
            {
                "deadline": code,
                "deadline_ru": name,
                "concluded": concluded,
                "met": met,
                "share_met": share(met, concluded),
                "median_working_days": None if median is None else round(float(median), 1),
            }
        )
    return result


ON_TIME_COLUMNS = [
    Column(key="kind", label_ru="Что (код)", kind="text"),
    Column(key="kind_ru", label_ru="Что", kind="text"),
    Column(key="held", label_ru="Проведено", kind="count"),
    Column(key="on_time", label_ru="В срок", kind="count"),
    Column(key="share_on_time", label_ru="Доля в срок", kind="share"),
]
_ON_TIME = {"review": "пересмотр плана (T6)", "contact": "контакт с семьёй (T1, T5)"}


async def reviews_and_contacts_on_time(
    session: AsyncSession, scope: Scope
) -> list[dict[str, Cell]]:
    """Whether each review and reached contact was on time is decided as it is recorded
    (models/tables/case_indicators.py: unless the last mark of its stream before it is its
    deadline's overdue): here they are only counted."""
    join, territory = scope.cases_in_territory("k")
    sql = f"""
        SELECT
            count(*) FILTER (WHERE k.action = 'review_recorded') AS review_held,
            count(*) FILTER (WHERE k.action = 'review_recorded' AND k.on_time) AS review_on_time,
            count(*) FILTER (WHERE k.action = 'contact_recorded') AS contact_held,
            count(*) FILTER (WHERE k.action = 'contact_recorded' AND k.on_time)
                AS contact_on_time
        FROM case_event_marks k {join}
        WHERE k.action IN ('review_recorded', 'contact_recorded')
              AND k.occurred_at >= :start AND k.occurred_at < :end {territory}
    """
    found = (await rows(session, sql, scope.params()))[0]
    result: list[dict[str, Cell]] = []
    for kind, name in _ON_TIME.items():
        held, on_time = int(found[f"{kind}_held"]), int(found[f"{kind}_on_time"])
        result.append(
            {
                "kind": kind,
                "kind_ru": name,
                "held": held,
                "on_time": on_time,
                "share_on_time": share(on_time, held),
            }
        )
    return result


FIRST_CONTACT_COLUMNS = [
    Column(key="cases", label_ru="Случаев с первым контактом", kind="count"),
    Column(key="within_t1", label_ru="В срок T1", kind="count"),
    Column(key="share_within_t1", label_ru="Доля в срок T1", kind="share"),
    Column(key="median_hours", label_ru="Медиана, часов", kind="number"),
    Column(key="p90_hours", label_ru="90-й процентиль, часов", kind="number"),
]


async def signal_to_first_contact(session: AsyncSession, scope: Scope) -> list[dict[str, Cell]]:
    join, territory = scope.cases_in_territory("m")
    hours = "extract(epoch FROM first_contact_at - signal_at) / 3600"
    sql = f"""
        SELECT count(*) AS cases,
            count(*) FILTER (WHERE t1_late_at IS NULL OR first_contact_at < t1_late_at)
                AS within_t1,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY {hours}) AS median_hours,
            percentile_cont(0.9) WITHIN GROUP (ORDER BY {hours}) AS p90_hours
        FROM case_milestones m {join}
        WHERE signal_at IS NOT NULL AND first_contact_at >= :start AND first_contact_at < :end
              {territory}
    """
    row = (await rows(session, sql, scope.params()))[0]
    cases, within = int(row["cases"]), int(row["within_t1"])

    def rounded(value: object) -> float | None:
        return None if value is None else round(float(str(value)), 1)

    return [
        {
            "cases": cases,
            "within_t1": within,
            "share_within_t1": share(within, cases),
            "median_hours": rounded(row["median_hours"]),
            "p90_hours": rounded(row["p90_hours"]),
        }
    ]
