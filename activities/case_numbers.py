"""The activity that gives a new case its readable number (models/case_numbers.py)."""

from temporalio import activity

from models.crud.case_numbers import NumberTakenElsewhere, allocate_number, given_number
from models.db import SessionFactory
from models.payloads.case_number import CaseNumberRequest


class CaseNumberActivities:
    """Allocates case numbers in PostgreSQL; the worker registers the bound method."""

    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    @activity.defn
    async def allocate_case_number(self, request: CaseNumberRequest) -> str:
        """The case's number, the same however often it is asked for (keyed by the case id):
        a retried intake, a replayed local activity and a racing worker all get the first."""
        try:
            async with self._sessions() as session, session.begin():
                return await allocate_number(
                    session,
                    case_id=request.case_id,
                    municipality=request.municipality,
                    year=request.year,
                )
        except NumberTakenElsewhere:
            async with self._sessions() as session:
                number = await given_number(session, case_id=request.case_id)
            assert number is not None  # committed by the allocation that won
            return number
