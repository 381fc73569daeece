"""Readable case numbers: `БРД-2026-00042` is the 42nd case opened in Berdsk in 2026.

The territory's prefix (`Municipality.case_prefix`, models/territory.py), the year of intake
in the oblast's local time, and a sequence per territory and year, at least five digits. A
number names a case to a person (on the phone, in a letter, in the Web UI) and holds no
personal data: the territory, the year and a counter only. PostgreSQL allocates the sequence
(models/crud/case_numbers.py); this module only formats and recognises numbers.

Pure: importable from workflows, the API and tests alike.
"""

import re
from datetime import datetime, timedelta, timezone

from models.territory import by_code

# A prefix, a year of this century, a sequence of five digits or more.
CASE_NUMBER_PATTERN = r"^[А-ЯЁ]{3}-20[0-9]{2}-[0-9]{5,9}$"
_NUMBER = re.compile(CASE_NUMBER_PATTERN)
EXAMPLE = "БРД-2026-00042"


def format_case_number(municipality: str, year: int, seq: int) -> str:
    """The number of the `seq`-th case of `municipality` (a code) opened in `year`."""
    return f"{by_code(municipality).case_prefix}-{year}-{seq:05d}"


def is_case_number(text: str) -> bool:
    return _NUMBER.fullmatch(text) is not None


def intake_year(moment: datetime, utc_offset: timedelta) -> int:
    """The year of `moment` where the centres are: a case opened at 01:00 on 1 January in
    Novosibirsk (18:00 UTC on 31 December) is numbered in the new year."""
    return moment.astimezone(timezone(utc_offset)).year
