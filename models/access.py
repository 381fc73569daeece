"""What a staff member accessed of a family (`AccessedData`) and why (`Purpose`).

Why a staff member reads a family's personal data or a case's history: the `X-Purpose` the
caller sends, parsed into a code from a short list and an optional note (PRODUCT.md §5).

Grammar (the header's value, at most `MAX_PURPOSE_LENGTH` characters once decoded):

    purpose = code [ ":" note ]
    code    = one of `AccessPurpose`'s values, e.g. "audit"
    note    = free text, 1..`MAX_NOTE_LENGTH` characters, no control characters

Spaces around the colon and the note are ignored. HTTP header values are bytes, so a note in
Russian is sent either as UTF-8 (curl sends it so) or percent-encoded UTF-8 (what a browser or
httpx must send), e.g. `audit: %D0%BF%D0%BB%D0%B0%D0%BD%D0%BE%D0%B2%D0%B0%D1%8F` for "плановая".
Pure: no I/O, so the API, the CLI and tests share it.
"""

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import unquote

MAX_NOTE_LENGTH = 150
MAX_PURPOSE_LENGTH = 200  # the access log's `purpose` column
# The raw header, before decoding: a percent-encoded note takes up to 9 bytes per character.
MAX_HEADER_LENGTH = 2000

_SYNTAX = re.compile(r"^\s*(?P<code>[a-z_]+)\s*(?::\s*(?P<note>.*?))?\s*$", re.DOTALL)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class AccessedData(StrEnum):
    """What an access log row is about. Stored verbatim in the access log: never rename."""

    FAMILY_RECORD = "family_record"  # the family's record (names, birth dates, address...)
    CASE_HISTORY = "case_history"  # a case's events, with their free-text reasons
    CODEC_DECODE = "codec_decode"  # a Temporal payload decoded for the Web UI or the CLI
    ACCESS_LOG = "access_log"  # the access log itself: who read what of the family
    FAMILY_DATA = "family_data"  # all of the family's data at once (an erasure)
    AUDIT_HISTORY = "audit_history"  # a case's history with its chain, for the audit
    AUDIT_STATE = "audit_state"  # a case's state at a moment, rebuilt from its history
    AUDIT_EXPORT = "audit_export"  # a case's events in an audit export
    SOCIAL_CONTRACT = "social_contract"  # a social contract's state, the income after included


class AccessPurpose(StrEnum):
    """The purposes an access may have. Stored verbatim in the access log: never rename."""

    CASE_WORK = "case_work"  # ведение случая: the curator's and the team's own work
    SUPERVISION = "supervision"  # контроль: a supervisor's or a head's review
    AUDIT = "audit"  # проверка: the ministry's or an internal audit
    FAMILY_REQUEST = "family_request"  # обращение семьи: the family asks what is held on it
    COURT_OR_PROSECUTOR = "court_or_prosecutor"  # запрос суда или прокуратуры
    ERASURE = "erasure"  # уничтожение данных: erasing a family's data


PURPOSE_DESCRIPTIONS: dict[AccessPurpose, str] = {
    AccessPurpose.CASE_WORK: "ведение случая / work on the case",
    AccessPurpose.SUPERVISION: "контроль / supervision by a supervisor or head",
    AccessPurpose.AUDIT: "проверка / audit",
    AccessPurpose.FAMILY_REQUEST: "обращение семьи / the family's own request",
    AccessPurpose.COURT_OR_PROSECUTOR: "запрос суда или прокуратуры / court or prosecutor",
    AccessPurpose.ERASURE: "уничтожение данных / erasure of the family's data",
}


def purpose_grammar() -> str:
    """The grammar and the allowed codes, for the OpenAPI description of the header."""
    codes = "; ".join(f"`{code.value}` ({PURPOSE_DESCRIPTIONS[code]})" for code in AccessPurpose)
    return (
        "Цель доступа / why you read this: `code` or `code: note`, for example `audit: "
        f"плановая проверка`. Codes: {codes}. The note is free text of up to {MAX_NOTE_LENGTH} "
        "characters without control characters; send non-ASCII text as UTF-8 or percent-"
        f"encoded UTF-8. At most {MAX_PURPOSE_LENGTH} characters in all. Every read of a "
        "family's personal data or a case's history is recorded with it in the access log."
    )


class PurposeError(ValueError):
    """The header is missing or malformed; the message says how (never echoes the value)."""


@dataclass(frozen=True)
class Purpose:
    code: AccessPurpose
    note: str | None = None

    def __str__(self) -> str:
        """As stored in the access log's `purpose` column."""
        return self.code.value if self.note is None else f"{self.code.value}: {self.note}"


def parse_purpose(raw: str | None) -> Purpose:
    """The purpose a header value names. Raises PurposeError."""
    if raw is None or not raw.strip():
        raise PurposeError("missing: send X-Purpose: <code> or <code>: <note>")
    if len(raw) > MAX_HEADER_LENGTH:
        raise PurposeError(f"longer than {MAX_HEADER_LENGTH} bytes")
    text = _as_text(raw)
    matched = _SYNTAX.match(text)
    if matched is None:
        raise PurposeError("not of the form <code> or <code>: <note>")
    try:
        code = AccessPurpose(matched["code"])
    except ValueError:
        allowed = ", ".join(code.value for code in AccessPurpose)
        raise PurposeError(f"unknown purpose code; allowed: {allowed}") from None
    note = matched["note"]
    if note is None:
        return Purpose(code)
    if not note:
        raise PurposeError("the note after the colon is blank")
    if _CONTROL.search(note):
        raise PurposeError("the note holds a control character")
    if len(note) > MAX_NOTE_LENGTH:
        raise PurposeError(f"the note is longer than {MAX_NOTE_LENGTH} characters")
    return Purpose(code, note)


def _as_text(raw: str) -> str:
    # Starlette decodes header bytes as Latin-1: UTF-8 sent as is comes back as mojibake, which
    # re-encoding recovers. Plain ASCII is unchanged by both steps.
    try:
        text = raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        text = raw
    if _CONTROL.search(text):
        raise PurposeError("holds a control character")
    try:
        decoded = unquote(text, errors="strict")
    except UnicodeDecodeError:
        raise PurposeError("its percent-encoding is not UTF-8") from None
    if _CONTROL.search(decoded):
        raise PurposeError("holds a control character")
    return decoded
