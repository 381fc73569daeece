"""the social contracts' monitoring contacts in the inbox, and the case number on every item

`case_inbox_items` gets `case_number` (so an item names the case the way staff do) and a
nullable `stage` (a contract's item belongs to no stage of the case: its monitoring outlives
the case). Filled here: the numbers of the rows already there, and the open monitoring
contacts (T13) of every stored contract, from its view (deadlines hold codes, staff ids,
roles and times, no sealed text), as the worker writes them from now on
(models/inbox.contract_items).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 20:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        'case_inbox_items', sa.Column('case_number', sa.String(length=32), nullable=True)
    )
    op.alter_column('case_inbox_items', 'stage', existing_type=sa.String(length=32), nullable=True)
    op.execute(
        "UPDATE case_inbox_items AS i SET case_number = n.number "
        "FROM case_numbers AS n WHERE n.case_id = i.case_id"
    )
    op.execute(
        "INSERT INTO case_inbox_items (case_id, case_number, key, kind, municipality, stage, "
        "code, due_at, overdue, escalation_level, responsible, escalated_to) "
        "SELECT c.case_id, n.number, 'social_contract:' || (d->>'key'), 'contract_contact', "
        "c.municipality, NULL, d->>'code', (d->>'due_at')::timestamptz, "
        "COALESCE((d->>'overdue')::boolean, false), "
        "COALESCE((d->>'escalation_level')::int, 0), d->>'responsible', d->>'escalated_to' "
        "FROM social_contracts AS c "
        "CROSS JOIN LATERAL jsonb_array_elements(c.view->'deadlines') AS d "
        "LEFT JOIN case_numbers AS n ON n.case_id = c.case_id "
        "ON CONFLICT (case_id, key) DO NOTHING"
    )


def downgrade() -> None:
    op.execute("DELETE FROM case_inbox_items WHERE kind = 'contract_contact'")
    op.alter_column(
        'case_inbox_items', 'stage', existing_type=sa.String(length=32), nullable=False
    )
    op.drop_column('case_inbox_items', 'case_number')
