"""`kurator bench generate --dev` fills the database `kurator dev` serves: generated while the
stack is stopped, its cases are read through the stack's API (sealed with the stack's master
key); run again beside the running stack, it uses the stack's server, refuses the filled
database and leaves the stack running."""

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from api.auth import issue_token
from models.payloads.vocabulary import StaffRole
from tests.support.devstack import RunningDev, start_dev
from workers.devstack.embedded_postgres import EmbeddedPostgres
from workers.devstack.secrets import stored_dev_secret

CASES = 40


def _generate(data_dir: Path, cases: int, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KURATOR_")}
    env.update(KURATOR_DATA_DIR=str(data_dir), **settings)
    command = [sys.executable, "-m", "workers.cli", "bench", "generate", "--dev"]
    return subprocess.run(
        [*command, "--cases", str(cases), "--jobs", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _ministry(dev: RunningDev) -> dict[str, str]:
    secret = stored_dev_secret(dev.data_dir, "KURATOR_JWT_SECRET")
    assert secret is not None
    token = issue_token(
        secret=secret.encode(), staff_id="staff-701", role=StaffRole.MINISTRY, municipalities=[]
    )
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.slow
def test_a_generated_oblast_is_served_by_kurator_dev(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    made = _generate(data_dir, CASES)
    assert made.returncode == 0, made.stderr
    assert f"{CASES} cases" in made.stdout
    postgres = EmbeddedPostgres(data_dir / "postgres")
    assert not postgres.is_running(), "the generator left the server it started running"

    dev = start_dev(data_dir)
    try:
        dev.wait_healthy()
        auth = _ministry(dev)
        page = httpx.get(f"{dev.api}/api/v1/cases", params={"limit": 200}, headers=auth)
        assert page.status_code == 200, page.text
        assert page.json()["total"] == CASES
        case_id = page.json()["items"][0]["case_id"]
        events = httpx.get(
            f"{dev.api}/api/v1/cases/{case_id}/events", headers={**auth, "X-Purpose": "audit"}
        )
        # Opened with the stack's master key: a key of another would fail the read.
        assert events.status_code == 200, events.text
        seqs = [event["seq"] for event in events.json()]
        assert seqs == list(range(1, len(seqs) + 1))
        assert len(seqs) > 1

        # Beside the running stack: its server, already filled, so refused; the stack runs on.
        again = _generate(data_dir, 5)
        assert again.returncode == 1, again.stdout
        assert "refused" in again.stderr
        assert postgres.is_running()
        assert httpx.get(f"{dev.api}/health", timeout=10).status_code == 200
        page = httpx.get(f"{dev.api}/api/v1/cases", params={"limit": 1}, headers=auth)
        assert page.json()["total"] == CASES
    finally:
        if dev.process.poll() is None:
            assert dev.interrupt() == 0, dev.output()


def test_dev_with_a_database_of_ones_own_is_refused(tmp_path: Path) -> None:
    """With KURATOR_DATABASE_URL set, `kurator dev` serves that server, not its own."""
    url = "postgresql+psycopg://nobody@127.0.0.1:1/kurator"
    refused = _generate(tmp_path / "data", 5, KURATOR_DATABASE_URL=url)
    assert refused.returncode == 2
    assert "KURATOR_DATABASE_URL is set" in refused.stderr
    assert not (tmp_path / "data").exists()  # nothing made
