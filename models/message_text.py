"""What a notification says: Russian text from template files the region can edit.

Each template is a `string.Template` file: its first line is the subject, the rest the body.
A directory of the region's own (KURATOR_TEMPLATES_DIR) replaces the shipped files one by one;
a file it lacks keeps the shipped text. Templates are checked when loaded: an unknown
placeholder stops the process at start instead of failing a delivery later.

The values are codes, dates, case numbers, territory names and links: never a family's data,
which this module is never given.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from string import Template
from uuid import UUID

from models.payloads.vocabulary import NotificationKind
from models.policy.codes import DeadlineCode
from models.policy.loader import load_policy
from models.territory import MUNICIPALITY_CODES, by_code

DIGEST = "digest"
_NOTICE_FIELDS = frozenset(
    {"case_number", "code", "deadline_title", "deadline", "due_at", "municipality", "link"}
)
_DIGEST_FIELDS = frozenset(
    {
        "day",
        "generated_at",
        "territory",
        "overdue_count",
        "overdue_list",
        "escalated_count",
        "escalated_list",
        "approvals_count",
        "approvals_list",
    }
)
FIELDS: Mapping[str, frozenset[str]] = {
    **{kind.value: _NOTICE_FIELDS for kind in NotificationKind},
    DIGEST: _DIGEST_FIELDS,
}
# The oblast's local time (UTC+7), in which staff read every date.
LOCAL = timezone(timedelta(hours=7))


class TemplateError(Exception):
    """A template file is unreadable or names a placeholder it cannot have; says which."""


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class DigestLine:
    case_number: str
    code: DeadlineCode | None
    due_at: datetime | None
    link: str


@dataclass(frozen=True, slots=True)
class DigestContent:
    day: date
    generated_at: datetime
    municipalities: Sequence[str]  # codes; None-like empty for the whole oblast
    overdue: Sequence[DigestLine]
    escalated: Sequence[DigestLine]
    approvals: Sequence[DigestLine]

    def is_empty(self) -> bool:
        return not (self.overdue or self.escalated or self.approvals)


def case_label(case_id: UUID, case_number: str | None) -> str:
    """The case's readable number when it has one, else its id's first eight digits."""
    return case_number or f"№{str(case_id)[:8]}"


def case_link(base_url: str, case_id: UUID) -> str:
    return f"{base_url.rstrip('/')}/{case_id}"


def resource_link(case_base_url: str, provider_id: UUID) -> str:
    """A resource-map entry's link, beside the cases' (…/api/v1/cases → …/api/v1/resources)."""
    base = case_base_url.rstrip("/").removesuffix("/cases")
    return f"{base}/resources/{provider_id}"


def local_time(moment: datetime | None) -> str:
    if moment is None:
        return "не установлен"
    return moment.astimezone(LOCAL).strftime("%d.%m.%Y %H:%M") + " (время НСО)"


def municipality_name(code: str) -> str:
    return by_code(code).name_ru if code in MUNICIPALITY_CODES else code


class MessageTemplates:
    """The loaded, checked templates, one per notification kind and the digest."""

    def __init__(self, templates: Mapping[str, Template]) -> None:
        self._templates = dict(templates)
        self._titles = {code: d.title_ru for code, d in load_policy("default").deadlines.items()}

    @classmethod
    def load(cls, directory: Path | None = None) -> "MessageTemplates":
        shipped = resources.files("models.templates")
        templates: dict[str, Template] = {}
        for name, allowed in FIELDS.items():
            own = None if directory is None else directory / f"{name}.txt"
            try:
                if own is not None and own.is_file():
                    text, where = own.read_text(encoding="utf-8"), str(own)
                else:
                    text, where = (shipped / f"{name}.txt").read_text(encoding="utf-8"), name
            except (OSError, UnicodeDecodeError) as error:
                raise TemplateError(f"template {name}.txt: {error}") from None
            templates[name] = _checked(Template(text), allowed, where)
        return cls(templates)

    def notice(
        self,
        *,
        kind: NotificationKind,
        case_number: str,
        code: DeadlineCode | None,
        due_at: datetime | None,
        municipality: str,
        link: str,
    ) -> RenderedMessage:
        values = {
            "case_number": case_number,
            "code": code.value if code is not None else "—",
            "deadline_title": self._titles.get(code, "") if code is not None else "",
            # The code and its title, or a dash when the message has no deadline of its own.
            "deadline": f"{code.value} — {self._titles.get(code, '')}" if code else "—",
            "due_at": local_time(due_at),
            "municipality": municipality_name(municipality),
            "link": link,
        }
        return _split(self._templates[kind.value].substitute(values))

    def digest(self, content: DigestContent) -> RenderedMessage:
        values = {
            "day": content.day.strftime("%d.%m.%Y"),
            "generated_at": local_time(content.generated_at),
            "territory": ", ".join(municipality_name(m) for m in content.municipalities)
            or "вся область",
            "overdue_count": str(len(content.overdue)),
            "overdue_list": self._lines(content.overdue),
            "escalated_count": str(len(content.escalated)),
            "escalated_list": self._lines(content.escalated),
            "approvals_count": str(len(content.approvals)),
            "approvals_list": self._lines(content.approvals),
        }
        return _split(self._templates[DIGEST].substitute(values))

    def _lines(self, lines: Iterable[DigestLine]) -> str:
        rendered = [
            f"  • {line.case_number}"
            + (f" — {line.code.value} {self._titles.get(line.code, '')}" if line.code else "")
            + (f", срок {local_time(line.due_at)}" if line.due_at else "")
            + f"\n    {line.link}"
            for line in lines
        ]
        return "\n".join(rendered) or "  нет"


def _checked(template: Template, allowed: frozenset[str], where: str) -> Template:
    if not template.is_valid():
        raise TemplateError(f"template {where}: a `$` that is not a placeholder (write `$$`)")
    unknown = sorted(set(template.get_identifiers()) - allowed)
    if unknown:
        raise TemplateError(
            f"template {where}: unknown placeholder ${unknown[0]}; "
            f"allowed: {', '.join('$' + name for name in sorted(allowed))}"
        )
    subject, _, body = template.template.partition("\n")
    if not subject.strip() or not body.strip():
        raise TemplateError(f"template {where}: the first line is the subject, then the body")
    return template


def _split(text: str) -> RenderedMessage:
    subject, _, body = text.partition("\n")
    return RenderedMessage(subject=subject.strip()[:300], body=body.lstrip("\n"))
