"""`kurator family erase`: the erasure of a family's data from the command line, for an
operator acting for a head or the ministry (infra.family_erasure does the work, as for the
API). Uses the settings' database, Temporal and master key file, as the API does."""

from uuid import UUID

from api.family_schemas import FamilyErased
from infra.family_erasure import Eraser, erase_family
from infra.sealing.setup import sealing_from_settings
from infra.temporal_client import connect_temporal
from models.access import Purpose
from models.db import make_async_engine, make_session_factory
from models.payloads.vocabulary import StaffRole
from models.settings import Settings


async def erase_from_cli(
    settings: Settings,
    *,
    family_id: UUID,
    staff_id: str,
    role: StaffRole,
    reason: str,
    legal_basis: str | None,
    purpose: Purpose,
) -> str:
    """Erase; what was erased, as the API answers it (JSON). Raises ErasureRefused."""
    engine = make_async_engine(settings.require_database_url())
    try:
        sessions = make_session_factory(engine)
        # The converter opens nothing here; the erasure only asks Temporal what still runs.
        _, converter = sealing_from_settings(settings, sessions)
        temporal = await connect_temporal(
            settings.require_temporal_address(),
            settings.temporal_namespace,
            data_converter=converter,
        )
        # The operator acts for the whole oblast: the CLI has no token to narrow it.
        eraser = Eraser(staff_id=staff_id, role=role, municipalities=None)
        async with sessions() as session, session.begin():
            erased = await erase_family(
                session,
                temporal,
                family_id=family_id,
                eraser=eraser,
                reason=reason,
                legal_basis=legal_basis,
                purpose=purpose,
            )
        return FamilyErased.of(erased).model_dump_json(indent=2)
    finally:
        await engine.dispose()
