"""Computing a report: the selected indicators' queries, run side by side on sessions of their
own, bounded so a report never takes every connection of the pool.

Each query runs in a READ ONLY transaction of its own, not in an autocommit session: a
transaction is what lets `SET LOCAL` give the query's sorts and hash aggregates the memory
they need (PostgreSQL's default 4 MB spills a year of the oblast's events to disk) without
changing the pooled connection for the requests after it."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from models.db import SessionFactory
from models.policy.calendar import WorkingCalendar
from models.policy.loader import load_calendar, load_policy
from models.reports import queries_deadlines, queries_history, queries_state
from models.reports.catalogue import IndicatorId, IndicatorSet, load_indicator_set
from models.reports.period import ReportFilter
from models.reports.results import Cell, Column, IndicatorReport, IndicatorTable
from models.reports.sql import Scope
from models.reports.working_days import working_day_table

Query = Callable[[AsyncSession, Scope], Awaitable[list[dict[str, Cell]]]]

QUERIES: dict[IndicatorId, tuple[list[Column], Query]] = {
    IndicatorId.OPEN_CASES_BY_STAGE_LEVEL: (
        queries_state.OPEN_COLUMNS,
        queries_state.open_cases_by_stage_level,
    ),
    IndicatorId.NEW_AND_CLOSED_BY_MONTH: (
        queries_state.MONTH_COLUMNS,
        queries_state.new_and_closed_by_month,
    ),
    IndicatorId.CLOSURE_REASONS: (queries_history.CLOSURE_COLUMNS, queries_history.closure_reasons),
    IndicatorId.LEGAL_DEADLINES: (
        queries_deadlines.LEGAL_COLUMNS,
        queries_deadlines.legal_deadlines,
    ),
    IndicatorId.REVIEWS_AND_CONTACTS_ON_TIME: (
        queries_deadlines.ON_TIME_COLUMNS,
        queries_deadlines.reviews_and_contacts_on_time,
    ),
    IndicatorId.ESCALATIONS: (queries_history.ESCALATION_COLUMNS, queries_history.escalations),
    IndicatorId.SIGNAL_TO_FIRST_CONTACT: (
        queries_deadlines.FIRST_CONTACT_COLUMNS,
        queries_deadlines.signal_to_first_contact,
    ),
    IndicatorId.URGENT_SERVICES_AND_ALERTS: (
        queries_history.URGENT_COLUMNS,
        queries_history.urgent_services_and_alerts,
    ),
    IndicatorId.CASELOAD: (queries_state.CASELOAD_COLUMNS, queries_state.caseload),
}

# At most this many of a report's queries at once: the API's pool has 5 connections (+10).
CONCURRENT_QUERIES = 4
# Memory for each sort or hash of a report's query (each of its parallel workers has its own).
REPORT_WORK_MEM = "64MB"
_READ_ONLY = text("SET TRANSACTION READ ONLY")
_WORK_MEM = text(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'")


@dataclass(frozen=True)
class ReportSetup:
    """What every report needs, loaded once at start: the indicator set, the production
    calendar and the oblast's UTC offset (the default policy's)."""

    indicators: IndicatorSet
    calendar: WorkingCalendar
    utc_offset: timedelta


def load_report_setup(indicators_file: Path | None) -> ReportSetup:
    """IndicatorSetError (a ValueError naming the file) when the indicator file is wrong."""
    return ReportSetup(
        indicators=load_indicator_set(indicators_file),
        calendar=load_calendar(),
        utc_offset=load_policy("default").utc_offset,
    )


async def compute_report(
    sessions: SessionFactory, setup: ReportSetup, report_filter: ReportFilter, *, now: datetime
) -> IndicatorReport:
    """The report; `sessions` are transactional sessions (not autocommit: see above)."""
    scope = Scope(
        report_filter,
        working_day_table(
            setup.calendar,
            report_filter.lookback_start + report_filter.utc_offset,
            report_filter.end + report_filter.utc_offset,
        ),
    )
    gate = asyncio.Semaphore(CONCURRENT_QUERIES)

    async def one(query: Query) -> list[dict[str, Cell]]:
        async with gate, sessions() as session, session.begin():
            connection = await session.connection()
            await connection.execute(_READ_ONLY)
            await connection.execute(_WORK_MEM)
            return await query(session, scope)

    chosen = setup.indicators.indicators
    computed = await asyncio.gather(*(one(QUERIES[d.id][1]) for d in chosen))
    return IndicatorReport(
        indicator_set=setup.indicators.version,
        date_from=report_filter.date_from,
        date_to=report_filter.date_to,
        municipalities=None
        if report_filter.municipalities is None
        else list(report_filter.municipalities),
        generated_at=now,
        indicators=[
            IndicatorTable(
                id=definition.id,
                label_ru=definition.label_ru,
                description_ru=definition.description_ru,
                columns=QUERIES[definition.id][0],
                rows=rows,
            )
            for definition, rows in zip(chosen, computed, strict=True)
        ],
    )
