"""A case's route proposals: its assessment's needs, the map's providers serving its
municipality, and their load, ranked by models/resource_map/proposals.py."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlmodel.ext.asyncio.session import AsyncSession

from models.crud.resource_load import assessed_circumstances, case_level, open_items_by_provider
from models.crud.resource_map import ProviderFilter, list_providers
from models.payloads.vocabulary import AccompanimentChannel, CapacityUnit, ServiceType
from models.policy.codes import AccompanimentLevel
from models.resource_map.policy import ResourcePolicy
from models.resource_map.proposals import (
    Candidate,
    FamilyNeeds,
    RouteProposal,
    needs_of,
    rank_providers,
)


@dataclass(frozen=True, slots=True)
class CaseProposals:
    level: AccompanimentLevel
    needs: FamilyNeeds
    proposals: list[RouteProposal]


async def proposals_for_case(
    session: AsyncSession,
    *,
    case_id: UUID,
    municipality: str,
    policy: ResourcePolicy,
    now: datetime,
) -> CaseProposals | None:
    """None while the case has no recognised need with a level (no assessment yet)."""
    level = await case_level(session, case_id)
    circumstances = await assessed_circumstances(session, case_id)
    if level is None or circumstances is None:
        return None
    needs = needs_of(circumstances, level, policy)
    rows = await list_providers(
        session, where=ProviderFilter(territory=None, serving=municipality), limit=None
    )
    overdue_before = policy.unconfirmed_since(now)
    candidates = [
        Candidate(
            id=row.id,
            name=row.name,
            municipality=row.municipality,
            services=frozenset(ServiceType(s) for s in row.services),
            channels=frozenset(AccompanimentChannel(c) for c in row.channels),
            capacity=row.capacity,
            capacity_unit=CapacityUnit(row.capacity_unit),
            review_overdue=row.last_confirmed_at < overdue_before,
        )
        for row in rows
    ]
    load = await open_items_by_provider(session, [c.id for c in candidates])
    ranked = rank_providers(
        candidates, needs=needs, municipality=municipality, open_items=load, policy=policy
    )
    return CaseProposals(level=level, needs=needs, proposals=ranked)
