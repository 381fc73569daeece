"""The custom search attributes supervisors filter cases by in the Temporal Web UI.

This tuple is the single source: the dev stack and the test fixtures register it, the compose
deployment registers the same list (a test keeps them equal), and the case workflow upserts it.
None of them may carry a family's personal data.
"""

from typing import Any

from temporalio.common import SearchAttributeKey

CASE_STAGE = SearchAttributeKey.for_keyword("CaseStage")
ACCOMPANIMENT_LEVEL = SearchAttributeKey.for_keyword("AccompanimentLevel")
MUNICIPALITY = SearchAttributeKey.for_keyword("Municipality")
CURATOR = SearchAttributeKey.for_keyword("Curator")
OVERDUE = SearchAttributeKey.for_bool("Overdue")
NEXT_DEADLINE = SearchAttributeKey.for_datetime("NextDeadline")
ESCALATION_LEVEL = SearchAttributeKey.for_int("EscalationLevel")
# БРД-2026-00042 (models/case_numbers.py); unset on cases opened before numbers existed.
CASE_NUMBER = SearchAttributeKey.for_keyword("CaseNumber")
# `closure` or `prolongation` while a supervisor's or head's approval is awaited (models/inbox.py).
AWAITING_APPROVAL = SearchAttributeKey.for_keyword("AwaitingApproval")

ALL_SEARCH_ATTRIBUTES: tuple[SearchAttributeKey[Any], ...] = (
    CASE_STAGE,
    ACCOMPANIMENT_LEVEL,
    MUNICIPALITY,
    CURATOR,
    OVERDUE,
    NEXT_DEADLINE,
    ESCALATION_LEVEL,
    CASE_NUMBER,
    AWAITING_APPROVAL,
)
