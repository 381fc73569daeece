"""The activity that persists what a social contract's workflow decided."""

from temporalio import activity

from infra.sealing.codec import KeySource
from models.crud.case_events import append_events, lock_case_history
from models.crud.notifications import enqueue
from models.crud.social_contracts import save_contract_view
from models.db import SessionFactory
from models.payloads.social_contract import SocialContractStep


class SocialContractActivities:
    def __init__(self, session_factory: SessionFactory, keys: KeySource) -> None:
        self._sessions = session_factory
        self._keys = keys

    @activity.defn
    async def persist_contract_step(self, step: SocialContractStep) -> None:
        """One step in one transaction: its events (the contract's own chain, sealed with the
        family's key), its notifications and the contract's new view. Every write is keyed
        (event seq, notification step, view version), so a retry changes nothing."""
        owner = await self._keys.owner_of_workflow(step.view.workflow_id)
        key = await self._keys.for_owner(owner)
        async with self._sessions() as session, session.begin():
            await lock_case_history(session, step.view.contract_id)
            await append_events(session, drafts=step.events, origin=step.origin, key=key)
            await enqueue(session, drafts=step.notifications)
            await save_contract_view(session, view=step.view, key=key)
