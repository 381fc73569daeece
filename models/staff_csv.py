"""Reading a staff directory CSV file (`kurator staff import`, `POST /api/v1/staff/import`),
row by row: each row becomes a checked entry, or a refusal naming its line, its column and why.

The file: a header row naming the columns `staff_id, full_name, role, municipalities, email,
active` (`email` and `active` optional), comma- or semicolon-separated (Excel in a Russian
locale writes semicolons), UTF-8 with or without a byte-order mark. `municipalities` holds
codes (models/territory.py) separated by spaces, commas, semicolons or `|`; empty for the
ministry. `active` is yes/no (true/false, 1/0, да/нет), yes when empty.

Values are not echoed in refusals, but for staff ids and municipality codes that match their
patterns: a cell could hold anything.
"""

import csv
import io
import re
from dataclasses import dataclass

from pydantic import ValidationError

from models.payloads.fields import STAFF_ID_PATTERN
from models.payloads.staff import StaffEntry

COLUMNS = ("staff_id", "full_name", "role", "municipalities", "email", "active")
REQUIRED = frozenset({"staff_id", "full_name", "role"})
MAX_ROWS = 20_000
_SEPARATORS = re.compile(r"[\s,;|]+")
_YES = {"", "yes", "y", "true", "1", "да", "д"}
_NO = {"no", "n", "false", "0", "нет", "н"}


class CsvFileError(ValueError):
    """The file as a whole cannot be read (encoding, header); the message says why."""


@dataclass(frozen=True)
class CsvRow:
    line: int
    staff_id: str
    entry: StaffEntry


@dataclass(frozen=True)
class Refusal:
    line: int
    staff_id: str | None  # when it is a valid staff id
    problem: str


@dataclass(frozen=True)
class ParsedFile:
    rows: list[CsvRow]
    refused: list[Refusal]


def parse_staff_csv(data: bytes) -> ParsedFile:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CsvFileError(f"not UTF-8 text (byte {error.start})") from None
    if "\x00" in text:
        raise CsvFileError("the file holds NUL characters: not a CSV text file")
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        raise CsvFileError("the file is empty: a header row is needed") from None
    except csv.Error as error:
        raise CsvFileError(f"line 1: {error}") from None
    _check_header(header)
    rows: list[CsvRow] = []
    refused: list[Refusal] = []
    first_seen: dict[str, int] = {}
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # a blank line, as spreadsheets leave at the end
            if len(rows) + len(refused) >= MAX_ROWS:
                raise CsvFileError(f"more than {MAX_ROWS} rows: split the file")
            row = _row(line, header, cells, first_seen)
            if isinstance(row, Refusal):
                refused.append(row)
            else:
                first_seen[row.staff_id] = line
                rows.append(row)
    except csv.Error as error:
        raise CsvFileError(f"line {reader.line_num}: {error}") from None
    if not rows and not refused:
        raise CsvFileError("the file has a header and no rows")
    return ParsedFile(rows, refused)


def _check_header(header: list[str]) -> None:
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        shown = ", ".join(name for name in unknown if re.fullmatch(r"[a-z_]{1,32}", name)) or "?"
        raise CsvFileError(f"header: unknown column {shown} (columns: {', '.join(COLUMNS)})")
    missing = sorted(REQUIRED - set(header))
    if missing:
        raise CsvFileError(f"header: missing column {', '.join(missing)}")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise CsvFileError(f"header: column {', '.join(repeated)} appears twice")


def _row(
    line: int, header: list[str], cells: list[str], first_seen: dict[str, int]
) -> CsvRow | Refusal:
    at = header.index("staff_id")
    staff_id = cells[at].strip() if at < len(cells) else ""
    known = staff_id if STAFF_ID_PATTERN.fullmatch(staff_id) else None
    if len(cells) != len(header):
        return Refusal(line, known, f"{len(cells)} cells, the header names {len(header)}")
    if known is None:
        return Refusal(line, None, "staff_id: 1-64 of A-Z a-z 0-9 . _ -")
    values = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
    if staff_id in first_seen:
        return Refusal(line, staff_id, f"staff_id: repeats line {first_seen[staff_id]}")
    active = values.get("active", "").lower()
    if active not in _YES | _NO:
        return Refusal(line, staff_id, "active: yes or no")
    try:
        entry = StaffEntry(
            full_name=values["full_name"],
            role=values["role"].lower(),
            municipalities=[
                code for code in _SEPARATORS.split(values.get("municipalities", "")) if code
            ],
            email=values.get("email") or None,
            active=active in _YES,
        )
    except ValidationError as error:
        return Refusal(line, staff_id, describe_entry_error(error))
    problem = entry.problem()
    if problem is not None:
        return Refusal(line, staff_id, problem)
    return CsvRow(line, staff_id, entry)


def describe_entry_error(error: ValidationError) -> str:
    """One phrase per field, naming it; never the value."""
    problems = []
    for problem in error.errors(include_input=False, include_url=False):
        field = str(problem["loc"][0]) if problem["loc"] else "row"
        message = problem["msg"].removeprefix("Value error, ")
        problems.append(f"{field}: {message}")
    return "; ".join(dict.fromkeys(problems))
