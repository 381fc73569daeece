"""`Duration`: parsing, the canonical string form, and (de)serialisation as that string."""

from datetime import timedelta

import pytest
from pydantic import BaseModel, ValidationError

from models.policy.durations import Duration, surely_earlier


class _Holder(BaseModel):
    due: Duration
    reminder: Duration | None = None


@pytest.mark.parametrize(
    "text", ["5WD", "0WD", "12WD", "P3M", "P2W", "P30D", "P1Y2M3DT4H5M6S", "PT30S", "PT0S", "P1W2D"]
)
def test_canonical_text_round_trips(text: str) -> None:
    assert str(Duration.parse(text)) == text


@pytest.mark.parametrize(
    ("text", "canonical"),
    [("P0D", "PT0S"), ("P1Y0M", "P1Y"), ("PT0H30M", "PT30M"), ("00WD", "0WD")],
)
def test_equivalent_forms_print_canonically(text: str, canonical: str) -> None:
    assert str(Duration.parse(text)) == canonical
    assert Duration.parse(text) == Duration.parse(canonical)


def test_components() -> None:
    span = Duration.parse("P1Y2M3DT4H5M6S")
    assert (span.years, span.months, span.days, span.hours, span.minutes, span.seconds) == (
        1,
        2,
        3,
        4,
        5,
        6,
    )
    assert span.calendar_months == 14
    assert span.fixed_part == timedelta(days=3, hours=4, minutes=5, seconds=6)
    assert not span.is_working_days
    assert Duration.parse("P2W").fixed_part == timedelta(days=14)

    working = Duration.parse("5WD")
    assert working.working_days == 5
    assert working.is_working_days
    assert working == Duration.working(5)
    assert working.fixed_part == timedelta(0)


def test_zero_span_is_not_zero_working_days() -> None:
    assert Duration.parse("PT0S").is_zero_span
    # 0WD runs to the end of the day, so it is not "the very moment".
    assert not Duration.parse("0WD").is_zero_span


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "expected working days"),
        ("P", "no components"),
        ("PT", "'T' must be followed"),
        ("P1DT", "'T' must be followed"),
        ("-5WD", "negative"),
        ("P-3M", "negative"),
        ("-P3M", "negative"),
        ("garbage", "expected working days"),
        ("5 WD", "expected working days"),
        ("5wd", "expected working days"),
        ("P1.5D", "expected working days"),
        ("P1M2Y", "expected working days"),  # components out of order
        ("P٣D", "expected working days"),  # a non-ASCII digit
        ("5WDP1D", "expected working days"),
    ],
)
def test_bad_text_is_rejected_naming_it(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as caught:
        Duration.parse(text)
    assert repr(text) in str(caught.value)


def test_working_days_cannot_mix_with_a_span() -> None:
    with pytest.raises(ValidationError, match="cannot be mixed"):
        Duration(working_days=3, days=1)


def test_negative_fields_are_rejected() -> None:
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        Duration(months=-1)


def test_json_uses_the_string_form() -> None:
    holder = _Holder.model_validate({"due": "5WD", "reminder": "P3M"})
    assert holder.model_dump_json() == '{"due":"5WD","reminder":"P3M"}'
    assert holder.model_dump() == {"due": "5WD", "reminder": "P3M"}
    assert _Holder.model_validate_json(holder.model_dump_json()) == holder
    assert Duration.model_validate_json('"P1Y2M3DT4H5M6S"') == Duration.parse("P1Y2M3DT4H5M6S")


def test_a_bad_field_names_its_path_and_text() -> None:
    with pytest.raises(ValidationError) as caught:
        _Holder.model_validate({"due": "5WD", "reminder": "soon"})
    (error,) = caught.value.errors()
    assert error["loc"] == ("reminder",)
    assert "'soon'" in error["msg"]


def test_a_number_is_not_a_duration() -> None:
    with pytest.raises(ValidationError, match="invalid duration 5"):
        _Holder.model_validate({"due": 5})


def test_frozen_and_hashable() -> None:
    duration = Duration.parse("P3M")
    with pytest.raises(ValidationError):
        duration.months = 4  # type: ignore[misc]
    assert len({duration, Duration.parse("P3M"), Duration.parse("P90D")}) == 2


def test_json_schema_is_a_string() -> None:
    schema = _Holder.model_json_schema()["$defs"]["Duration"]
    assert schema["type"] == "string"
    assert "WD" in schema["pattern"]


@pytest.mark.parametrize(
    ("a", "b", "earlier"),
    [
        ("1WD", "2WD", True),
        ("2WD", "1WD", False),
        ("PT0S", "0WD", False),  # 0WD from the end of a day is that same moment
        ("PT0S", "1WD", True),
        ("0WD", "PT0S", False),
        ("P2W", "P14D", False),  # the same shift written two ways
        ("P1M", "P1M1D", True),
        ("P1M", "P30D", False),  # depends on the month
        ("P3M", "P6M", True),
        ("1WD", "P1D", False),  # depends on the calendar
    ],
)
def test_surely_earlier(a: str, b: str, earlier: bool) -> None:
    assert surely_earlier(Duration.parse(a), Duration.parse(b)) is earlier
