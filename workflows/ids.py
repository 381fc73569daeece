"""Workflow ids from business keys, in one place, so a retried request can never start a
duplicate. The family key is a pseudonym (a keyed hash computed outside workflows): workflow
ids are stored in clear text, so they must never hold a registry number or a name."""

from uuid import UUID

from models.identity import FAMILY_KEY_LENGTH
from models.lifecycle.social_contract_link import (
    SOCIAL_CONTRACT_WORKFLOW_PREFIX,
    contract_workflow_id,
)


def case_workflow_id(family_key: str) -> str:
    """One open episode per family: Temporal refuses a second running workflow with this id."""
    return f"case-{family_key}"


def follow_up_workflow_id(case_id: UUID) -> str:
    return f"case-follow-up-{case_id}"


def social_contract_workflow_id(case_id: UUID) -> str:
    """The case's social contract: the case's state names it, so its rule lives there."""
    return contract_workflow_id(case_id)


_CASE_PREFIX = CASE_WORKFLOW_PREFIX = "case-"
_FOLLOW_UP_PREFIX = "case-follow-up-"
# A case workflow's id as `family_key_of` recognises it, as a regular expression PostgreSQL
# (and Python's `re`) reads alike: a read that finds a case's family in SQL matches it so.
CASE_WORKFLOW_ID_REGEX = f"^{_CASE_PREFIX}[0-9a-f]{{{FAMILY_KEY_LENGTH}}}$"


def family_key_of(workflow_id: str) -> str | None:
    """The family pseudonym a case workflow id carries, or None for any other id."""
    if workflow_id.startswith(_FOLLOW_UP_PREFIX) or not workflow_id.startswith(_CASE_PREFIX):
        return None
    candidate = workflow_id.removeprefix(_CASE_PREFIX)
    is_key = len(candidate) == FAMILY_KEY_LENGTH and all(c in "0123456789abcdef" for c in candidate)
    return candidate if is_key else None


def case_of_follow_up(workflow_id: str) -> UUID | None:
    """The case id a follow-up workflow id carries, or None for any other id. Its family is
    that case's (`family_key_of` its case workflow's id)."""
    if not workflow_id.startswith(_FOLLOW_UP_PREFIX):
        return None
    try:
        return UUID(workflow_id.removeprefix(_FOLLOW_UP_PREFIX))
    except ValueError:
        return None


def case_of_social_contract(workflow_id: str) -> UUID | None:
    """The case id a social contract's workflow id carries, or None for any other id."""
    if not workflow_id.startswith(SOCIAL_CONTRACT_WORKFLOW_PREFIX):
        return None
    try:
        return UUID(workflow_id.removeprefix(SOCIAL_CONTRACT_WORKFLOW_PREFIX))
    except ValueError:
        return None
