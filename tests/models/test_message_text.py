"""What messages say: the shipped Russian templates, a region's own files replacing them one
by one, and templates checked when loaded (a wrong one stops `kurator dispatch` at start)."""

import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from infra.delivery.fan_out import render_notice
from models.message_text import MessageTemplates, RenderedMessage, TemplateError, case_label
from models.payloads.vocabulary import NotificationKind
from models.policy.codes import DeadlineCode
from models.tables.notification import Notification

CASE = uuid.UUID("5b0c7d9e-1111-4222-8333-944455556666")
DUE = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # 2 December, 00:00 in Novosibirsk
ROOT = Path(__file__).resolve().parents[2]


def _notice(
    templates: MessageTemplates, kind: NotificationKind, number: str | None = None
) -> RenderedMessage:
    return templates.notice(
        kind=kind,
        case_number=case_label(CASE, number),
        code=DeadlineCode.T3,
        due_at=DUE,
        municipality="iskitim_district",
        link=f"https://kurator.example/api/v1/cases/{CASE}",
    )


@pytest.mark.parametrize("kind", list(NotificationKind))
def test_every_kind_has_a_russian_message_with_codes_date_number_and_link(
    kind: NotificationKind,
) -> None:
    message = _notice(MessageTemplates.load(), kind)
    assert "№5b0c7d9e" in message.subject
    assert "$" not in message.subject + message.body
    assert message.body.startswith("Здравствуйте!")
    assert "Искитимский район" in message.body
    assert f"https://kurator.example/api/v1/cases/{CASE}" in message.body
    # An alert and a resource-map entry's review have no deadline of a case to name.
    if kind not in (NotificationKind.CHILD_SAFETY_ALERT, NotificationKind.RESOURCE_REVIEW_DUE):
        assert "T3" in message.body
        assert "02.12.2026 00:00 (время НСО)" in message.body


def test_an_approval_without_a_deadline_says_so() -> None:
    message = MessageTemplates.load().notice(
        kind=NotificationKind.APPROVAL_REQUESTED,
        case_number="БРД-2026-00042",
        code=None,
        due_at=None,
        municipality="berdsk",
        link="https://kurator.example/api/v1/cases/x",
    )
    assert message.subject == "Требуется ваше решение по случаю БРД-2026-00042"
    assert "Срок: —\n" in message.body
    assert "Решение нужно до: не установлен" in message.body


def test_the_case_number_is_used_when_the_case_has_one() -> None:
    message = _notice(MessageTemplates.load(), NotificationKind.OVERDUE, "ИСК-2026-00042")
    assert message.subject == "Просрочено: T3 по случаю ИСК-2026-00042"
    assert "№5b0c7d9e" not in message.body


def test_a_regions_file_replaces_the_shipped_one_and_the_rest_stay(tmp_path: Path) -> None:
    (tmp_path / "overdue.txt").write_text(
        "Срок $code пропущен ($case_number)\nКоллеги, $deadline_title: $link\n", encoding="utf-8"
    )
    templates = MessageTemplates.load(tmp_path)
    overdue = _notice(templates, NotificationKind.OVERDUE)
    assert overdue.subject == "Срок T3 пропущен (№5b0c7d9e)"
    assert overdue.body.startswith("Коллеги, Индивидуальная программа")
    assert _notice(templates, NotificationKind.ESCALATION).subject.startswith("Эскалация: T3")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Тема $family_name\nтекст\n", "unknown placeholder $family_name"),
        ("Тема\nстоит 100 $\n", "a `$` that is not a placeholder"),
        ("только тема\n", "the first line is the subject, then the body"),
    ],
)
def test_a_wrong_template_is_refused_naming_its_file(
    tmp_path: Path, text: str, problem: str
) -> None:
    (tmp_path / "reminder.txt").write_text(text, encoding="utf-8")
    with pytest.raises(TemplateError) as refused:
        MessageTemplates.load(tmp_path)
    assert str(tmp_path / "reminder.txt") in str(refused.value)
    assert problem in str(refused.value)


def test_dispatch_stops_at_start_on_a_wrong_template(tmp_path: Path) -> None:
    (tmp_path / "digest.txt").write_text("Сводка $registry_id\nтекст\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KURATOR_")}
    env.update(
        KURATOR_DATABASE_URL="postgresql://nobody@127.0.0.1:9/none",
        KURATOR_TEMPLATES_DIR=str(tmp_path),
        KURATOR_LOG_FORMAT="json",
    )
    done = subprocess.run(
        [sys.executable, "-m", "workers.cli", "dispatch"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "KURATOR_TEMPLATES_DIR" in done.stderr + done.stdout
    assert "unknown placeholder $registry_id" in done.stderr + done.stdout


def test_a_resource_review_links_the_map_entry_not_a_case() -> None:
    """The resource map's review flags use the outbox with the entry's id as `case_id`."""
    note = Notification(
        case_id=CASE,
        event_seq=3,
        recipient="head",
        recipient_is_role=True,
        municipality="berdsk",
        kind=NotificationKind.RESOURCE_REVIEW_DUE.value,
        message="resource map entry not confirmed within its review period",
    )
    message = render_notice(
        MessageTemplates.load(), note, None, "https://kurator.example/api/v1/cases"
    )
    assert message.subject == "Карта ресурсов: подтвердите запись №5b0c7d9e (город Бердск)"
    assert f"https://kurator.example/api/v1/resources/{CASE}" in message.body
    assert "/cases/" not in message.body
