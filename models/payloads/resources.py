"""The resource map as the API and the CSV import take and give it: an entry's fields
(`ProviderFields`), what a head sends to create or change one, and what a reader gets back.

Pure pydantic: each field is checked here, so a bad entry is refused (422 naming the field, or
a refused CSV row naming its column) before anything is written.
"""

from datetime import datetime
from typing import Annotated, Self
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from models.payloads.fields import FreeText, MunicipalityCode
from models.payloads.vocabulary import (
    AccompanimentChannel,
    CapacityUnit,
    ProviderKind,
    ServiceType,
    StaffRole,
)
from models.territory import MUNICIPALITY_CODES

MOST_CAPACITY = 100_000


def _known(code: str) -> str:
    if code not in MUNICIPALITY_CODES:
        raise ValueError(f"unknown municipality code {code!r}")
    return code


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _no_blank(text: str) -> str:
    stripped = text.strip()
    if not stripped:
        raise ValueError("must not be blank")
    return stripped


Municipality = Annotated[MunicipalityCode, AfterValidator(_known)]
Name = Annotated[FreeText, Field(min_length=1, max_length=200), AfterValidator(_no_blank)]
Reason = Annotated[FreeText, Field(min_length=1, max_length=2000), AfterValidator(_no_blank)]


class ProviderFields(BaseModel):
    """An entry of the map: what it offers, where, and how much."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Name = Field(description="Наименование организации / the organisation's name.")
    kind: ProviderKind = Field(description="Тип организации / what kind of organisation.")
    municipality: Municipality = Field(
        description="Территория записи / the territory whose head manages this entry."
    )
    served_municipalities: Annotated[list[Municipality], AfterValidator(_unique)] = Field(
        min_length=1, max_length=35, description="Обслуживаемые территории / served territories."
    )
    services: Annotated[list[ServiceType], AfterValidator(_unique)] = Field(
        default_factory=list,
        max_length=len(ServiceType),
        description="Социальные услуги / services offered (442-ФЗ ст. 20).",
    )
    channels: Annotated[list[AccompanimentChannel], AfterValidator(_unique)] = Field(
        default_factory=list,
        max_length=len(AccompanimentChannel),
        description="Виды сопровождения / accompaniment offered (442-ФЗ ст. 22).",
    )
    capacity: int = Field(
        ge=0, le=MOST_CAPACITY, description="Мощность / places, or hours a month (capacity_unit)."
    )
    capacity_unit: CapacityUnit = CapacityUnit.PLACES
    contact_phone: Annotated[str, Field(pattern=r"^\+?[0-9 ()-]{5,40}$")] | None = Field(
        None, description="Телефон организации / the organisation's public phone."
    )
    contact_email: (
        Annotated[str, Field(max_length=254, pattern=r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$")]
        | None
    ) = Field(None, description="E-mail организации / its public e-mail.")
    contact_address: Annotated[FreeText, Field(min_length=1, max_length=300)] | None = Field(
        None, description="Адрес организации / its public address."
    )

    @model_validator(mode="after")
    def _offers_something(self) -> Self:
        if not self.services and not self.channels:
            raise ValueError("an entry offers at least one service or channel")
        return self


class ProviderChange(BaseModel):
    """A change to an entry: its new fields, and why (the history keeps both)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: ProviderFields
    reason: Reason | None = Field(None, description="Основание изменения / why it changed.")


class ProviderConfirmation(BaseModel):
    """The entry is still true as it stands (актуализация)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: Reason | None = None


class ProviderDeactivation(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: Reason = Field(description="Почему запись исключена / why it leaves the map.")


class ProviderPublic(ProviderFields):
    """An entry as readers get it, with its review state."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: UUID
    active: bool
    version: int
    last_confirmed_at: datetime
    review_due_at: datetime = Field(description="Подтвердить до / confirm again by.")
    review_overdue: bool = Field(
        description="Не подтверждена в срок / not confirmed within the review period."
    )


class ResourceChangePublic(BaseModel):
    """One entry of the map's history: who, what, when, why."""

    provider_id: UUID
    seq: int
    action: str
    actor_id: str
    actor_role: StaffRole
    reason: str | None
    changes: dict[str, object]
    occurred_at: datetime
    prev_hash: str
    hash: str
