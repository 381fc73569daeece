"""The X-Purpose grammar: a code from the list, optionally a note, as a header can carry it."""

from urllib.parse import quote

import pytest

from models.access import (
    MAX_NOTE_LENGTH,
    AccessPurpose,
    Purpose,
    PurposeError,
    parse_purpose,
    purpose_grammar,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("audit", Purpose(AccessPurpose.AUDIT)),
        ("  supervision  ", Purpose(AccessPurpose.SUPERVISION)),
        ("audit: плановая проверка", Purpose(AccessPurpose.AUDIT, "плановая проверка")),
        ("audit:plan 2026", Purpose(AccessPurpose.AUDIT, "plan 2026")),
        # Percent-encoded UTF-8, as httpx and browsers must send non-ASCII text.
        (f"case_work: {quote('звонок семье')}", Purpose(AccessPurpose.CASE_WORK, "звонок семье")),
        # Raw UTF-8 as curl sends it, which Starlette hands over decoded as Latin-1.
        (
            "family_request: запрос".encode().decode("latin-1"),
            Purpose(AccessPurpose.FAMILY_REQUEST, "запрос"),
        ),
        ("audit: 50% of the sample", Purpose(AccessPurpose.AUDIT, "50% of the sample")),
    ],
)
def test_a_valid_purpose_parses_to_its_code_and_note(raw: str, expected: Purpose) -> None:
    assert parse_purpose(raw) == expected


def test_the_stored_form_is_code_colon_note() -> None:
    assert str(Purpose(AccessPurpose.AUDIT, "плановая")) == "audit: плановая"
    assert str(Purpose(AccessPurpose.COURT_OR_PROSECUTOR)) == "court_or_prosecutor"


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (None, "missing"),
        ("", "missing"),
        ("   ", "missing"),
        ("curiosity", "unknown purpose code"),
        ("Audit", "not of the form"),
        ("audit:", "blank"),
        ("audit:   ", "blank"),
        ("audit: a\x00b", "control character"),
        ("audit: a%00b", "control character"),
        ("audit: line%0Abreak", "control character"),
        ("audit: " + "я" * (MAX_NOTE_LENGTH + 1), "longer than"),
        ("audit: %D0", "not UTF-8"),
        ("audit " + "x" * 3000, "longer than"),
    ],
)
def test_a_malformed_purpose_is_refused_saying_why(raw: str | None, problem: str) -> None:
    with pytest.raises(PurposeError, match=problem) as refused:
        parse_purpose(raw)
    # The value is never echoed: its note may be anything.
    assert "плановая" not in str(refused.value)


def test_the_grammar_names_every_code_with_its_russian_description() -> None:
    grammar = purpose_grammar()
    for code in AccessPurpose:
        assert f"`{code.value}`" in grammar
    assert "ведение случая" in grammar
    assert "проверка" in grammar
