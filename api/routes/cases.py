"""Cases: intake, reading one, listing, and the audit history."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import TypeAdapter

from api.case_commands import answered, family_erased_error
from api.deps import (
    AddressedCase,
    CurrentActor,
    IdempotencyKey,
    State,
    VisibleCase,
    sees,
    territory,
)
from api.errors import ApiError, error_responses
from api.idempotency import claim, fingerprint
from api.intake_policy import intake_policy_context
from api.model_response import models_response
from api.purpose import RequestPurpose
from api.schemas import CaseCreated, CasePage, IntakeRequest
from infra.case_client import open_or_join
from infra.sealing.family_keys import KeyDestroyed
from models.access import AccessedData
from models.case_numbers import EXAMPLE, is_case_number
from models.crud.access_log import Access, log_access
from models.crud.case_events import list_events
from models.crud.case_projections import list_views
from models.crud.cursors import CursorError
from models.crud.families import locate_family, save_family
from models.crud.family_erasures import is_erased
from models.identity import family_key
from models.lifecycle.actions import allowed_actions
from models.payloads.actions import Actor, SignalBody
from models.payloads.case_start import CaseStart
from models.payloads.case_view import CaseView
from models.payloads.fields import MUNICIPALITY_CODE_PATTERN
from models.payloads.vocabulary import StaffRole, Stage
from models.policy import AccompanimentLevel
from models.policy.loader import PolicyFileError, load_policy
from models.tables.case_event import CaseEventPublic
from models.territory import MUNICIPALITY_CODES
from workflows.ids import family_key_of

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])
_EVENT_LIST = TypeAdapter(list[CaseEventPublic])

# Deeper than this, `after` (a range scan) replaces `offset` (which reads every skipped row).
MAX_OFFSET = 10_000


def for_caller(view: CaseView, actor: Actor) -> CaseView:
    """The view with the actions the caller's role may take next."""
    return view.model_copy(update={"allowed_actions": allowed_actions(view.stage, actor.role)})


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Intake of a signal or request (выявление / запрос семьи)",
    responses={
        200: {"model": CaseCreated, "description": "Joined the family's open episode."},
        **error_responses(401, 403, 409, 422, 429, 503),
    },
)
async def intake(
    body: IntakeRequest,
    actor: CurrentActor,
    state: State,
    key: IdempotencyKey,
    response: Response,
) -> CaseCreated:
    if actor.role is StaffRole.MINISTRY:
        raise ApiError(403, "forbidden", "the ministry reads cases and does not register them")
    if body.municipality not in MUNICIPALITY_CODES:
        raise ApiError(422, "invalid_request", f"unknown municipality {body.municipality}")
    if body.municipality not in actor.municipalities:
        raise ApiError(403, "forbidden", "the municipality is outside your territory")
    if body.policy is not None and not state.settings.allow_policy_override:
        raise ApiError(403, "forbidden", "this server does not accept a policy override")
    if body.policy is not None:
        try:  # a shipped file, read in a millisecond; unknown, the case would fail to open
            load_policy(body.policy)
        except PolicyFileError:
            raise ApiError(422, "invalid_request", f"unknown policy {body.policy}") from None
    pseudonym = family_key(body.family.registry_id, state.pseudonym_secret)
    async with state.sessions() as session, session.begin():
        # In the family record's transaction: a refused key leaves no record written.
        replayed = await claim(
            session,
            key=key,
            fingerprint=fingerprint(
                state.pseudonym_secret, request="intake", staff_id=actor.staff_id, body=body
            ),
        )
        known = await locate_family(session, family_key=pseudonym)
        if known is not None and known.municipality not in actor.municipalities:
            # Neither move the family nor disclose its case: its own centre decides.
            raise ApiError(
                403,
                "other_territory",
                "the family is registered with another municipality's centre; nothing was "
                "recorded: pass the signal to that centre",
            )
        if known is not None and await is_erased(session, family_id=known.id) is not None:
            raise family_erased_error()
        if replayed and known is not None:
            # A retry's record was saved (and its write logged) with the claim it repeats.
            family_id = known.id
        else:
            try:
                family_id, _ = await save_family(
                    session,
                    keys=state.keys,
                    family_key=pseudonym,
                    municipality=body.municipality,
                    family=body.family,
                    staff_id=actor.staff_id,
                    role=actor.role,
                    purpose="intake of a signal",
                )
            except KeyDestroyed:  # erased between the check above and the record's sealing
                raise family_erased_error() from None
    wait = timedelta(seconds=state.settings.update_timeout_seconds)
    start = CaseStart(
        case_id=uuid.uuid5(uuid.NAMESPACE_URL, f"kurator:{pseudonym}:{key}"),
        municipality=body.municipality,
        policy=body.policy or state.settings.case_policy,
    )
    signal = SignalBody(
        source=body.source,
        comment=body.comment,
        child_safety_indicators=body.child_safety_indicators,
    ).by(actor)
    outcome = await answered(
        lambda: open_or_join(
            state.temporal,
            task_queue=state.settings.task_queue,
            family_key=pseudonym,
            start=start,
            signal=signal,
            key=key,
            rpc_timeout=wait,
            policy_context=intake_policy_context(start.policy, datetime.now(UTC)),
        ),
        wait,
    )
    if outcome.joined:
        response.status_code = status.HTTP_200_OK
    return CaseCreated(
        case=for_caller(outcome.view, actor), joined=outcome.joined, family_id=family_id
    )


@router.get(
    "/{case_id}",
    summary="A case's current state (текущее состояние случая)",
    responses=error_responses(401, 404),
)
async def read_case(case: VisibleCase, actor: CurrentActor) -> CaseView:
    return for_caller(case, actor)


@router.get(
    "",
    summary="Cases in your territory (список случаев)",
    description="Overdue first, then by next deadline. Page with `after` (the previous page's "
    "`next_cursor`): a page costs the same however deep; `offset` is for the first few "
    f"pages only (at most {MAX_OFFSET}).",
    responses=error_responses(401, 422),
)
async def list_cases(
    actor: CurrentActor,
    state: State,
    stage: Stage | None = None,
    level: AccompanimentLevel | None = None,
    municipality: Annotated[str | None, Query(pattern=MUNICIPALITY_CODE_PATTERN)] = None,
    overdue: bool | None = None,
    curator: Annotated[str | None, Query(max_length=64)] = None,
    number: Annotated[
        str | None,
        Query(max_length=32, description=f"A case number (номер случая), e.g. {EXAMPLE}."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    after: Annotated[
        str | None, Query(max_length=200, description="The `next_cursor` of the previous page.")
    ] = None,
) -> CasePage:
    if number is not None:
        number = number.strip().upper()  # as people type it: брд-2026-00042 is БРД-2026-00042
        if not is_case_number(number):
            raise ApiError(
                422, "invalid_request", f"number: not a case number (expected e.g. {EXAMPLE})"
            )
    async with state.reads() as session:
        try:
            page = await list_views(
                session,
                municipalities=territory(actor),
                stage=stage,
                level=level,
                municipality=municipality,
                overdue=overdue,
                curator=curator,
                number=number,
                limit=limit,
                offset=offset,
                after=after,
                count=after is None,
                keys=state.keys,
            )
        except CursorError:
            raise ApiError(422, "invalid_request", "after: not a cursor of this listing") from None
    items = [for_caller(view, actor) for view in page.views if sees(actor, view.municipality)]
    return CasePage(
        items=items,
        total=page.total,
        total_capped=page.total_capped,
        limit=limit,
        offset=offset,
        next_cursor=page.next_cursor,
    )


@router.get(
    "/{case_id}/events",
    response_model=list[CaseEventPublic],
    summary="The case's history, oldest first (история случая)",
    description="Needs `X-Purpose`: every read of a case's history is recorded in the "
    "family's access log.",
    responses=error_responses(401, 404, 422),
)
async def case_events(
    case: AddressedCase, actor: CurrentActor, state: State, purpose: RequestPurpose
) -> Response:
    family = family_key_of(case.workflow_id)
    async with state.sessions() as session, session.begin():
        # The read and its access-log row commit together (PRODUCT.md §5).
        ref = None if family is None else await locate_family(session, family_key=family)
        events = await list_events(session, case_id=case.case_id, keys=state.keys)
        await log_access(
            session,
            Access.by(actor, AccessedData.CASE_HISTORY, purpose),
            family_ids=[None if ref is None else ref.id],
            case_id=case.case_id,
        )
    return models_response(_EVENT_LIST, list(events))
