"""Workflow ids from business keys, in one place, so a retried request can never start a
duplicate. The family key is a pseudonym (a keyed hash computed outside workflows): workflow
ids are stored in clear text, so they must never hold a registry number or a name."""

from uuid import UUID


def case_workflow_id(family_key: str) -> str:
    """One open episode per family: Temporal refuses a second running workflow with this id."""
    return f"case-{family_key}"


def follow_up_workflow_id(case_id: UUID) -> str:
    return f"case-follow-up-{case_id}"
