"""Request and response bodies of the family endpoints: the erasure and the access log."""

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from infra.family_erasure import MAX_LEGAL_BASIS_LENGTH, MAX_REASON_LENGTH, Erased
from models.payloads.fields import NO_NUL_PATTERN
from models.payloads.vocabulary import StaffRole
from models.tables.family_access import FamilyAccessPublic


class ErasureRequest(BaseModel):
    """Уничтожение персональных данных семьи / erase the family's personal data."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(
        min_length=1,
        max_length=MAX_REASON_LENGTH,
        pattern=NO_NUL_PATTERN,
        description="Причина / why, e.g. `retention period over` or `the family's request of "
        "2026-11-30`. Kept in clear in the audit: say why, never whom (no names).",
    )
    legal_basis: str | None = Field(
        None,
        min_length=1,
        max_length=MAX_LEGAL_BASIS_LENGTH,
        pattern=NO_NUL_PATTERN,
        description="Правовое основание / the legal basis, e.g. `152-ФЗ ст. 21 ч. 4`.",
    )


class FamilyErased(BaseModel):
    """What an erasure did: the key destroyed, what can no longer be read, what is kept."""

    family_id: UUID
    erased_at: datetime
    erased_by: str
    role: StaffRole
    reason: str
    legal_basis: str | None
    key_id: UUID = Field(description="The destroyed data key.")
    erased: list[str] = Field(description="Что уничтожено / what can no longer be read.")
    unreadable_workflows: list[str] = Field(
        description="Temporal workflows of the family whose payloads can no longer be opened."
    )
    kept: list[str] = Field(description="Что сохранено / what is kept, and why.")
    cases: list[UUID] = Field(description="The family's cases: their coded history is kept.")

    @classmethod
    def of(cls, erased: Erased) -> "FamilyErased":
        erasure = erased.erasure
        return cls(
            family_id=erasure.family_id,
            erased_at=erasure.erased_at,
            erased_by=erasure.staff_id,
            role=erasure.role,
            reason=erasure.reason,
            legal_basis=erasure.legal_basis,
            key_id=erased.key_id,
            erased=ERASED,
            unreadable_workflows=erased.workflows,
            kept=KEPT,
            cases=erased.cases,
        )


ERASED = [
    "the family's data key (destroyed; who, when and why stay on its row)",
    "the family record (names, birth dates, address, phone, registry id), sealed with that key",
    "every free-text field sealed with that key (comments, reasons, providers' notes)",
    "every payload of the family's Temporal workflows (inputs, updates, results, failures)",
]
KEPT = [
    "the coded case history (stages, actions, actors, dates) for the statistics",
    "the family's pseudonym and municipality, the access log and this erasure, for the audit",
]


class AccessLogPage(BaseModel):
    items: list[FamilyAccessPublic] = Field(description="Oldest first.")
    next_cursor: str | None = Field(
        None, description="Pass as `after` for the next page; absent on the last one."
    )
