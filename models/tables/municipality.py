"""The oblast's municipalities (PRODUCT.md §3), the territory every family record belongs to.

Seeded by migration 0003 from the same list as `models.territory`; families reference a row
here, so a record can never name a municipality that does not exist.
"""

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from models.territory import MunicipalityKind


class MunicipalityBase(SQLModel):
    name_ru: str = Field(max_length=100)
    kind: str = Field(max_length=32)  # a MunicipalityKind value


class MunicipalityRow(MunicipalityBase, table=True):
    """Named "Row" so it never shadows the pure `models.territory.Municipality`."""

    __tablename__ = "municipalities"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('city_district', 'municipal_district')", name="ck_municipalities_kind"
        ),
    )

    code: str = Field(primary_key=True, max_length=32)


class MunicipalityPublic(MunicipalityBase):
    code: str
    kind: MunicipalityKind
