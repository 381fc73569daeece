"""The Temporal Web UI of `kurator dev` in a real (headless) browser: a supervisor of the
family's municipality, signed in to the codec server, reads a case's comment in the event
history; a supervisor of another municipality sees the same payload sealed. Every read is in
the family's access log, and none of the other's.

The UI's per-browser codec settings (endpoint, "Include cross-origin credentials") are set
in its local storage, as its Codec Server dialog stores them; the sign-in goes through the
sign-in page as a person would (the token in the URL's fragment).
"""

import contextlib
import json
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest

from api.auth import issue_token
from models.payloads.vocabulary import StaffRole
from tests.support.browser import Browser, BrowserError, chromium_binary
from tests.support.devstack import RunningDev, start_dev
from workers.devstack.embedded_postgres import EmbeddedPostgres
from workers.devstack.secrets import stored_dev_secret

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(chromium_binary() is None, reason="needs chromium (apt-get install)"),
]

# In the UI, the sealed envelope's metadata key, shown only when the payload stays sealed.
SEALED_MARK = "kurator-key-id"


def _token(dev: RunningDev, staff_id: str, role: StaffRole, municipality: str) -> str:
    secret = stored_dev_secret(dev.data_dir, "KURATOR_JWT_SECRET")
    assert secret is not None
    return issue_token(
        secret=secret.encode(), staff_id=staff_id, role=role, municipalities=[municipality]
    )


def _open_case(dev: RunningDev, comment: str) -> tuple[str, str]:
    specialist = _token(dev, "staff-101", StaffRole.SPECIALIST, "berdsk")
    response = httpx.post(
        f"{dev.api}/api/v1/cases",
        headers={"Authorization": f"Bearer {specialist}", "Idempotency-Key": uuid.uuid4().hex},
        json={
            "source": "self_request",
            "municipality": "berdsk",
            "family": {
                "registry_id": f"TEST-{uuid.uuid4().hex[:12]}",
                "members": [
                    {"role": "parent", "full_name": "Тестова Анна", "birth_date": "1990-04-01"},
                    {"role": "child", "full_name": "Тестов Иван", "birth_date": "2016-09-15"},
                ],
            },
            "comment": comment,
        },
        timeout=30,
    )
    assert response.status_code == 201, response.text
    case = response.json()["case"]
    return case["workflow_id"], case["first_run_id"]


def _update_event_text(
    dev: RunningDev, token: str, workflow_id: str, run_id: str, *, expected: str
) -> str:
    """What the UI shows of the case's first update (the intake's signal, event 5), once it
    shows `expected`."""
    ui = f"http://127.0.0.1:{dev.ui_port}"
    with Browser() as browser:
        browser.goto(f"{dev.api}/api/v1/codec/sign-in#token={token}")
        state = browser.wait_for("document.getElementById('result').dataset.state")
        assert state == "signed-in", browser.text()
        browser.goto(f"{ui}/")
        endpoint = f"{dev.api}/api/v1/codec"
        browser.evaluate(
            f"localStorage.setItem('endpoint', JSON.stringify('{endpoint}'));"
            "localStorage.setItem('includeCredentials', 'true');"
            "localStorage.setItem('overrideRemoteCodecConfiguration', 'true');"
        )
        browser.goto(f"{ui}/namespaces/default/workflows/{workflow_id}/{run_id}/history/events/5")
        # Not there in time: the caller's assertions then show what the page holds instead.
        with contextlib.suppress(BrowserError):
            browser.wait_for(f"document.body.innerText.includes({json.dumps(expected)})", within=40)
        return browser.text()


def _codec_reads(dev: RunningDev, staff_id: str) -> int:
    url = EmbeddedPostgres(dev.data_dir / "postgres").url("kurator")
    with psycopg.connect(url) as connection:
        row = connection.execute(
            "SELECT count(*) FROM family_access_log WHERE staff_id = %s AND what = 'codec_decode'",
            (staff_id,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_the_ui_shows_a_case_decoded_to_its_supervisor_and_sealed_to_another(
    tmp_path: Path,
) -> None:
    dev = start_dev(tmp_path / "data")
    try:
        dev.wait_healthy()
        settings = httpx.get(f"http://127.0.0.1:{dev.ui_port}/api/v1/settings", timeout=10)
        assert settings.json()["Codec"]["Endpoint"] == f"{dev.api}/api/v1/codec"
        comment = f"Синтетический комментарий {uuid.uuid4().hex[:8]}"
        workflow_id, run_id = _open_case(dev, comment)

        own = _token(dev, "staff-201", StaffRole.SUPERVISOR, "berdsk")
        shown = _update_event_text(dev, own, workflow_id, run_id, expected=comment)
        assert comment in shown
        assert SEALED_MARK not in shown

        other = _token(dev, "staff-202", StaffRole.SUPERVISOR, "iskitim")
        shown = _update_event_text(dev, other, workflow_id, run_id, expected=SEALED_MARK)
        assert SEALED_MARK in shown
        assert comment not in shown

        assert _codec_reads(dev, "staff-201") >= 1
        assert _codec_reads(dev, "staff-202") == 0
    finally:
        if dev.process.poll() is None:
            assert dev.interrupt() == 0
    assert f"{dev.api}/api/v1/codec/sign-in" in dev.output()  # "Kurator is up" says how
