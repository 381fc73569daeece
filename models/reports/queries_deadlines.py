"""Indicators of deadlines met, from the events that mark them (models/lifecycle): a step's
own event (`assessment_recorded` ends T2, `plan_approved` ends T3, a reached
`contact_recorded` ends T1 and T5, `review_recorded` ends T6) and the `overdue` event its
deadline records at the due time when the step is not done (`data.code` names the deadline).
A step done before its deadline's `overdue` event was done on time.

Each query aggregates per case in one pass over the events of the period and the `LOOKBACK`
before it (what a period's event is measured from), never a loop in Python.
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
    join, territory = scope.events_in_territory()
    sql = f"""
        WITH marks AS (
            SELECT e.case_id,
                min(CAST(e.data->>'application_at' AS timestamptz))
                    FILTER (WHERE e.action = 'intake_registered') AS applied_at,
                min(e.occurred_at) FILTER (WHERE e.action = 'assessment_recorded') AS decided_at,
                min(e.occurred_at) FILTER (WHERE e.action = 'plan_approved') AS programme_at,
                min(e.occurred_at) FILTER (WHERE e.action = 'overdue'
                                           AND e.data->>'code' = 'T2') AS t2_late_at,
                min(e.occurred_at) FILTER (WHERE e.action = 'overdue'
                                           AND e.data->>'code' = 'T3') AS t3_late_at
            FROM case_events e {join}
            WHERE e.action IN ('intake_registered', 'assessment_recorded', 'plan_approved',
                               'overdue')
                  AND (e.action <> 'overdue' OR e.data->>'code' IN ('T2', 'T3'))
                  AND e.occurred_at >= :lookback AND e.occurred_at < :end {territory}
            GROUP BY e.case_id
        ), outcomes AS (
            SELECT 'T2' AS deadline, least(decided_at, t2_late_at) AS concluded_at,
                   decided_at IS NOT NULL
                       AND (t2_late_at IS NULL OR decided_at < t2_late_at) AS met,
                   applied_at, decided_at AS done_at
            FROM marks WHERE applied_at IS NOT NULL
            UNION ALL
            SELECT 'T3', least(programme_at, t3_late_at),
                   programme_at IS NOT NULL
                       AND (t3_late_at IS NULL OR programme_at < t3_late_at),
                   applied_at, programme_at
            FROM marks WHERE applied_at IS NOT NULL
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
    """Each event is a mark of the review stream and/or the contact stream: `held` (the step),
        `late` (its deadline's `overdue`) or `reset` (the deadline planned anew: the plan, an
        assessment, a change of level). A held step came late when the latest mark before it in its
        stream is `late`: one window over each case's events in order (the latest `late` and the
    latest other mark of each stream before the row), so one sort, no self-join, no loop."""
    join, territory = scope.events_in_territory()
    sql = f"""
        WITH marks AS (
            SELECT e.case_id, e.seq, e.occurred_at,
                CASE
                    WHEN e.action = 'review_recorded' THEN 'held'
                    WHEN e.action = 'plan_approved' THEN 'reset'
                    WHEN e.action = 'overdue' AND e.data->>'code' = 'T6' THEN 'late'
                END AS review,
                CASE
                    WHEN e.action = 'contact_recorded'
                         AND CAST(e.data->>'reached' AS boolean) THEN 'held'
                    WHEN e.action = 'overdue' AND e.data->>'code' IN ('T1', 'T5') THEN 'late'
                    WHEN e.action = 'assessment_recorded'
                         OR (e.action = 'review_recorded'
                             AND e.data->>'outcome' = 'change_level') THEN 'reset'
                END AS contact
            FROM case_events e {join}
            WHERE e.action IN ('review_recorded', 'plan_approved', 'overdue',
                               'contact_recorded', 'assessment_recorded')
                  AND (e.action <> 'overdue' OR e.data->>'code' IN ('T1', 'T5', 'T6'))
                  AND e.occurred_at >= :lookback AND e.occurred_at < :end {territory}
        ), ordered AS (
            SELECT occurred_at, review, contact,
                max(seq) FILTER (WHERE review = 'late') OVER earlier AS review_late,
                max(seq) FILTER (WHERE review <> 'late') OVER earlier AS review_done,
                max(seq) FILTER (WHERE contact = 'late') OVER earlier AS contact_late,
                max(seq) FILTER (WHERE contact <> 'late') OVER earlier AS contact_done
            FROM marks
            WINDOW earlier AS (PARTITION BY case_id ORDER BY seq
                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
        )
        SELECT
            count(*) FILTER (WHERE review = 'held') AS review_held,
            count(*) FILTER (WHERE review = 'held'
                             AND NOT coalesce(review_late > coalesce(review_done, 0), false))
                AS review_on_time,
            count(*) FILTER (WHERE contact = 'held') AS contact_held,
            count(*) FILTER (WHERE contact = 'held'
                             AND NOT coalesce(contact_late > coalesce(contact_done, 0), false))
                AS contact_on_time
        FROM ordered
        WHERE occurred_at >= :start
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
    join, territory = scope.events_in_territory()
    hours = "extract(epoch FROM contact_at - signal_at) / 3600"
    sql = f"""
        WITH marks AS (
            SELECT e.case_id,
                min(e.occurred_at) FILTER (WHERE e.action = 'signal_received') AS signal_at,
                min(e.occurred_at) FILTER (WHERE e.action = 'contact_recorded'
                                           AND CAST(e.data->>'reached' AS boolean))
                    AS contact_at,
                min(e.occurred_at) FILTER (WHERE e.action = 'overdue') AS late_at
            FROM case_events e {join}
            WHERE e.action IN ('signal_received', 'contact_recorded', 'overdue')
                  AND (e.action <> 'overdue' OR e.data->>'code' = 'T1')
                  AND e.occurred_at >= :lookback AND e.occurred_at < :end {territory}
            GROUP BY e.case_id
        )
        SELECT count(*) AS cases,
            count(*) FILTER (WHERE late_at IS NULL OR contact_at < late_at) AS within_t1,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY {hours}) AS median_hours,
            percentile_cont(0.9) WITHIN GROUP (ORDER BY {hours}) AS p90_hours
        FROM marks
        WHERE signal_at IS NOT NULL AND contact_at >= :start AND contact_at < :end
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
