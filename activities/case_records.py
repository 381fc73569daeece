"""Activities that persist what the case workflow decided."""

from temporalio import activity

from models.crud.case_events import append_event
from models.db import SessionFactory
from models.payloads.events import CaseEventDraft


class CaseRecordActivities:
    """Writes to PostgreSQL for the case workflow; the worker registers the bound methods."""

    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    @activity.defn
    async def record_event(self, draft: CaseEventDraft) -> None:
        """Append one event to the case history; a retry of the same event is a no-op."""
        async with self._sessions() as session, session.begin():
            await append_event(session, draft=draft)
