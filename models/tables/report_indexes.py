"""The indexes the indicator queries (models/reports) read through, declared apart from the
tables they index so that the case history's own module stays as its owners keep it.
Migration 0011 creates them.

- events by action and time: every event-based indicator picks a few actions within a period
  (and the `LOOKBACK` before it) out of the whole history;
- projections by opening and closing time: new and closed cases per month;
- open projections by stage and level, with the columns their counts read (municipality,
  curator, opening time): open cases and caseload by an index-only scan.
"""

from sqlalchemy import Index, Table, text

from models.tables.case_event import CaseEvent
from models.tables.case_projection import CaseProjection


def _table(model: type) -> Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


_EVENTS = _table(CaseEvent)
_PROJECTIONS = _table(CaseProjection)

REPORT_INDEXES = (
    Index("ix_case_events_action_occurred_at", _EVENTS.c.action, _EVENTS.c.occurred_at),
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
