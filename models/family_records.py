"""A family's personal data as the API receives and shows it (PRODUCT.md §5).

These models are the only shape in which names, birth dates, addresses, phones and registry
ids exist in Kurator: they go into the `families` table and come back out of it, and never
into workflow payloads, search attributes, memos or logs. Workflows know a family only by its
pseudonymous key (`models.identity.family_key`).

Pure pydantic (no tables), so the API can use them as request and response bodies.
"""

from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from models.identity import normalise_registry_id
from models.payloads.fields import NO_NUL_PATTERN

# "Today" for a birth date is the oblast's today (UTC+7, no daylight saving since 2016), so a
# child born this morning in Novosibirsk is not "in the future" while UTC is still yesterday.
OBLAST_TIMEZONE = timezone(timedelta(hours=7), "Asia/Novosibirsk")
EARLIEST_BIRTH_DATE = date(1900, 1, 1)
MAX_MEMBERS = 20


class FamilyRole(StrEnum):
    """A member's place in the family. Stored verbatim in family records: never rename."""

    PARENT = "parent"  # родитель
    CHILD = "child"  # ребёнок
    GUARDIAN = "guardian"  # опекун, попечитель
    OTHER = "other"  # другой член семьи


class FamilyAccessAction(StrEnum):
    """What a staff member did with a family record (the access log's `action`)."""

    READ = "read"
    WRITE = "write"
    ERASE = "erase"  # the family's data key destroyed (models.tables.family_erasure)


class FamilyMemberIn(BaseModel):
    """One member of the family, as a specialist records it."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    role: FamilyRole = Field(description="Роль в семье / the member's role in the family.")
    full_name: str = Field(
        min_length=1,
        max_length=200,
        pattern=NO_NUL_PATTERN,
        description="ФИО / full name (surname, name, patronymic).",
    )
    birth_date: date = Field(
        ge=EARLIEST_BIRTH_DATE,
        description="Дата рождения / date of birth (not in the future, from 1900-01-01).",
    )

    @field_validator("birth_date")
    @classmethod
    def _not_in_the_future(cls, value: date) -> date:
        today = datetime.now(OBLAST_TIMEZONE).date()
        if value > today:
            raise ValueError(f"birth date {value.isoformat()} is in the future")
        return value


class FamilyIn(BaseModel):
    """A family's personal data, as the intake records it (and as a later edit replaces it)."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    registry_id: str = Field(
        pattern=r"^[0-9A-Za-z -]{3,32}$",
        description=(
            "Номер в регистре получателей социальных услуг или СНИЛС родителя / the family's "
            "number in the regional registry of social services recipients, or a SNILS of a "
            "parent. Spaces and dashes are ignored when families are matched."
        ),
    )
    members: list[FamilyMemberIn] = Field(
        min_length=1,
        max_length=MAX_MEMBERS,
        description="Члены семьи / family members; at least one child (a family with children).",
    )
    address: str | None = Field(
        None,
        min_length=1,
        max_length=300,
        pattern=NO_NUL_PATTERN,
        description="Адрес проживания / the address where the family lives.",
    )
    phone: str | None = Field(
        None,
        pattern=r"^\+?[0-9][0-9 -]{3,30}[0-9]$",
        max_length=32,
        description="Контактный телефон / contact phone: digits, an optional leading +, "
        "spaces and dashes.",
    )

    @field_validator("registry_id")
    @classmethod
    def _enough_characters(cls, value: str) -> str:
        if len(normalise_registry_id(value)) < 3:
            raise ValueError("the registry id needs at least 3 letters or digits")
        return value

    @model_validator(mode="after")
    def _has_a_child(self) -> Self:
        if not any(member.role is FamilyRole.CHILD for member in self.members):
            raise ValueError(
                "a family with children (семья с детьми) needs at least one member "
                "with role 'child'"
            )
        return self


class FamilyRef(BaseModel):
    """Where a family record is, without its personal data: for access checks before a read
    or a write (reading it is not an access to the record, so it is not logged)."""

    id: UUID
    municipality: str


class FamilyMemberPublic(BaseModel):
    """A member as stored. No input rules here: a record saved under older rules still reads."""

    role: FamilyRole
    full_name: str
    birth_date: date


class FamilyRecordPublic(BaseModel):
    """What an authorised reader (own territory, logged with a purpose) sees of a family."""

    id: UUID = Field(description="Идентификатор записи / the family record's id.")
    family_key: str = Field(description="Псевдоним семьи / the family's pseudonymous key.")
    municipality: str = Field(description="Муниципальное образование / municipality code.")
    registry_id: str = Field(description="Номер в регистре или СНИЛС / registry id or SNILS.")
    members: list[FamilyMemberPublic] = Field(description="Члены семьи / family members.")
    address: str | None = Field(description="Адрес проживания / address.")
    phone: str | None = Field(description="Контактный телефон / contact phone.")
    created_at: datetime = Field(description="Запись создана / when the record was created.")
    updated_at: datetime = Field(description="Запись изменена / when it was last changed.")
