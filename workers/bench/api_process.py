"""The API as the benches run it: in their own event loop, or as `kurator api` in a child
process, as production runs it."""

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import uvicorn

from api.app import create_app
from models.settings import Settings
from workers.devstack.processes import free_port


class BenchError(Exception):
    """The benchmark could not run; the message says what failed."""


@asynccontextmanager
async def api_server(
    settings: Settings, *, in_process: bool, seal: bool, needs_temporal: bool = True
) -> AsyncIterator[str]:
    """The API on a free port: uvicorn in this event loop, or `kurator api` in a child (its
    unsealed twin, workers/bench/unsealed_api.py, when `seal` is off). Without
    `needs_temporal` (reads only), a child that answers /health at all is serving, even
    though it reports Temporal and the worker missing (503)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    if in_process:
        config = uvicorn.Config(
            create_app(settings, seal_payloads=seal),
            host="127.0.0.1",
            port=port,
            log_config=None,
            lifespan="on",
        )
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve())
        while not server.started:
            if serving.done():
                raise BenchError("the API did not start (its log is above)")
            await asyncio.sleep(0.05)
        try:
            yield url
        finally:
            server.should_exit = True
            await serving
        return
    env = {k: v for k, v in os.environ.items() if not k.startswith("KURATOR_")}
    env.update(child_environment(settings), KURATOR_API_PORT=str(port))
    command = ("workers.cli", "api") if seal else ("workers.bench.unsealed_api",)
    child = await asyncio.create_subprocess_exec(sys.executable, "-m", *command, env=env)
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(200):
                try:
                    answer = (await http.get(f"{url}/health")).status_code
                    if answer == 200 or not needs_temporal:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise BenchError("the API child process did not become healthy in 20 s")
        yield url
    finally:
        child.terminate()
        await asyncio.wait_for(child.wait(), 30)


def child_environment(settings: Settings) -> dict[str, str]:
    """The KURATOR_* variables of a child process (the API, a worker) serving `settings`."""
    assert settings.jwt_secret is not None
    assert settings.pseudonym_secret is not None
    return {
        "KURATOR_DATABASE_URL": settings.require_database_url(),
        "KURATOR_TEMPORAL_ADDRESS": settings.require_temporal_address(),
        "KURATOR_TASK_QUEUE": settings.task_queue,
        "KURATOR_JWT_SECRET": settings.jwt_secret.get_secret_value(),
        "KURATOR_PSEUDONYM_SECRET": settings.pseudonym_secret.get_secret_value(),
        "KURATOR_MASTER_KEY_FILE": str(settings.require_master_key_file()),
        "KURATOR_LOG_LEVEL": "WARNING",
    }
