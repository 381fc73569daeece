"""Ranking the map's providers for a family's route (маршрутизация): pure.

What the family needs comes from its assessment: each circumstance's services and channels,
and the level's (policy data, models/policy/resources.toml). A provider is proposed when it
offers at least one of them and serves the family's municipality. Order: a provider at
capacity last (and it says so); then the most needs matched; then a provider of the family's
own territory before one serving it from elsewhere; then the most free capacity; then by name.
Each proposal says why, as codes with Russian text.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from uuid import UUID

from pydantic import BaseModel, Field

from models.payloads.vocabulary import (
    AccompanimentChannel,
    CapacityUnit,
    NeedCircumstance,
    ServiceType,
)
from models.policy.codes import AccompanimentLevel
from models.resource_map.labels import CHANNEL_RU, SERVICE_RU
from models.resource_map.policy import ResourcePolicy


@dataclass(frozen=True, slots=True)
class FamilyNeeds:
    services: frozenset[ServiceType]
    channels: frozenset[AccompanimentChannel]


def needs_of(
    circumstances: Iterable[NeedCircumstance],
    level: AccompanimentLevel | None,
    policy: ResourcePolicy,
) -> FamilyNeeds:
    rules = [policy.needs[c] for c in circumstances]
    if level is not None and level in policy.level_needs:
        rules.append(policy.level_needs[level])
    return FamilyNeeds(
        services=frozenset().union(*(r.services for r in rules)),
        channels=frozenset().union(*(r.channels for r in rules)),
    )


@dataclass(frozen=True, slots=True)
class Candidate:
    """A map entry as ranking sees it."""

    id: UUID
    name: str
    municipality: str
    services: frozenset[ServiceType]
    channels: frozenset[AccompanimentChannel]
    capacity: int
    capacity_unit: CapacityUnit
    review_overdue: bool


class Reason(BaseModel):
    code: str = Field(description="Machine-readable, e.g. offers_needed_services, at_capacity.")
    text_ru: str


class RouteProposal(BaseModel):
    rank: int = Field(ge=1)
    provider_id: UUID
    name: str
    municipality: str
    matching_services: list[ServiceType]
    matching_channels: list[AccompanimentChannel]
    capacity: int
    capacity_unit: CapacityUnit
    in_use: float = Field(description="Занято / taken by open plan items naming the provider.")
    free: float
    at_capacity: bool
    reasons: list[Reason] = Field(description="Почему предложен / why it was proposed.")


def _load(candidate: Candidate, open_items: int, policy: ResourcePolicy) -> float:
    if candidate.capacity_unit is CapacityUnit.HOURS_A_MONTH:
        return open_items * policy.hours_per_open_item.value
    return float(open_items)


def _unit_ru(unit: CapacityUnit) -> str:
    return "ч в месяц" if unit is CapacityUnit.HOURS_A_MONTH else "мест"


def _reasons(
    c: Candidate,
    services: list[ServiceType],
    channels: list[AccompanimentChannel],
    municipality: str,
    in_use: float,
) -> list[Reason]:
    reasons = []
    if services:
        names = ", ".join(SERVICE_RU[s] for s in services)
        reasons.append(Reason(code="offers_needed_services", text_ru=f"Оказывает услуги: {names}"))
    if channels:
        names = ", ".join(CHANNEL_RU[ch] for ch in channels)
        reasons.append(
            Reason(code="offers_needed_channels", text_ru=f"Обеспечивает сопровождение: {names}")
        )
    if c.municipality == municipality:
        reasons.append(Reason(code="own_territory", text_ru="Организация территории семьи"))
    else:
        reasons.append(
            Reason(code="serves_territory", text_ru="Обслуживает территорию семьи из другой")
        )
    unit = _unit_ru(c.capacity_unit)
    used = f"{in_use:g} из {c.capacity} {unit}"
    if in_use >= c.capacity:
        reasons.append(
            Reason(
                code="at_capacity",
                text_ru=f"Мощность исчерпана (занято {used}): предложен последним",
            )
        )
    else:
        reasons.append(
            Reason(code="has_free_capacity", text_ru=f"Есть свободная мощность (занято {used})")
        )
    if c.review_overdue:
        reasons.append(
            Reason(code="review_overdue", text_ru="Запись не подтверждена в срок: уточните данные")
        )
    return reasons


def rank_providers(
    candidates: Iterable[Candidate],
    *,
    needs: FamilyNeeds,
    municipality: str,
    open_items: Mapping[UUID, int],
    policy: ResourcePolicy,
) -> list[RouteProposal]:
    scored = []
    for c in candidates:
        services = sorted(c.services & needs.services)
        channels = sorted(c.channels & needs.channels)
        if not services and not channels:
            continue
        in_use = _load(c, open_items.get(c.id, 0), policy)
        at_capacity = in_use >= c.capacity
        key = (
            at_capacity,
            -(len(services) + len(channels)),
            c.municipality != municipality,
            -(c.capacity - in_use),
            c.name,
        )
        scored.append((key, c, services, channels, in_use, at_capacity))
    scored.sort(key=lambda entry: entry[0])
    return [
        RouteProposal(
            rank=rank,
            provider_id=c.id,
            name=c.name,
            municipality=c.municipality,
            matching_services=services,
            matching_channels=channels,
            capacity=c.capacity,
            capacity_unit=c.capacity_unit,
            in_use=in_use,
            free=max(c.capacity - in_use, 0),
            at_capacity=at_capacity,
            reasons=_reasons(c, services, channels, municipality, in_use),
        )
        for rank, (_, c, services, channels, in_use, at_capacity) in enumerate(scored, start=1)
    ]
