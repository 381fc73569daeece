"""What a staff directory entry must say, checked field by field: the API's bodies, the CSV
import's rows and `kurator staff add` all go through these, so the three refuse alike.

Pure pydantic: no tables here (the tables live in models/tables/staff_member.py)."""

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from models.payloads.fields import NO_NUL_PATTERN, StaffId
from models.payloads.vocabulary import StaffRole
from models.territory import MUNICIPALITY_CODES

# The syntax a work address needs: one @, a dotted domain, no spaces. Deliverability is the
# mail server's business; this refuses what is plainly not an address ("ivanov", "a@b").
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def _email(value: str) -> str:
    if len(value) > 254 or not _EMAIL.fullmatch(value):
        raise ValueError("not an e-mail address (name@domain.ru)")
    return value.lower()


def _name(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValueError("must not be blank")
    return value


Email = Annotated[str, AfterValidator(_email)]
FullName = Annotated[str, Field(max_length=200, pattern=NO_NUL_PATTERN), AfterValidator(_name)]
Reason = Annotated[str, Field(min_length=1, max_length=500, pattern=NO_NUL_PATTERN)]


def _known_codes(codes: list[str]) -> list[str]:
    unknown = sorted(set(codes) - MUNICIPALITY_CODES)
    if unknown:
        # Safe to echo: a code is checked against the code pattern below before this runs.
        raise ValueError(f"unknown municipality {', '.join(unknown)}")
    return sorted(set(codes))


Municipalities = Annotated[
    list[Annotated[str, Field(pattern=r"^[a-z0-9_]{1,32}$")]],
    Field(max_length=len(MUNICIPALITY_CODES)),
    AfterValidator(_known_codes),
]


class StaffEntry(BaseModel):
    """A member as the directory holds them (without the staff id, which the path names)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    full_name: FullName = Field(description="ФИО сотрудника / the staff member's full name.")
    role: StaffRole
    municipalities: Municipalities = Field(
        default_factory=list,
        description="Municipality codes served; empty for the ministry (it serves all).",
    )
    email: Email | None = Field(None, description="Work e-mail, for notifications.")
    active: bool = True

    def problem(self) -> str | None:
        """What makes the entry impossible as a whole (not one field), or None."""
        if self.role is not StaffRole.MINISTRY and not self.municipalities:
            return "municipalities: a specialist, supervisor or head serves at least one"
        if self.role is StaffRole.MINISTRY and self.municipalities:
            return "municipalities: the ministry serves every territory; leave them empty"
        return None


class StaffPut(StaffEntry):
    """`PUT /staff/{id}`: the whole entry, and why it changes (kept in the directory's audit)."""

    reason: Reason | None = Field(None, description="Why (kept in the directory's history).")


class StaffPatch(BaseModel):
    """`PATCH /staff/{id}`: the fields that change; the others stay."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    full_name: FullName | None = None
    role: StaffRole | None = None
    municipalities: Municipalities | None = None
    email: Email | None = None
    active: bool | None = None
    reason: Reason | None = Field(None, description="Why (kept in the directory's history).")


class StaffMemberOut(BaseModel):
    """A member as the API shows them."""

    staff_id: StaffId
    full_name: str
    role: StaffRole
    municipalities: list[str]
    email: str | None
    active: bool
    updated_at: datetime
