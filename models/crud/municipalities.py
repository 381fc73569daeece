"""Reading the oblast's municipalities (seeded by migration 0003)."""

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables.municipality import MunicipalityPublic, MunicipalityRow


async def list_municipalities(session: AsyncSession) -> list[MunicipalityPublic]:
    """Every municipality: city districts first, then municipal districts, each by name (in
    the database's collation)."""
    statement = select(MunicipalityRow).order_by(
        col(MunicipalityRow.kind), col(MunicipalityRow.name_ru)
    )
    rows = (await session.exec(statement)).all()
    return [MunicipalityPublic.model_validate(row, from_attributes=True) for row in rows]
