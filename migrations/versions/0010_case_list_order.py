"""the case list's order as an index: pages after a cursor are range scans

`GET /api/v1/cases` orders by (NOT overdue, COALESCE(next_deadline, 'infinity'), case_id):
overdue first, then by the next deadline with none last. Indexed for the whole oblast and per
municipality; the earlier (municipality, overdue, next_deadline) index served the offset
pages this replaces.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ORDER = "(NOT overdue), COALESCE(next_deadline, 'infinity'::timestamptz), case_id"


def upgrade() -> None:
    op.drop_index('ix_case_projections_municipality_overdue_deadline', table_name='case_projections')
    op.execute(f"CREATE INDEX ix_case_projections_list_order ON case_projections ({_ORDER})")
    op.execute(f"CREATE INDEX ix_case_projections_municipality_list_order ON case_projections (municipality, {_ORDER})")


def downgrade() -> None:
    op.drop_index('ix_case_projections_municipality_list_order', table_name='case_projections')
    op.drop_index('ix_case_projections_list_order', table_name='case_projections')
    op.create_index('ix_case_projections_municipality_overdue_deadline', 'case_projections', ['municipality', 'overdue', 'next_deadline'], unique=False)
