"""`kurator dev`: the whole stack up, healthy, stopped cleanly, and its data kept."""

import asyncio
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import psutil
import psycopg
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from infra.audit.anchor_keys import read_verifying_key
from infra.audit.anchor_log import replay_file
from infra.sealing.converter import sealing_data_converter
from infra.sealing.family_keys import FamilyKeyStore
from infra.sealing.master_keys import read_key_file
from models.db import make_async_engine, make_session_factory
from tests.support.cases import open_case
from tests.support.devstack import RunningDev, start_dev
from workers.devstack.embedded_postgres import EmbeddedPostgres
from workers.devstack.secrets import AUDIT_SIGNING_KEY_FILE, MASTER_KEY_FILE
from workers.devstack.stack import DEV_ANCHOR_LOG
from workers.devstack.temporal_dev import find_binary
from workflows.search_attributes import ALL_SEARCH_ATTRIBUTES

pytestmark = pytest.mark.slow


def _stop_and_check_nothing_is_left(dev: RunningDev) -> None:
    children = dev.descendants()
    assert {child.name() for child in children} >= {"temporal"}, "expected the dev server"
    assert dev.interrupt() == 0, dev.output()
    _gone, alive = psutil.wait_procs(children, timeout=10)
    assert alive == [], f"left behind: {alive}"
    postgres = EmbeddedPostgres(dev.data_dir / "postgres")
    assert not postgres.is_running(), "PostgreSQL still runs"
    assert not (dev.data_dir / "postgres" / "postmaster.pid").exists(), "PostgreSQL still runs"
    assert (dev.data_dir / "postgres" / "PG_VERSION").is_file(), "the cluster is not back home"
    assert postgres.runtime_dir is None or not postgres.runtime_dir.exists(), "runtime dir left"


def _case_rows(dev: RunningDev, case_id: str) -> int:
    # As root the cluster may run from a runtime directory (embedded_postgres); it knows where.
    url = EmbeddedPostgres(dev.data_dir / "postgres").url("kurator")
    with psycopg.connect(url) as connection:
        row = connection.execute(
            "SELECT count(*) FROM case_events WHERE case_id = %s", (case_id,)
        ).fetchone()
    assert row is not None
    return int(row[0])


@asynccontextmanager
async def _stack_client(dev: RunningDev, temporal_address: str) -> AsyncIterator[Client]:
    """A client sealing payloads as the stack does: its database's data keys, under the master
    key `kurator dev` generated in its data directory."""
    engine = make_async_engine(EmbeddedPostgres(dev.data_dir / "postgres").url("kurator"))
    try:
        keys = FamilyKeyStore(
            make_session_factory(engine), read_key_file(dev.data_dir / MASTER_KEY_FILE)
        )
        yield await Client.connect(temporal_address, data_converter=sealing_data_converter(keys))
    finally:
        await engine.dispose()


async def _start_case(dev: RunningDev, temporal_address: str) -> tuple[str, str]:
    """Open a case on the stack's own worker; its workflow id and case id."""
    async with _stack_client(dev, temporal_address) as client:
        # The default policy: no deadline of this case falls due while the test runs, so its
        # history holds exactly the signal.
        handle, outcome = await open_case(client, "kurator-cases", policy="default")
    return handle.id, str(outcome.view.case_id)


async def _finish_case(dev: RunningDev, temporal_address: str, workflow_id: str) -> None:
    """The case survived the restart (describe fails for an unknown id); then end it."""
    async with _stack_client(dev, temporal_address) as client:
        handle = client.get_workflow_handle(workflow_id)
        await handle.describe()
        await handle.terminate("test finished")


def _wait_for_rows(dev: RunningDev, case_id: str, expected: int) -> int:
    deadline = time.monotonic() + 20
    while (rows := _case_rows(dev, case_id)) != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    return rows


def _anchors_written(dev: RunningDev) -> int:
    """The worker's schedule anchors at once when it creates the schedule."""
    key = read_verifying_key(dev.data_dir / AUDIT_SIGNING_KEY_FILE)
    deadline = time.monotonic() + 20
    while True:
        replay = replay_file(dev.data_dir / DEV_ANCHOR_LOG, key)
        assert replay.problem is None, replay.problem
        if replay.anchors or time.monotonic() > deadline:
            return replay.anchors
        time.sleep(0.2)


def test_dev_starts_everything_stops_cleanly_and_keeps_data(tmp_path: Path) -> None:
    dev = start_dev(tmp_path / "data")
    try:
        assert dev.wait_healthy() < 60
        assert httpx.get(f"http://127.0.0.1:{dev.ui_port}/", timeout=10).status_code == 200
        listed = subprocess.run(
            [
                find_binary("temporal"),
                "operator",
                "search-attribute",
                "list",
                "--address",
                f"127.0.0.1:{dev.temporal_port}",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout
        for key in ALL_SEARCH_ATTRIBUTES:
            assert key.name in listed
        workflow_id, case_id = asyncio.run(_start_case(dev, f"127.0.0.1:{dev.temporal_port}"))
        assert _wait_for_rows(dev, case_id, 1) == 1
        assert _anchors_written(dev) >= 1
        worker_metrics = f"http://127.0.0.1:{dev.worker_metrics_port}/metrics"
        api_metrics = f"http://127.0.0.1:{dev.api_metrics_port}/metrics"
        assert "temporal_num_pollers" in httpx.get(worker_metrics, timeout=10).text
        api_text = httpx.get(api_metrics, timeout=10).text
        assert 'kurator_api_requests_total{method="GET",route="/health",status="200"}' in api_text
    finally:
        if dev.process.poll() is None:
            _stop_and_check_nothing_is_left(dev)
    logged = dev.output()
    assert worker_metrics in logged, "kurator dev did not say where the worker's metrics are"
    assert api_metrics in logged, "kurator dev did not say where the API's metrics are"

    again = start_dev(dev.data_dir)
    try:
        again.wait_healthy()
        asyncio.run(_finish_case(again, f"127.0.0.1:{again.temporal_port}", workflow_id))
        assert _case_rows(again, case_id) == 1
    finally:
        if again.process.poll() is None:
            _stop_and_check_nothing_is_left(again)


def test_taken_port_is_named_and_nothing_starts(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        dev = start_dev(tmp_path / "data", KURATOR_API_PORT=str(port))
        status = dev.process.wait(timeout=60)
    assert status == 1
    output = dev.output()
    assert f"API: port {port} on 127.0.0.1 is not free" in output
    assert "KURATOR_API_PORT" in output
    assert not (tmp_path / "data" / "postgres").exists()


def test_failing_component_is_named_and_the_rest_is_stopped(tmp_path: Path) -> None:
    dev = start_dev(
        tmp_path / "data",
        KURATOR_DATABASE_URL="postgresql://postgres@/kurator?host=/nonexistent-socket-dir",
    )
    status = dev.process.wait(timeout=60)
    assert status == 1
    assert "PostgreSQL migrations" in dev.output()
    assert not (tmp_path / "data" / "temporal.sqlite").exists()


def test_uses_given_servers_instead_of_embedded_ones(
    tmp_path: Path, empty_database_url: str, dev_env: WorkflowEnvironment
) -> None:
    address = dev_env.client.service_client.config.target_host
    # A database of its own (the stack migrates it), and a task queue of its own on the
    # shared dev server: its worker must neither take other tests' tasks nor leave data keys
    # wrapped by a master key the other tests do not hold.
    dev = start_dev(
        tmp_path / "data",
        KURATOR_DATABASE_URL=empty_database_url,
        KURATOR_TEMPORAL_ADDRESS=address,
        KURATOR_TASK_QUEUE=f"dev-given-servers-{uuid.uuid4().hex[:8]}",
    )
    try:
        dev.wait_healthy()
        names = {child.name() for child in dev.descendants()}
    finally:
        status = dev.interrupt()
    assert status == 0, dev.output()
    assert "temporal" not in names
    assert not (tmp_path / "data" / "postgres").exists()
    assert not (tmp_path / "data" / "temporal.sqlite").exists()
