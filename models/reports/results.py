"""A computed report: each indicator as a small table with labelled columns, the same shape for
JSON, CSV and the dashboard."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from models.reports.catalogue import IndicatorId

Cell = str | int | float | None
ColumnKind = Literal["text", "count", "share", "number"]


class Column(BaseModel):
    key: str
    label_ru: str
    kind: ColumnKind = Field(description="text; count; share (0..1); number (a median, hours).")


class IndicatorTable(BaseModel):
    id: IndicatorId
    label_ru: str
    description_ru: str = Field(description="How it is computed.")
    columns: list[Column]
    rows: list[dict[str, Cell]]


class IndicatorReport(BaseModel):
    indicator_set: str = Field(description="The version of the indicator file used.")
    date_from: date
    date_to: date
    municipalities: list[str] | None = Field(description="The municipalities covered; null: all.")
    generated_at: datetime
    indicators: list[IndicatorTable]


def share(part: int, whole: int) -> float | None:
    """part / whole, rounded to 4 places; None when there is nothing to share."""
    return None if whole == 0 else round(part / whole, 4)
