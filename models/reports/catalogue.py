"""Which indicators a report shows, in what order, labelled how: a TOML file
(`models/policy/indicators.toml`, or KURATOR_INDICATORS_FILE), checked against the indicators
Kurator can compute. An unknown id is an error at start, naming the file and the id."""

import tomllib
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SHIPPED_FILE = "indicators.toml"


class IndicatorId(StrEnum):
    """Every indicator Kurator computes (models/reports/queries_*.py)."""

    OPEN_CASES_BY_STAGE_LEVEL = "open_cases_by_stage_level"
    NEW_AND_CLOSED_BY_MONTH = "new_and_closed_by_month"
    CLOSURE_REASONS = "closure_reasons"
    LEGAL_DEADLINES = "legal_deadlines"
    REVIEWS_AND_CONTACTS_ON_TIME = "reviews_and_contacts_on_time"
    ESCALATIONS = "escalations"
    SIGNAL_TO_FIRST_CONTACT = "signal_to_first_contact"
    URGENT_SERVICES_AND_ALERTS = "urgent_services_and_alerts"
    CASELOAD = "caseload"


class IndicatorDefinition(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: IndicatorId
    label_ru: str = Field(min_length=1, max_length=200)
    description_ru: str = Field(min_length=1, max_length=2000)


class IndicatorSet(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(min_length=1, max_length=64)
    indicators: tuple[IndicatorDefinition, ...] = Field(min_length=1)

    def ids(self) -> tuple[IndicatorId, ...]:
        return tuple(indicator.id for indicator in self.indicators)


class IndicatorSetError(ValueError):
    """The indicator file is missing, not TOML, or names an indicator Kurator does not know."""


def load_indicator_set(path: Path | None = None) -> IndicatorSet:
    """The indicator set of `path`, or the shipped one; IndicatorSetError naming the file."""
    source: Traversable | Path = (
        resources.files("models.policy") / SHIPPED_FILE if path is None else path
    )
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise IndicatorSetError(f"{source}: no such indicator file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise IndicatorSetError(f"{source}: cannot read: {error}") from error
    return _parse(text, str(source))


@lru_cache(maxsize=4)
def _parse(text: str, source: str) -> IndicatorSet:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise IndicatorSetError(f"{source}: not valid TOML: {error}") from error
    known = ", ".join(IndicatorId)
    for entry in data.get("indicators", []) if isinstance(data, dict) else []:
        if isinstance(entry, dict) and entry.get("id") not in set(IndicatorId):
            raise IndicatorSetError(
                f"{source}: unknown indicator id {entry.get('id')!r} (known: {known})"
            )
    try:
        parsed = IndicatorSet.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}" for item in error.errors()
        )
        raise IndicatorSetError(f"{source}: invalid indicator file: {problems}") from error
    ids = parsed.ids()
    if len(set(ids)) != len(ids):
        raise IndicatorSetError(f"{source}: an indicator id is listed twice")
    return parsed
