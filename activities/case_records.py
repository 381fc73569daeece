"""Activities that persist what the case workflow decided."""

from temporalio import activity

from infra.sealing.codec import KeySource
from models.crud.case_events import append_events, lock_case_history
from models.crud.case_projections import save_view, view_changes
from models.crud.inbox import replace_inbox_items
from models.crud.notifications import enqueue
from models.db import SessionFactory
from models.payloads.case_view import CaseStep


class CaseRecordActivities:
    """Writes to PostgreSQL for the case workflow; the worker registers the bound methods."""

    def __init__(self, session_factory: SessionFactory, keys: KeySource) -> None:
        self._sessions = session_factory
        self._keys = keys

    @activity.defn
    async def persist_step(self, step: CaseStep) -> None:
        """Write one workflow step in one transaction: its events (chained, with what the step
        changed in the case's state), its notifications and the case's new state, the free
        text sealed with the family's key. Every write is keyed (event seq, notification step
        key, view version): a retry changes nothing, and a step that lands after a newer one
        adds only what is missing from the history and the outbox, never its older view."""
        # The case workflow's id names the family, for a follow-up's steps too (their view is
        # the case's); its key seals the step, as the codec seals the workflow's payloads.
        key = await self._keys.for_owner(await self._keys.owner_of_workflow(step.view.workflow_id))
        async with self._sessions() as session, session.begin():
            await lock_case_history(session, step.view.case_id)
            new_events = await append_events(
                session,
                drafts=step.events,
                origin=step.origin_or_case(),
                key=key,
                view_changes=await view_changes(session, view=step.view, key=key),
            )
            new_notifications = await enqueue(session, drafts=step.notifications)
            view_saved = await save_view(session, view=step.view, key=key)
            if view_saved:
                await replace_inbox_items(session, view=step.view)
        activity.logger.debug(
            "case step persisted",
            extra={
                "version": step.view.version,
                "new_events": new_events,
                "new_notifications": new_notifications,
                # False: this version or a newer one was stored already (a retry, or a race).
                "view_saved": view_saved,
            },
        )
