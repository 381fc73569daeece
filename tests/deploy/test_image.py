"""The Dockerfile and .dockerignore, checked without Docker, and the worker's health check."""

import importlib.util
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.taskqueue.v1 import PollerInfo

from infra import probes
from infra.probes import polling_recently

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
HEALTHCHECK_SCRIPT = "deploy/worker_healthcheck.py"


def dockerignore_allowed() -> set[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return {line[1:].rstrip("/") for line in lines if line.startswith("!")}


def test_build_context_holds_every_package() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    included = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {pattern.rstrip("*") for pattern in included}
    assert packages <= dockerignore_allowed(), "a package the image needs is not let in"
    assert {"pyproject.toml", HEALTHCHECK_SCRIPT} <= dockerignore_allowed()


def test_image_is_slim_installs_without_extras_and_runs_unprivileged() -> None:
    assert "python:3.11-slim" in DOCKERFILE
    install = next(line for line in DOCKERFILE.splitlines() if "pip install" in line)
    assert install.rstrip().endswith("pip install .")  # no [test] or other extras
    stages = DOCKERFILE.split("\nFROM ")
    final_users = [line for line in stages[-1].splitlines() if line.startswith("USER ")]
    assert final_users, "the final stage runs as root"
    assert final_users[-1].split()[1] not in {"root", "0"}


def test_image_holds_the_worker_healthcheck_compose_runs() -> None:
    compose = (ROOT / "docker-compose.yml").read_text()
    target = "/opt/kurator/worker_healthcheck.py"
    assert f"COPY {HEALTHCHECK_SCRIPT} {target}" in DOCKERFILE
    assert f'"python", "{target}"' in compose


def poller(identity: str, seen: datetime) -> PollerInfo:
    last_access = Timestamp()
    last_access.FromDatetime(seen)
    return PollerInfo(identity=identity, last_access_time=last_access)


def test_worker_healthcheck_wants_a_fresh_poller_from_this_host() -> None:
    now = datetime.now(UTC)
    stale = now - timedelta(minutes=5)
    assert polling_recently([poller("7@abc123", now)], now, host="abc123")
    assert not polling_recently([], now, host="abc123")
    assert not polling_recently([poller("7@other", now)], now, host="abc123")
    assert not polling_recently([poller("7@abc123", stale)], now, host="abc123")
    assert not polling_recently([poller("7@xabc123", now)], now, host="abc123")
    assert polling_recently([poller("7@other", now)], now, host=None)


def test_worker_healthcheck_asks_the_probe_health_asks() -> None:
    spec = importlib.util.spec_from_file_location("worker_healthcheck", ROOT / HEALTHCHECK_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.probe_worker is probes.probe_worker
