"""The indexes the indicator queries (models/reports) read through on the projections,
declared apart from the table they index. Migration 0011 creates them. (The event-based
indicators read models/tables/case_indicators.py, whose own module declares its index;
migration 0018 dropped 0011's index of every event by action and time, which they no longer
read.)

- projections by opening and closing time: new and closed cases per month;
- open projections by stage and level, with the columns their counts read (municipality,
  curator, opening time): open cases and caseload by an index-only scan.
"""

from sqlalchemy import Index, Table, text

from models.tables.case_projection import CaseProjection


def _table(model: type) -> Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


_PROJECTIONS = _table(CaseProjection)

REPORT_INDEXES = (
    Index("ix_case_projections_opened_at", _PROJECTIONS.c.opened_at),
    Index(
        "ix_case_projections_closed_at",
        _PROJECTIONS.c.closed_at,
        postgresql_where=text("closed_at IS NOT NULL"),
    ),
    Index(
        "ix_case_projections_open_stage_level",
        _PROJECTIONS.c.stage,
        _PROJECTIONS.c.level,
        postgresql_include=["municipality", "curator", "opened_at"],
        postgresql_where=text("stage <> 'closed'"),
    ),
)
