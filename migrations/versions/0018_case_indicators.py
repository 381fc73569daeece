"""what the indicators read, kept by a trigger on case_events (models/tables/case_indicators.py)

One statement-level trigger runs `_FROM_EVENTS` over each INSERT's (or COPY's) new events; the
upgrade runs the same text once over every stored event. Both tables are derived: the history
is untouched (no column of case_events changes; the trigger only reads the new rows).

A batch's events continue each case's streams where `case_milestones` left them: appends of
one case are serialised (models/crud/case_events.lock_case_history) and carry whole steps, and
the generator writes whole cases.

`kurator_app` gets its rights on the new tables from the default privileges of migration 0008;
the trigger runs with the inserting role's rights.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Coded values are read so that no shape of `data` can fail the insert of an event (a text
# `rung` is no rung, a `reached` that is not true is not reached).
# The indicator's marks (models/reports): a review (T6) or a reached contact (T1, T5) is held,
# its deadline's overdue is late, and a plan, an assessment or a change of level starts the
# stream anew. A held step is on time unless its stream's last mark before it is late.
_FROM_EVENTS = """
WITH batch AS (
    SELECT e.case_id, e.seq, e.occurred_at, e.action, e.data,
        e.data->>'code' AS code,
        CASE
            WHEN e.action = 'review_recorded' THEN 'held'
            WHEN e.action = 'plan_approved' THEN 'reset'
            WHEN e.action = 'overdue' AND e.data->>'code' = 'T6' THEN 'late'
        END AS review,
        CASE
            WHEN e.action = 'contact_recorded' AND e.data->'reached' = 'true' THEN 'held'
            WHEN e.action = 'overdue' AND e.data->>'code' IN ('T1', 'T5') THEN 'late'
            WHEN e.action = 'assessment_recorded'
                 OR (e.action = 'review_recorded' AND e.data->>'outcome' = 'change_level')
                THEN 'reset'
        END AS contact
    FROM {events} e
    WHERE e.action IN ('intake_registered', 'signal_received', 'assessment_recorded',
                       'plan_approved', 'overdue', 'escalation', 'review_recorded',
                       'contact_recorded', 'case_closed', 'urgent_service_given',
                       'child_safety_alert')
), streams AS (
    SELECT b.*,
        greatest(s.review_late_seq,
                 max(b.seq) FILTER (WHERE b.review = 'late') OVER earlier) AS review_late,
        greatest(s.review_done_seq,
                 max(b.seq) FILTER (WHERE b.review <> 'late') OVER earlier) AS review_done,
        greatest(s.contact_late_seq,
                 max(b.seq) FILTER (WHERE b.contact = 'late') OVER earlier) AS contact_late,
        greatest(s.contact_done_seq,
                 max(b.seq) FILTER (WHERE b.contact <> 'late') OVER earlier) AS contact_done
    FROM batch b LEFT JOIN case_milestones s ON s.case_id = b.case_id
    WINDOW earlier AS (PARTITION BY b.case_id ORDER BY b.seq
                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
), marked AS (
    INSERT INTO case_event_marks
        (case_id, seq, occurred_at, action, code, rung, closure_reason, on_time)
    SELECT case_id, seq, occurred_at, action, code,
        CASE WHEN jsonb_typeof(data->'rung') = 'number' THEN CAST(data->>'rung' AS int) END,
        CASE WHEN action = 'case_closed' THEN data->>'closure_reason' END,
        CASE
            WHEN review = 'held' THEN NOT coalesce(review_late > coalesce(review_done, 0), false)
            WHEN contact = 'held'
                THEN NOT coalesce(contact_late > coalesce(contact_done, 0), false)
        END
    FROM streams
    WHERE action IN ('overdue', 'escalation', 'review_recorded', 'case_closed',
                     'urgent_service_given', 'child_safety_alert')
          OR (action = 'contact_recorded' AND contact = 'held')
    ON CONFLICT DO NOTHING
)
INSERT INTO case_milestones AS m
    (case_id, applied_at, signal_at, decided_at, programme_at, first_contact_at,
     t1_late_at, t2_late_at, t3_late_at,
     review_late_seq, review_done_seq, contact_late_seq, contact_done_seq)
SELECT case_id,
    min(CAST(data->>'application_at' AS timestamptz))
        FILTER (WHERE action = 'intake_registered'),
    min(occurred_at) FILTER (WHERE action = 'signal_received'),
    min(occurred_at) FILTER (WHERE action = 'assessment_recorded'),
    min(occurred_at) FILTER (WHERE action = 'plan_approved'),
    min(occurred_at) FILTER (WHERE action = 'contact_recorded' AND contact = 'held'),
    min(occurred_at) FILTER (WHERE action = 'overdue' AND code = 'T1'),
    min(occurred_at) FILTER (WHERE action = 'overdue' AND code = 'T2'),
    min(occurred_at) FILTER (WHERE action = 'overdue' AND code = 'T3'),
    max(seq) FILTER (WHERE review = 'late'),
    max(seq) FILTER (WHERE review <> 'late'),
    max(seq) FILTER (WHERE contact = 'late'),
    max(seq) FILTER (WHERE contact <> 'late')
FROM batch
GROUP BY case_id
ON CONFLICT (case_id) DO UPDATE SET
    applied_at = least(m.applied_at, EXCLUDED.applied_at),
    signal_at = least(m.signal_at, EXCLUDED.signal_at),
    decided_at = least(m.decided_at, EXCLUDED.decided_at),
    programme_at = least(m.programme_at, EXCLUDED.programme_at),
    first_contact_at = least(m.first_contact_at, EXCLUDED.first_contact_at),
    t1_late_at = least(m.t1_late_at, EXCLUDED.t1_late_at),
    t2_late_at = least(m.t2_late_at, EXCLUDED.t2_late_at),
    t3_late_at = least(m.t3_late_at, EXCLUDED.t3_late_at),
    review_late_seq = greatest(m.review_late_seq, EXCLUDED.review_late_seq),
    review_done_seq = greatest(m.review_done_seq, EXCLUDED.review_done_seq),
    contact_late_seq = greatest(m.contact_late_seq, EXCLUDED.contact_late_seq),
    contact_done_seq = greatest(m.contact_done_seq, EXCLUDED.contact_done_seq)
"""


def upgrade() -> None:
    op.create_table('case_milestones',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signal_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('programme_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_contact_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('t1_late_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('t2_late_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('t3_late_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review_late_seq', sa.Integer(), nullable=True),
    sa.Column('review_done_seq', sa.Integer(), nullable=True),
    sa.Column('contact_late_seq', sa.Integer(), nullable=True),
    sa.Column('contact_done_seq', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('case_id')
    )
    op.create_table('case_event_marks',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=True),
    sa.Column('rung', sa.Integer(), nullable=True),
    sa.Column('closure_reason', sa.String(length=64), nullable=True),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.PrimaryKeyConstraint('case_id', 'seq')
    )
    # The backfill: every stored event at once, one sort per case's stream (memory for it).
    op.execute("SET LOCAL work_mem = '256MB'")
    op.execute(_FROM_EVENTS.format(events="case_events"))
    op.create_index('ix_case_event_marks_action_occurred_at', 'case_event_marks', ['action', 'occurred_at'], unique=False, postgresql_include=['case_id', 'rung', 'closure_reason', 'on_time'])
    op.execute(
        "CREATE FUNCTION case_indicators_from_events() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        + _FROM_EVENTS.format(events="new_events")
        + ";\nRETURN NULL;\nEND\n$$"
    )
    # The indicators no longer read every event by action and time (0011's index).
    op.drop_index('ix_case_events_action_occurred_at', table_name='case_events')
    op.execute(
        "CREATE TRIGGER case_events_indicators AFTER INSERT ON case_events "
        "REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT "
        "EXECUTE FUNCTION case_indicators_from_events()"
    )


def downgrade() -> None:
    op.create_index('ix_case_events_action_occurred_at', 'case_events', ['action', 'occurred_at'], unique=False)
    op.execute("DROP TRIGGER case_events_indicators ON case_events")
    op.execute("DROP FUNCTION case_indicators_from_events()")
    op.drop_index('ix_case_event_marks_action_occurred_at', table_name='case_event_marks', postgresql_include=['case_id', 'rung', 'closure_reason', 'on_time'])
    op.drop_table('case_event_marks')
    op.drop_table('case_milestones')
