"""Loading a `Policy` from TOML, and the published years of the production calendar.

The one module of the package that does I/O: activities call it, and workflow code never
imports it (its results reach the workflow as payloads). Errors are `PolicyFileError`, a
ValueError that names the file and the problem; an activity should treat it as non-retryable,
since retrying does not fix a file.
"""

import re
import tomllib
from datetime import date
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from models.policy.calendar import FIRST_YEAR, PublishedYear, WorkingCalendar
from models.policy.policy import Policy

_PACKAGE = "models.policy"  # where the shipped policy files live (package data)
# The published production calendar, shipped beside the policies (not a policy itself).
CALENDAR_FILE = "production_calendar.toml"
# A bare policy name ("default", "compressed-1"): a file of this package, not a path.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class PolicyFileError(ValueError):
    """A policy (or production calendar) file is missing, is not TOML, or is not valid."""


def load_policy(name_or_path: str | Path) -> Policy:
    """Load and validate a policy.

    A bare name ("default", "compressed") is a file shipped in this package; anything else (a
    `Path`, a string with a slash or ending in ".toml") is a path to a TOML file.
    """
    source = _resolve(name_or_path)
    data = _read_toml(source)
    try:
        return Policy.model_validate(data)
    except ValidationError as error:
        raise PolicyFileError(f"{source}: invalid policy:\n{_describe(error)}") from error


def load_calendar(
    path: str | Path | None = None, *, from_year: int = FIRST_YEAR, checked_on: date | None = None
) -> WorkingCalendar:
    """The working-day calendar with the published years from `from_year` on.

    `path` is the data file (by default the shipped `production_calendar.toml`); `checked_on`
    is recorded as the day it was read. Years not in the file follow the rule (see
    `models.policy.calendar`).
    """
    source = resources.files(_PACKAGE) / CALENDAR_FILE if path is None else Path(path)
    years = tuple(entry for entry in published_years(source) if entry.year >= from_year)
    return WorkingCalendar(published=years, checked_on=checked_on)


def published_years(source: Traversable | Path) -> tuple[PublishedYear, ...]:
    """Every year of a production calendar file, in order; PolicyFileError naming the file
    and the table when it is not one. The file is read at every call (it is small), and
    parsed once per content: an edited file is seen at once, an unchanged one costs a read."""
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyFileError(f"{source}: no such production calendar file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyFileError(f"{source}: cannot read: {error}") from error
    return _parse_published_years(text, str(source))


@lru_cache(maxsize=8)
def _parse_published_years(text: str, source: str) -> tuple[PublishedYear, ...]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PolicyFileError(f"{source}: not valid TOML: {error}") from error
    tables = data.get("years")
    if not isinstance(tables, dict) or set(data) != {"years"}:
        raise PolicyFileError(f"{source}: expected only [years.<year>] tables")
    years = []
    for key, table in sorted(tables.items()):
        if not key.isdigit() or not isinstance(table, dict) or "provisional" in table:
            raise PolicyFileError(f"{source}: years.{key}: expected a table for a year")
        try:
            years.append(PublishedYear.model_validate({**table, "year": int(key)}))
        except ValidationError as error:
            raise PolicyFileError(f"{source}: years.{key}:\n{_describe(error)}") from error
    return tuple(years)


def _read_toml(source: Traversable | Path) -> dict[str, Any]:
    try:
        return tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyFileError(f"{source}: no such policy file{_available()}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyFileError(f"{source}: cannot read: {error}") from error
    except tomllib.TOMLDecodeError as error:
        raise PolicyFileError(f"{source}: not valid TOML: {error}") from error


def _resolve(name_or_path: str | Path) -> Traversable:
    is_name = isinstance(name_or_path, str) and _NAME.fullmatch(name_or_path)
    if is_name and not str(name_or_path).endswith(".toml"):
        return resources.files(_PACKAGE) / f"{name_or_path}.toml"
    return Path(name_or_path)


def _available() -> str:
    names = sorted(
        entry.name.removesuffix(".toml")
        for entry in resources.files(_PACKAGE).iterdir()
        if entry.name.endswith(".toml") and entry.name != CALENDAR_FILE
    )
    return f" (policies shipped: {', '.join(names)})"


def _describe(error: ValidationError) -> str:
    """One line per problem, each starting with the key path, e.g. "deadlines.T2.due: ..."."""
    lines = []
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        # A whole-policy check reports several problems, one per line, each with its path.
        lines += [f"  {path}: {m}" if path else f"  {m}" for m in message.splitlines()]
    return "\n".join(lines)
