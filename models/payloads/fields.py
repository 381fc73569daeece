"""Field types every payload and body shares, each defined once: codes, staff ids, free text,
timezone-aware moments. Pure pydantic, workflow-safe."""

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field

MUNICIPALITY_CODE_PATTERN = r"^[a-z0-9_]{1,32}$"
# PostgreSQL's text type cannot store NUL: text holding one would never be persisted.
NO_NUL_PATTERN = r"^[^\x00]*$"

MunicipalityCode = Annotated[
    str, Field(pattern=MUNICIPALITY_CODE_PATTERN, description="Municipality code.")
]
StaffId = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,64}$", description="Staff id.")]
ItemId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
# A comment, a reason, a provider's name: anything a person types, but NUL.
FreeText = Annotated[str, Field(pattern=NO_NUL_PATTERN)]


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("must include a timezone, e.g. 2026-05-12T10:00:00+07:00")
    return moment


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
