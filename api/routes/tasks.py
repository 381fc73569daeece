"""`GET /api/v1/tasks`: the caller's inbox."""

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CurrentActor, State, territory
from api.errors import error_responses
from models.crud.inbox import list_inbox
from models.inbox import InboxItem

router = APIRouter(prefix="/api/v1", tags=["tasks"])


@router.get(
    "/tasks",
    summary="My inbox: open steps and deadlines, overdue first (мои задачи)",
    responses=error_responses(401),
)
async def tasks(
    actor: CurrentActor,
    state: State,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[InboxItem]:
    async with state.reads() as session:
        return await list_inbox(session, actor=actor, municipalities=territory(actor), limit=limit)
