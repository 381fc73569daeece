"""An entry of the map as readers get it: its fields and its review state under the policy."""

from datetime import datetime

from models.crud.resource_map import fields_of
from models.payloads.resources import ProviderPublic
from models.resource_map.policy import ResourcePolicy
from models.tables.resource_provider import ResourceProvider


def public_entry(row: ResourceProvider, policy: ResourcePolicy, now: datetime) -> ProviderPublic:
    due = policy.review_due(row.last_confirmed_at)
    return ProviderPublic(
        **fields_of(row).model_dump(),
        id=row.id,
        active=row.active,
        version=row.version,
        last_confirmed_at=row.last_confirmed_at,
        review_due_at=due,
        review_overdue=row.active and due <= now,
    )
