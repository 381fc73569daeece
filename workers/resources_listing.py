"""What `kurator resources list` and `flag-reviews` read and write."""

from datetime import UTC, datetime

from models.crud.resource_map import ProviderFilter, list_providers
from models.crud.resource_reviews import flag_overdue_reviews
from models.db import make_async_engine, make_session_factory
from models.payloads.resources import ProviderPublic
from models.resource_map.policy import shipped_resource_policy
from models.resource_map.public import public_entry
from models.settings import Settings


async def listed_entries(
    settings: Settings, *, serving: str | None, review_overdue: bool
) -> list[ProviderPublic]:
    policy, now = shipped_resource_policy(), datetime.now(UTC)
    where = ProviderFilter(
        territory=None,
        serving=serving,
        confirmed_before=policy.unconfirmed_since(now) if review_overdue else None,
    )
    engine = make_async_engine(settings.require_database_url())
    try:
        async with make_session_factory(engine)() as session:
            rows = await list_providers(session, where=where, limit=None)
    finally:
        await engine.dispose()
    return [public_entry(row, policy, now) for row in rows]


async def flag_now(settings: Settings, now: datetime) -> int:
    engine = make_async_engine(settings.require_database_url())
    try:
        async with make_session_factory(engine)() as session, session.begin():
            return await flag_overdue_reviews(session, policy=shipped_resource_policy(), now=now)
    finally:
        await engine.dispose()
