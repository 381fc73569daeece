"""Reading a resource-map CSV file: each row checked on its own into `ProviderFields`, or
refused with its line number and every problem named. Pure: the import (workers/
resources_import.py) writes nothing unless every row passed.

Columns (a header row, any order; lists separated by ";"):
name, kind, municipality, served_municipalities, services, channels, capacity, capacity_unit,
contact_phone, contact_email, contact_address. Empty optional cells mean "none".
"""

import csv
import io
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from pydantic import ValidationError

from models.payloads.resources import ProviderFields
from models.payloads.vocabulary import StaffRole
from models.resource_map.access import territory_refusal

LIST_COLUMNS = ("served_municipalities", "services", "channels")
REQUIRED_COLUMNS = ("name", "kind", "municipality", "served_municipalities", "capacity")
COLUMNS = (
    *REQUIRED_COLUMNS,
    "services",
    "channels",
    "capacity_unit",
    "contact_phone",
    "contact_email",
    "contact_address",
)
MOST_ROWS = 10_000


class CsvFileError(ValueError):
    """The file as a whole cannot be read as a resource map (no header, unknown columns)."""


@dataclass(frozen=True, slots=True)
class AcceptedRow:
    line: int
    fields: ProviderFields


@dataclass(frozen=True, slots=True)
class RefusedRow:
    line: int
    problems: tuple[str, ...]


def _cells(row: dict[str, str | None]) -> dict[str, object]:
    values: dict[str, object] = {}
    for column, raw in row.items():
        cell = (raw or "").strip()
        if column in LIST_COLUMNS:
            values[column] = [part.strip() for part in cell.split(";") if part.strip()]
        elif cell:
            values[column] = cell
    return values


def _problems(error: ValidationError) -> tuple[str, ...]:
    return tuple(
        f"{'.'.join(str(part) for part in problem['loc']) or 'row'}: {problem['msg']}"
        for problem in error.errors()
    )


def read_rows(
    text: str, *, role: StaffRole, municipalities: Collection[str]
) -> Iterator[AcceptedRow | RefusedRow]:
    """Each data row of `text`, accepted or refused, in file order. A head's rows must lie in
    their territory; a name may appear once per municipality in a file."""
    reader = csv.DictReader(io.StringIO(text), strict=True)
    header = reader.fieldnames
    if not header:
        raise CsvFileError("the file is empty: it needs a header row naming the columns")
    unknown = sorted(set(header) - set(COLUMNS))
    missing = sorted(set(REQUIRED_COLUMNS) - set(header))
    if unknown or missing:
        raise CsvFileError(
            "; ".join(
                filter(
                    None,
                    [
                        f"unknown columns: {', '.join(unknown)}" if unknown else "",
                        f"missing columns: {', '.join(missing)}" if missing else "",
                    ],
                )
            )
            + f" (columns: {', '.join(COLUMNS)})"
        )
    seen: dict[tuple[str, str], int] = {}
    try:
        for index, row in enumerate(reader):
            line = reader.line_num
            if index >= MOST_ROWS:
                raise CsvFileError(f"more than {MOST_ROWS} rows: split the file")
            yield _checked(row, line, role, municipalities, seen)
    except csv.Error as error:
        raise CsvFileError(f"line {reader.line_num}: not valid CSV: {error}") from None


def _checked(
    row: dict[str, str | None],
    line: int,
    role: StaffRole,
    municipalities: Collection[str],
    seen: dict[tuple[str, str], int],
) -> AcceptedRow | RefusedRow:
    if None in row:  # csv.DictReader files surplus cells under the key None
        return RefusedRow(line, ("row: more cells than the header has columns",))
    try:
        fields = ProviderFields.model_validate(_cells(row))
    except ValidationError as error:
        return RefusedRow(line, _problems(error))
    refusal = territory_refusal(role, municipalities, fields)
    if refusal is not None:
        return RefusedRow(line, (refusal,))
    key = (fields.municipality, fields.name)
    if key in seen:
        return RefusedRow(line, (f"name: the same entry as on line {seen[key]}",))
    seen[key] = line
    return AcceptedRow(line, fields)
