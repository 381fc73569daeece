"""Allocating and finding readable case numbers (models/tables/case_number.py)."""

from uuid import UUID

from sqlalchemy import bindparam
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.case_numbers import format_case_number
from models.crud.inserts import table_of
from models.tables.case_number import CaseNumberRow, CaseNumberSequence

_SEQUENCES = table_of(CaseNumberSequence)
_NUMBERS = table_of(CaseNumberRow)

_GIVEN = select(CaseNumberRow.number).where(col(CaseNumberRow.case_id) == bindparam("case_id"))

# Takes the counter row's lock until the transaction ends: concurrent intakes of one territory
# and year draw one after another, each the next number.
_draw = insert(_SEQUENCES).values(last_seq=1)
_DRAW = _draw.on_conflict_do_update(
    index_elements=[_SEQUENCES.c.municipality, _SEQUENCES.c.year],
    set_={"last_seq": _SEQUENCES.c.last_seq + 1},
).returning(_SEQUENCES.c.last_seq)
_RECORD = (
    insert(_NUMBERS)
    .on_conflict_do_nothing(index_elements=[_NUMBERS.c.case_id])
    .returning(_NUMBERS.c.number)
)


class NumberTakenElsewhere(Exception):
    """The same case's number was allocated concurrently: roll back and read it."""


async def given_number(session: AsyncSession, *, case_id: UUID) -> str | None:
    return (await session.exec(_GIVEN, params={"case_id": case_id})).first()


async def allocate_number(
    session: AsyncSession, *, case_id: UUID, municipality: str, year: int
) -> str:
    """The case's number: the one it was given, else the next of its territory and year.
    Call inside a transaction; raises NumberTakenElsewhere when a concurrent allocation for
    the same case won, after which the caller rolls back (undoing the draw, so no gap) and
    reads `given_number`."""
    given = await given_number(session, case_id=case_id)
    if given is not None:
        return given
    place = {"municipality": municipality, "year": year}
    seq = (await session.exec(_DRAW, params=place)).scalar_one()
    number = format_case_number(municipality, year, seq)
    recorded = await session.exec(
        _RECORD, params={**place, "case_id": case_id, "number": number, "seq": seq}
    )
    if recorded.first() is None:
        raise NumberTakenElsewhere(str(case_id))
    return number
