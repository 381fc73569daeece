"""`GET /api/v1/tasks`: the caller's inbox."""

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CurrentActor, State, territory
from api.errors import error_responses
from models.crud.case_projections import list_views
from models.inbox import InboxItem, inbox

router = APIRouter(prefix="/api/v1", tags=["tasks"])

# The inbox is built from the open cases of the caller's territory, read in pages of this size.
_PAGE = 500


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
    views = []
    async with state.sessions() as session:
        offset = 0
        while True:
            # keys=None: the inbox shows no free text, so it opens none.
            page, total = await list_views(
                session, municipalities=territory(actor), limit=_PAGE, offset=offset, keys=None
            )
            views.extend(page)
            offset += _PAGE
            if offset >= total:
                break
    return inbox(actor, views)[:limit]
