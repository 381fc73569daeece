"""Readable case numbers (models/case_numbers.py): the numbers given, and the counter of each
territory and year they are drawn from.

A case's number is allocated once, by its workflow at intake, keyed by the case id: a retried
allocation finds the row and returns the same number. The counter row is locked while a number
is drawn and the number's row written in the same transaction, so a sequence has neither
duplicates nor gaps. Territory codes, years and counters only: no personal data.
"""

from datetime import datetime
from uuid import UUID

from sqlalchemy import Column, DateTime, UniqueConstraint, func
from sqlmodel import Field, SQLModel

CASE_NUMBER_LENGTH = 32


class CaseNumberSequence(SQLModel, table=True):
    """The last number drawn for a territory in a year."""

    __tablename__ = "case_number_sequences"

    municipality: str = Field(primary_key=True, max_length=64)
    year: int = Field(primary_key=True)
    last_seq: int = Field(ge=1)


class CaseNumberRow(SQLModel, table=True):
    """The number of one case."""

    __tablename__ = "case_numbers"
    __table_args__ = (
        UniqueConstraint("number", name="uq_case_numbers_number"),
        UniqueConstraint("municipality", "year", "seq", name="uq_case_numbers_sequence"),
    )

    case_id: UUID = Field(primary_key=True)
    number: str = Field(max_length=CASE_NUMBER_LENGTH)
    municipality: str = Field(max_length=64)
    year: int
    seq: int
    allocated_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
