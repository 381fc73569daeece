"""What every indicator query shares: its parameters, the territory condition, and running one
statement of text SQL. The SQL text is assembled only from fixed fragments; every value the
caller gave travels as a bound parameter."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from models.reports.period import ReportFilter
from models.reports.working_days import WorkingDayTable


@dataclass(frozen=True)
class Scope:
    """A report's filter with the working-day table its period needs."""

    filter: ReportFilter
    working_days: WorkingDayTable

    def params(self) -> dict[str, Any]:
        f = self.filter
        return {
            "start": f.start,
            "end": f.end,
            "lookback": f.lookback_start,
            "off": f.utc_offset,
            "muns": list(f.municipalities or ()),
            "wd_base": self.working_days.base,
            "wd": list(self.working_days.ordinals),
        }

    def projections_in_territory(self, alias: str = "p") -> str:
        """An `AND ...` on a case_projections alias, or nothing for every municipality."""
        if self.filter.municipalities is None:
            return ""
        return f"AND {alias}.municipality = ANY(CAST(:muns AS text[]))"

    def cases_in_territory(self, alias: str) -> tuple[str, str]:
        """A JOIN and an `AND ...` that keep the rows (of a table with `case_id`) of the
        territory's cases: the case's municipality is on its projection. Nothing at all for
        every municipality."""
        if self.filter.municipalities is None:
            return "", ""
        join = f"JOIN case_projections p ON p.case_id = {alias}.case_id"
        return join, self.projections_in_territory("p")


def local_date(timestamp: str) -> str:
    """SQL for the local date of a timestamptz expression (at the report's UTC offset)."""
    return f"CAST(({timestamp} AT TIME ZONE 'UTC') + :off AS date)"


async def rows(
    session: AsyncSession, sql: str, params: Mapping[str, Any]
) -> Sequence[Mapping[str, Any]]:
    connection = await session.connection()
    result = await connection.execute(text(sql), dict(params))
    return [dict(row) for row in result.mappings().all()]
