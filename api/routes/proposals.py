"""What the resource map and the staff directory propose for a case's next steps:
`GET /api/v1/cases/{id}/route-proposals` (маршрутизация: providers ranked for the family's
assessed needs in its municipality) and `GET /api/v1/cases/{id}/curator-proposals` (команда
сопровождения: the territory's specialists, lightest caseload first). Proposals only: the
specialist decides through the `route` and `team` actions."""

from datetime import UTC, datetime
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import State, VisibleCase
from api.errors import ApiError, error_responses
from models.crud.resource_load import open_cases_by_curator
from models.crud.route_proposals import proposals_for_case
from models.crud.staff_directory import active_members
from models.payloads.vocabulary import AccompanimentChannel, ServiceType, StaffRole, Stage
from models.policy.codes import AccompanimentLevel
from models.resource_map.curators import CuratorProposal, rank_curators
from models.resource_map.policy import shipped_resource_policy
from models.resource_map.proposals import RouteProposal

router = APIRouter(prefix="/api/v1/cases", tags=["proposals"])


class RouteProposals(BaseModel):
    case_id: UUID
    municipality: str
    level: AccompanimentLevel
    needed_services: list[ServiceType] = Field(
        description="Нужные услуги / what the assessment calls for (442-ФЗ ст. 20)."
    )
    needed_channels: list[AccompanimentChannel]
    proposals: list[RouteProposal] = Field(description="Предложения, лучшие первыми.")


class CuratorProposals(BaseModel):
    case_id: UUID
    municipality: str
    caseload_limit: float
    proposals: list[CuratorProposal] = Field(description="Кураторы, наименее загруженные первыми.")


@router.get(
    "/{case_id}/route-proposals",
    summary="Providers of the resource map proposed for the case's route (маршрутизация)",
    responses=error_responses(401, 404, 409),
)
async def route_proposals(case: VisibleCase, state: State) -> RouteProposals:
    async with state.reads() as session:
        found = await proposals_for_case(
            session,
            case_id=case.case_id,
            municipality=case.municipality,
            policy=shipped_resource_policy(),
            now=datetime.now(UTC),
        )
    if found is None:
        raise ApiError(
            409,
            "not_assessed",
            f"the case is in stage {case.stage} with no recognised need and level: route "
            "proposals follow the assessment",
        )
    return RouteProposals(
        case_id=case.case_id,
        municipality=case.municipality,
        level=found.level,
        needed_services=sorted(found.needs.services),
        needed_channels=sorted(found.needs.channels),
        proposals=found.proposals,
    )


@router.get(
    "/{case_id}/curator-proposals",
    summary="Curators of the case's territory, lightest caseload first (команда сопровождения)",
    responses=error_responses(401, 404, 409),
)
async def curator_proposals(case: VisibleCase, state: State) -> CuratorProposals:
    if case.stage is Stage.CLOSED:
        raise ApiError(409, "case_closed", "the case is closed: it takes no curator")
    policy = shipped_resource_policy()
    async with state.reads() as session:
        members = await active_members(
            session, role=StaffRole.SPECIALIST, municipality=case.municipality
        )
        caseload = await open_cases_by_curator(session, [m.staff_id for m in members])
    ranked = rank_curators(
        [(m.staff_id, m.full_name) for m in members],
        open_cases=caseload,
        policy=policy,
        adding=case.level,
        current=case.curator,
    )
    return CuratorProposals(
        case_id=case.case_id,
        municipality=case.municipality,
        caseload_limit=policy.caseload_limit.value,
        proposals=ranked,
    )
