"""What an audit anchor reports: the scheduled workflow's result, and `kurator audit anchor`'s.

Workflow-safe: pydantic only. Case ids are pseudonymous UUIDs, never a family's identity.
"""

from pydantic import BaseModel, ConfigDict, Field


class AnchorWritten(BaseModel):
    """One anchor appended to the anchor log."""

    model_config = ConfigDict(frozen=True)

    number: int = Field(ge=1, description="The anchor's number in its log.")
    anchored_at: str = Field(description="When it was written (UTC, ISO 8601).")
    cases: int = Field(ge=0, description="How many case chains it covers.")
    changed: int = Field(ge=0, description="Heads that moved since the anchor before.")
    refused: int = Field(
        0,
        ge=0,
        description="Heads that moved but do not extend the chain anchored before (or whose "
        "chain does not hold): left at their last anchored place, for `audit verify` to name.",
    )
    refused_cases: tuple[str, ...] = Field(
        (), description="The first few of those cases' ids (pseudonymous UUIDs)."
    )
