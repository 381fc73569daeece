"""A property-based run over the OpenAPI description (schemathesis): whatever valid or invalid
request it sends to any operation, the API never answers with a server error, and what it
answers (status, content type, headers, body) is what the description documents.

The app runs in-process with its lifespan (PostgreSQL and the Temporal dev server) and a real
worker, so bodies that pass validation reach a real case and its workflow. A 503 (the case did
not answer within the short update timeout) is a correct answer here; a 500 never is.
"""

import asyncio
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, settings
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from infra.sealing.converter import sealing_data_converter
from infra.temporal_client import connect_temporal
from models.db import make_async_engine, make_session_factory
from models.payloads.vocabulary import StaffRole
from models.settings import Settings
from tests.support.api import api_settings, bearer, post_headers, synthetic_family
from tests.support.sealing import test_key_store
from tests.support.staff_directory import register_token_staff
from workers.worker import build_worker

# Per operation. The coverage phase (every boundary of every field: ~1,500 requests) is off to
# keep the run short; the errors tests provoke the boundaries that matter one by one.
MAX_EXAMPLES = 20
# A fixed seed: the run is reproducible; change it to explore other inputs.
SEED = 20260512
UPDATE_TIMEOUT_SECONDS = 1.0
# Every answer comes within the update timeout plus the app's own work.
DEADLINE = timedelta(seconds=UPDATE_TIMEOUT_SECONDS + 4)

# The description only: building the app connects nothing (its lifespan runs at the first call).
schema = schemathesis.openapi.from_dict(
    create_app(Settings.model_construct()).openapi(),
    config=schemathesis.Config.from_dict(
        {"seed": SEED, "phases": {"coverage": {"enabled": False}}}
    ),
)


@dataclass(frozen=True)
class FuzzTarget:
    app: FastAPI
    auth: dict[str, str]
    case_id: str


class _WorkerThread:
    """The real worker on an event loop of its own: hypothesis drives the test synchronously,
    so the session's loop does not run while it does."""

    def __init__(self, address: str, database_url: str, task_queue: str) -> None:
        self._args = (address, database_url, task_queue)
        self._started = threading.Event()
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="fuzz-worker", daemon=True)

    def __enter__(self) -> "_WorkerThread":
        self._thread.start()
        if not self._started.wait(60) or self._error is not None:
            raise RuntimeError(f"the fuzz worker did not start: {self._error!r}")
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(60)

    def _main(self) -> None:
        try:
            asyncio.run(self._run())
        except BaseException as error:  # handed to the test thread
            self._error = error
            self._started.set()

    async def _run(self) -> None:
        address, database_url, task_queue = self._args
        engine = make_async_engine(database_url)
        try:
            sessions = make_session_factory(engine)
            keys = test_key_store(sessions)
            client = await connect_temporal(
                address, "default", data_converter=sealing_data_converter(keys)
            )
            async with build_worker(client, task_queue=task_queue, sessions=sessions, keys=keys):
                self._started.set()
                await asyncio.to_thread(self._stop.wait)
        finally:
            await engine.dispose()


@pytest.fixture(scope="module")
def fuzz_target(dev_env: WorkflowEnvironment, database_url: str) -> Iterator[FuzzTarget]:
    """The app (its lifespan run by schemathesis's ASGI client), a worker, and an open case in
    the caller's territory for the action routes to act on."""
    task_queue = f"test-fuzz-{uuid.uuid4().hex}"
    app = create_app(
        api_settings(
            dev_env, database_url, task_queue, update_timeout_seconds=UPDATE_TIMEOUT_SECONDS
        )
    )
    auth = bearer("fuzz-supervisor", StaffRole.SUPERVISOR, ("berdsk",))
    register_token_staff(database_url, auth)
    address = dev_env.client.service_client.config.target_host
    with _WorkerThread(address, database_url, task_queue):
        try:
            with asgi.get_client(cast(Any, app)) as client:
                opened = client.post(
                    "/api/v1/cases",
                    headers=post_headers(auth),
                    json={
                        "source": "proactive",
                        "municipality": "berdsk",
                        "family": synthetic_family(),
                    },
                )
            assert opened.status_code == 201, opened.text
            yield FuzzTarget(app=app, auth=auth, case_id=opened.json()["case"]["case_id"])
        finally:
            asgi.shutdown_lifespans()


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=DEADLINE,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
)
def test_no_server_error_and_every_answer_as_documented(
    case: schemathesis.Case[Any], fuzz_target: FuzzTarget
) -> None:
    if case.method == "POST" and case.path_parameters and "case_id" in case.path_parameters:
        # A random id only ever meets 404 before its body is read: act on a real case instead.
        case.path_parameters["case_id"] = fuzz_target.case_id
    response = case.call(headers=fuzz_target.auth, app=fuzz_target.app)
    assert response.status_code < 500 or response.status_code == 503, (
        f"{response.status_code} {response.text}\n{case.as_curl_command()}"
    )
    case.validate_response(
        response,
        checks=[
            status_code_conformance,
            content_type_conformance,
            response_headers_conformance,
            response_schema_conformance,
        ],
    )


def test_the_fuzzed_case_still_answers(fuzz_target: FuzzTarget) -> None:
    """No input above left the case unable to answer (a failing workflow task or an activity
    that can never store what it was given leaves every later action at 503)."""
    with asgi.get_client(cast(Any, fuzz_target.app)) as client:
        response = client.post(
            f"/api/v1/cases/{fuzz_target.case_id}/contacts",
            headers=post_headers(fuzz_target.auth),
            json={"reached": False},
        )
    assert response.status_code in (200, 409), response.text
