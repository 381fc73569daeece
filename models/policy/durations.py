"""`Duration`: how long a deadline, a term or a reminder lead is, as written in a policy.

A duration is either a number of working days ("5WD": by the production calendar, see
`deadlines.shift`) or an ISO 8601 calendar span ("P3M", "P2W", "PT30S"). Its text form is
its identity: policy files, JSON payloads and `str()` all use the same canonical string, so a
policy reads the same in the TOML file, in a workflow history and in the API.
"""

import re
from datetime import timedelta
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    model_serializer,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

# [0-9] rather than \d: \d also matches non-ASCII digits such as "٣".
_WORKING_DAYS = re.compile(r"([0-9]+)WD")
_ISO = re.compile(
    r"P(?:(?P<years>[0-9]+)Y)?(?:(?P<months>[0-9]+)M)?(?:(?P<weeks>[0-9]+)W)?"
    r"(?:(?P<days>[0-9]+)D)?"
    r"(?:T(?:(?P<hours>[0-9]+)H)?(?:(?P<minutes>[0-9]+)M)?(?:(?P<seconds>[0-9]+)S)?)?"
)
_DATE_PARTS = (("years", "Y"), ("months", "M"), ("weeks", "W"), ("days", "D"))
_TIME_PARTS = (("hours", "H"), ("minutes", "M"), ("seconds", "S"))
_EXPECTED = "expected working days like '5WD' or an ISO 8601 duration like 'P3M', 'P2W', 'PT30S'"
# The same grammar as one regular expression, for JSON Schema readers.
_PATTERN = (
    r"^([0-9]+WD|P(?!$)([0-9]+Y)?([0-9]+M)?([0-9]+W)?([0-9]+D)?"
    r"(T(?=[0-9])([0-9]+H)?([0-9]+M)?([0-9]+S)?)?)$"
)


class Duration(BaseModel):
    """A non-negative duration: `working_days` set, or a calendar span (all other fields).

    Build one with `Duration.parse("5WD")` or let pydantic parse the string in a field.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    working_days: int | None = Field(default=None, ge=0)
    years: int = Field(default=0, ge=0)
    months: int = Field(default=0, ge=0)
    weeks: int = Field(default=0, ge=0)
    days: int = Field(default=0, ge=0)
    hours: int = Field(default=0, ge=0)
    minutes: int = Field(default=0, ge=0)
    seconds: int = Field(default=0, ge=0)

    @classmethod
    def parse(cls, text: str) -> "Duration":
        """Parse "5WD" or an ISO 8601 duration; raise ValueError naming the text otherwise."""
        return cls.model_validate(_parse_fields(text))

    @classmethod
    def working(cls, days: int) -> "Duration":
        """`days` working days."""
        return cls(working_days=days)

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        # The string form is the wire and file form; a dict of fields is also accepted so the
        # model can be built field by field.
        if isinstance(data, str):
            return _parse_fields(data)
        if isinstance(data, dict | Duration):
            return data
        raise ValueError(f"invalid duration {data!r}: {_EXPECTED}")

    @model_validator(mode="after")
    def _one_kind(self) -> "Duration":
        # The fields themselves, not `fixed_part`: a timedelta of a huge count would overflow.
        span = (self.years, self.months, self.weeks, self.days, self.hours, self.minutes)
        if self.working_days is not None and any((*span, self.seconds)):
            raise ValueError("working days cannot be mixed with a calendar span")
        return self

    @model_serializer(mode="plain")
    def _to_text(self) -> str:
        return str(self)

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        # Both directions use the string form, so document it as a string.
        return {"type": "string", "pattern": _PATTERN, "examples": ["5WD", "0WD", "P3M", "PT30S"]}

    @property
    def is_working_days(self) -> bool:
        """True for "nWD" durations, False for calendar spans."""
        return self.working_days is not None

    @property
    def calendar_months(self) -> int:
        """The years and months of a span, in months (0 for working days)."""
        return self.years * 12 + self.months

    @property
    def fixed_part(self) -> timedelta:
        """The weeks, days, hours, minutes and seconds of a span (zero for working days)."""
        return timedelta(
            weeks=self.weeks,
            days=self.days,
            hours=self.hours,
            minutes=self.minutes,
            seconds=self.seconds,
        )

    @property
    def is_zero_span(self) -> bool:
        """True for "PT0S" (at the very moment). "0WD" is not zero: it runs to the day's end."""
        return not self.is_working_days and self.calendar_months == 0 and not self.fixed_part

    def __str__(self) -> str:
        if self.working_days is not None:
            return f"{self.working_days}WD"
        date_part = "".join(f"{getattr(self, f)}{u}" for f, u in _DATE_PARTS if getattr(self, f))
        time_part = "".join(f"{getattr(self, f)}{u}" for f, u in _TIME_PARTS if getattr(self, f))
        if not date_part and not time_part:
            return "PT0S"
        return f"P{date_part}" + (f"T{time_part}" if time_part else "")

    def __repr__(self) -> str:
        return f"Duration({str(self)!r})"


def surely_earlier(a: Duration, b: Duration) -> bool:
    """True when shifting forwards by `a` ends strictly before shifting by `b`, from any moment.

    False also when the answer depends on the moment or the calendar (working days against a
    span, P1M against P30D). Policy validation uses it to catch rungs and terms out of order.
    """
    if a.working_days is not None and b.working_days is not None:
        return a.working_days < b.working_days
    if a.is_zero_span:
        return not b.is_zero_span and (b.working_days is None or b.working_days > 0)
    if a.working_days is None and b.working_days is None:
        # Adding months, then a fixed part, is monotonic in each: no later in both and
        # different in one means strictly earlier (P2W and P14D are the same shift).
        not_later = a.calendar_months <= b.calendar_months and a.fixed_part <= b.fixed_part
        return not_later and (a.calendar_months, a.fixed_part) != (b.calendar_months, b.fixed_part)
    return False


def _parse_fields(text: str) -> dict[str, int]:
    """The fields of the duration written as `text`."""
    if "-" in text:
        raise ValueError(f"invalid duration {text!r}: negative durations are not allowed")
    if match := _WORKING_DAYS.fullmatch(text):
        return {"working_days": int(match.group(1))}
    match = _ISO.fullmatch(text)
    if match is None:
        raise ValueError(f"invalid duration {text!r}: {_EXPECTED}")
    parts = {name: int(value) for name, value in match.groupdict().items() if value is not None}
    if "T" in text and not any(name in parts for name, _ in _TIME_PARTS):
        raise ValueError(f"invalid duration {text!r}: 'T' must be followed by H, M or S")
    if not parts:
        raise ValueError(f"invalid duration {text!r}: no components (write 'PT0S' for zero)")
    return parts
