"""`kurator demo` against a real `kurator dev`: it drives cases through the API into every
stage, its undone steps turn overdue, and a second run adds families beside the first."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.auth import issue_token
from models.case_numbers import is_case_number
from models.payloads.vocabulary import StaffRole, Stage
from tests.support.devstack import RunningDev, start_dev

pytestmark = pytest.mark.slow

# Where the demo's first ten scripts leave their cases (an L3 case may reach review by then).
EXPECTED_STAGES = set(Stage) - {Stage.REVIEW}


def _demo(dev: RunningDev, families: int) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KURATOR_")}
    env.update(
        KURATOR_DATA_DIR=str(dev.data_dir),
        KURATOR_TEMPORAL_PORT=str(dev.temporal_port),
        KURATOR_TEMPORAL_UI_PORT=str(dev.ui_port),
        COLUMNS="200",
    )
    command = [sys.executable, "-m", "workers.cli", "demo", "--api", dev.api]
    return subprocess.run(
        [*command, "--families", str(families), "--seed", "7", "--settle", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _cases(dev: RunningDev) -> list[dict[str, Any]]:
    secret = json.loads((dev.data_dir / "dev-secrets.json").read_text())["KURATOR_JWT_SECRET"]
    token = issue_token(
        secret=secret.encode(), staff_id="staff-701", role=StaffRole.MINISTRY, municipalities=[]
    )
    response = httpx.get(
        f"{dev.api}/api/v1/cases",
        params={"limit": 200},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    response.raise_for_status()
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_demo_drives_cases_into_every_stage_and_overdue(tmp_path: Path) -> None:
    dev = start_dev(tmp_path / "data")
    try:
        dev.wait_healthy()
        first = _demo(dev, 10)
        assert first.returncode == 0, first.stderr
        assert "Demo cases by stage" in first.stdout
        assert "Overdue = true" in first.stdout

        cases = _cases(dev)
        assert len(cases) == 10
        assert {case["stage"] for case in cases} >= EXPECTED_STAGES
        assert {case["policy_version"] for case in cases} == {"compressed-2"}
        assert {"berdsk", "iskitim_district"} & {case["municipality"] for case in cases}
        numbers = [case["case_number"] for case in cases]
        assert all(is_case_number(number) for number in numbers), numbers
        assert len(set(numbers)) == len(numbers)
        assert "Case numbers " in first.stdout

        # T1 of the family left without a first contact is due 10 s after its signal.
        deadline = time.monotonic() + 30
        while not any(case["overdue"] for case in cases) and time.monotonic() < deadline:
            time.sleep(1)
            cases = _cases(dev)
        overdue = [case for case in cases if case["overdue"]]
        assert overdue, "no case turned overdue within 30 s"
        assert all(case["stage"] != Stage.CLOSED for case in overdue)

        again = _demo(dev, 2)
        assert again.returncode == 0, again.stderr
        after = {case["case_id"]: case for case in _cases(dev)}
        assert len(after) == 12, "a second run adds new families"
        assert {case["case_id"] for case in cases} <= set(after)
    finally:
        if dev.process.poll() is None:
            assert dev.interrupt() == 0, dev.output()
