"""`GET /health`: is every part Kurator needs up? 200 when so, 503 naming what is not."""

import asyncio

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from api.deps import State
from infra.probes import probe_postgres, probe_temporal, probe_worker

router = APIRouter(tags=["health"])


class ComponentHealth(BaseModel):
    ok: bool
    problem: str | None = Field(None, description="What is wrong, when not ok.")


class Health(BaseModel):
    status: str = Field(description="`ok`, or `unavailable` when any component is not ok.")
    components: dict[str, ComponentHealth]


@router.get(
    "/health",
    responses={503: {"model": Health, "description": "A component is not ok."}},
)
async def health(state: State, response: Response) -> Health:
    postgres, temporal, worker = await asyncio.gather(
        probe_postgres(state.engine),
        probe_temporal(state.temporal),
        probe_worker(
            state.temporal,
            namespace=state.settings.temporal_namespace,
            task_queue=state.settings.task_queue,
        ),
    )
    if temporal is not None:
        worker = "unknown: Temporal is unreachable"
    components = {
        name: ComponentHealth(ok=problem is None, problem=problem)
        for name, problem in (("postgres", postgres), ("temporal", temporal), ("worker", worker))
    }
    healthy = all(component.ok for component in components.values())
    if not healthy:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Health(status="ok" if healthy else "unavailable", components=components)
