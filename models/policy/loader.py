"""Loading a `Policy` from TOML and building a `WorkingCalendar` from `holidays.RU`.

The one module of the package that does I/O and imports `holidays`: activities call it, and
workflow code never imports it (its results reach the workflow as payloads). Errors are
`PolicyFileError`, a ValueError that names the file and the problem; an activity should treat
it as non-retryable, since retrying does not fix a file.
"""

import re
import tomllib
from datetime import date, timedelta
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import holidays
from pydantic import ValidationError

from models.policy.calendar import WorkingCalendar
from models.policy.policy import Policy

_PACKAGE = "models.policy"  # where the shipped policy files live (package data)
# A bare policy name ("default", "compressed-1"): a file of this package, not a path.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class PolicyFileError(ValueError):
    """A policy file is missing, is not TOML, or does not describe a valid policy."""


def load_policy(name_or_path: str | Path) -> Policy:
    """Load and validate a policy.

    A bare name ("default", "compressed") is a file shipped in this package; anything else (a
    `Path`, a string with a slash or ending in ".toml") is a path to a TOML file.
    """
    source = _resolve(name_or_path)
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyFileError(f"{source}: no such policy file{_available()}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyFileError(f"{source}: cannot read: {error}") from error
    except tomllib.TOMLDecodeError as error:
        raise PolicyFileError(f"{source}: not valid TOML: {error}") from error
    try:
        return Policy.model_validate(data)
    except ValidationError as error:
        raise PolicyFileError(f"{source}: invalid policy:\n{_describe(error)}") from error


def build_calendar(first_year: int, last_year: int) -> WorkingCalendar:
    """The Russian production calendar from 1 January `first_year` to 31 December `last_year`.

    `holidays.RU` knows public holidays, transferred days off and working Saturdays (its
    `is_working_day` consults `weekend_workdays`). Transfers are decreed a year ahead: for
    years the installed `holidays` release does not know yet, only fixed holidays and their
    statutory moves are in the result.
    """
    if first_year > last_year:
        raise ValueError(f"first_year {first_year} is after last_year {last_year}")
    production = holidays.country_holidays("RU", years=range(first_year, last_year + 1))
    first_day, last_day = date(first_year, 1, 1), date(last_year, 12, 31)
    days = (first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1))
    return WorkingCalendar(
        first_day=first_day,
        last_day=last_day,
        non_working_days=tuple(d for d in days if not production.is_working_day(d)),
    )


def _resolve(name_or_path: str | Path) -> Traversable:
    is_name = isinstance(name_or_path, str) and _NAME.fullmatch(name_or_path)
    if is_name and not str(name_or_path).endswith(".toml"):
        return resources.files(_PACKAGE) / f"{name_or_path}.toml"
    return Path(name_or_path)


def _available() -> str:
    names = sorted(
        entry.name.removesuffix(".toml")
        for entry in resources.files(_PACKAGE).iterdir()
        if entry.name.endswith(".toml")
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
