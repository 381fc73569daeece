"""`kurator dev` catches the dispatcher's e-mails: while `kurator demo` runs, its escalations
arrive in the catcher's Maildir, in Russian, without a word of the families' data."""

import email
import os
import subprocess
import sys
import time
from email.policy import default as default_policy
from pathlib import Path

import pytest

from infra.delivery.digest_schedule import DIGEST_SCHEDULE_ID
from tests.support.devstack import start_dev
from workers.demo.scenarios import _FEMALE, _MALE, _SURNAMES
from workers.devstack.temporal_dev import find_binary

pytestmark = pytest.mark.slow


def _mails(maildir: Path) -> list[email.message.EmailMessage]:
    new = maildir / "new"
    if not new.is_dir():
        return []
    return [
        email.message_from_bytes(path.read_bytes(), policy=default_policy)
        for path in sorted(new.iterdir())
    ]


def _wait_for(maildir: Path, subject: str) -> list[email.message.EmailMessage]:
    deadline = time.monotonic() + 60
    while True:
        mails = _mails(maildir)
        if any(m["Subject"].startswith(subject) for m in mails) or time.monotonic() > deadline:
            return mails
        time.sleep(1)


def test_demo_escalations_arrive_in_the_dev_mail_catcher(tmp_path: Path) -> None:
    dev = start_dev(tmp_path / "data")
    try:
        dev.wait_healthy()
        env = {k: v for k, v in os.environ.items() if not k.startswith("KURATOR_")}
        env.update(KURATOR_DATA_DIR=str(dev.data_dir), COLUMNS="200")
        command = [sys.executable, "-m", "workers.cli", "demo", "--api", dev.api]
        demo = subprocess.run(
            [*command, "--families", "6", "--seed", "7", "--settle", "0"],
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
        assert demo.returncode == 0, demo.stderr
        maildir = dev.data_dir / "mail"
        mails = _wait_for(maildir, "Просрочено")
        # The daily digest, now rather than at 08:00, as the README shows a newcomer.
        trigger = [find_binary("temporal"), "schedule", "trigger", "--schedule-id"]
        subprocess.run(
            [*trigger, DIGEST_SCHEDULE_ID, "--address", f"127.0.0.1:{dev.temporal_port}"],
            check=True,
            capture_output=True,
            timeout=30,
        )
        mails = _wait_for(maildir, "Сводка за")
    finally:
        if dev.process.poll() is None:
            dev.interrupt()
    logged = dev.output()
    assert f"kept in {maildir}/new/" in logged
    overdue = [m for m in mails if m["Subject"].startswith("Просрочено")]
    assert overdue, [m["Subject"] for m in mails]
    digests = [m for m in mails if m["Subject"].startswith("Сводка за")]
    assert digests, [m["Subject"] for m in mails]
    assert all("Стали просроченными:" in m.get_body(("plain",)).get_content() for m in digests)  # type: ignore[union-attr]
    assert all(m["To"].endswith("@example.org") for m in mails)
    texts = [str(m["Subject"]) + m.get_body(("plain",)).get_content() for m in mails]  # type: ignore[union-attr]
    assert all("Здравствуйте!" in text for text in texts)
    assert all(f"{dev.api}/api/v1/cases/" in text for text in texts)
    family_words = {n for pair in _SURNAMES for n in pair} | set(_MALE) | set(_FEMALE)
    for text in texts:
        assert "DEMO-" not in text
        assert not [word for word in family_words if word in text]
