"""a municipality's cases by id, as an index (models/tables/case_projection.py)

An audit export walks a municipality's cases in batches by case id (api/audit_export.py). With
no index on both, each batch scanned the oblast's cases from the last id on and kept the
municipality's: at 350,000 cases, some 2,600 rows (20 MB of projections) read for every 100
kept, most of a batch's reading from disk. The index makes a batch's next ids a range scan of
the index alone.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 10:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        'ix_case_projections_municipality_case', 'case_projections', ['municipality', 'case_id']
    )


def downgrade() -> None:
    op.drop_index('ix_case_projections_municipality_case', table_name='case_projections')
