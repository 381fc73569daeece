"""The resource map's policy (models/policy/resources.toml) as one validated, frozen value.

Every figure carries its source, as in the case policy. Loaded once per process (cached); the
API and the worker read it, workflow code never does.
"""

import tomllib
from datetime import datetime, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from models.payloads.vocabulary import AccompanimentChannel, NeedCircumstance, ServiceType
from models.policy.calendar import WorkingCalendar
from models.policy.codes import AccompanimentLevel
from models.policy.deadlines import shift
from models.policy.durations import Duration
from models.policy.loader import PolicyFileError

RESOURCE_POLICY_FILE = "resources.toml"
# Novosibirsk time: a review period counts months in local dates, as the case policy does.
_UTC_OFFSET = timedelta(hours=7)

Source = Annotated[str, Field(min_length=1, pattern=r"\S")]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SourcedSpan(_Frozen):
    value: Duration
    source: Source

    @model_validator(mode="after")
    def _calendar_span(self) -> Self:
        if self.value.is_working_days or self.value.is_zero_span:
            raise ValueError("a review period is a calendar span such as P6M")
        return self


class SourcedCount(_Frozen):
    value: Annotated[float, Field(gt=0)]
    source: Source


class Needs(_Frozen):
    """What a circumstance (or a level) calls for."""

    services: frozenset[ServiceType] = frozenset()
    channels: frozenset[AccompanimentChannel] = frozenset()
    source: Source


class CaseloadWeights(_Frozen):
    L0: Annotated[float, Field(ge=0)]
    L1: Annotated[float, Field(ge=0)]
    L2: Annotated[float, Field(ge=0)]
    L3: Annotated[float, Field(ge=0)]
    unassessed: Annotated[float, Field(ge=0)]
    source: Source

    def of(self, level: AccompanimentLevel | None) -> float:
        return self.unassessed if level is None else float(getattr(self, level.value))


class ResourcePolicy(_Frozen):
    version: Source
    review_period: SourcedSpan
    hours_per_open_item: SourcedCount
    needs: dict[NeedCircumstance, Needs]
    level_needs: dict[AccompanimentLevel, Needs] = Field(default_factory=dict)
    caseload_limit: SourcedCount
    caseload_weights: CaseloadWeights

    @model_validator(mode="after")
    def _every_circumstance(self) -> Self:
        missing = sorted(set(NeedCircumstance) - set(self.needs))
        if missing:
            raise ValueError(f"needs: missing {', '.join(missing)}")
        return self

    def review_due(self, last_confirmed_at: datetime) -> datetime:
        """When an entry confirmed at `last_confirmed_at` must be confirmed again."""
        return shift(last_confirmed_at, self.review_period.value, WorkingCalendar(), _UTC_OFFSET)

    def unconfirmed_since(self, now: datetime) -> datetime:
        """Entries last confirmed before this moment are overdue for review at `now`."""
        return shift(now, self.review_period.value, WorkingCalendar(), _UTC_OFFSET, backwards=True)


def load_resource_policy(path: Path | None = None) -> ResourcePolicy:
    """The shipped resource policy, or the TOML file at `path`."""
    source = resources.files("models.policy") / RESOURCE_POLICY_FILE if path is None else path
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
        return ResourcePolicy.model_validate(data)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise PolicyFileError(f"{source}: cannot read: {error}") from error
    except ValidationError as error:
        raise PolicyFileError(f"{source}: invalid resource policy: {error}") from error


@lru_cache(maxsize=1)
def shipped_resource_policy() -> ResourcePolicy:
    return load_resource_policy()
