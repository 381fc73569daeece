"""The resource map's scheduled review flags: one activity that flags every entry not
confirmed within the review period to its head (models/crud/resource_reviews.py)."""

from datetime import UTC, datetime

from temporalio import activity

from models.crud.resource_reviews import flag_overdue_reviews
from models.db import SessionFactory
from models.resource_map.policy import shipped_resource_policy


class ResourceReviewActivities:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    @activity.defn
    async def flag_resource_reviews(self) -> int:
        """How many entries were newly flagged (a retried run flags nothing twice)."""
        async with self._sessions() as session, session.begin():
            return await flag_overdue_reviews(
                session, policy=shipped_resource_policy(), now=datetime.now(UTC)
            )
