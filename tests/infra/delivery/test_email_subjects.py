"""Every message's subject and body arrive as written, through a real SMTP server: long
Cyrillic subjects are folded into several encoded words, and no space may be lost at a fold
(the modern `email` API lost it: "решениепо случаю")."""

from pathlib import Path
from string import Template

import pytest

from infra.delivery.channels import EmailChannel, OutgoingMessage, SmtpConfig
from workers.devstack.mail_catcher import MailCatcher

TEMPLATES = sorted((Path(__file__).parents[3] / "models" / "templates").glob("*.txt"))
TEXTS = {path.stem: path.read_text(encoding="utf-8") for path in TEMPLATES}
# Values as long as real ones get: the longest territory name, a five-digit case number.
SAMPLE = {
    "case_number": "КЧК-2026-00042",
    "municipality": "Коченёвский муниципальный район",
    "code": "T10",
    "day": "02.12.2026",
    "overdue": "12",
    "escalated": "3",
    "awaiting": "4",
    "rung": "2",
}


@pytest.mark.parametrize("name", sorted(TEXTS))
async def test_a_subject_and_body_arrive_exactly_as_rendered(
    catcher: MailCatcher, name: str
) -> None:
    subject, _, body = TEXTS[name].partition("\n")
    subject = Template(subject).safe_substitute(SAMPLE) + " — с длинным хвостом для переноса"
    body = Template(body).safe_substitute(SAMPLE)
    channel = EmailChannel(
        SmtpConfig(host=catcher.host, port=catcher.port, starttls=False, timeout_seconds=10)
    )
    message = OutgoingMessage(f"subject-{name}.sup-1.email", "sup-1@example.org", subject, body)

    await channel.send(message)

    [caught] = catcher.messages
    assert len(subject) > 60  # long enough to be folded
    assert caught.subject == subject
    assert caught.body.strip() == body.strip()
