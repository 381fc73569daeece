"""FastAPI dependencies as `Annotated` aliases: the app state, the caller, the idempotency key,
and a case the caller may see (its whole state, or only where its actions go).

`get_state` is `async def` although it never awaits: FastAPI runs a plain `def` dependency in
a worker thread, a hop per request that cost more than its work. `current_actor` reads the
caller's staff directory entry (api/sign_in.py)."""

from typing import Annotated, Protocol, TypeVar, cast
from uuid import UUID

from fastapi import Depends, Header, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiError
from api.sign_in import SignInRefused, authenticate
from api.state import AppState
from models.crud.case_projections import CaseAddress, get_address, get_view
from models.payloads.actions import Actor
from models.payloads.case_view import CaseView
from models.payloads.vocabulary import StaffRole


async def get_state(request: Request) -> AppState:
    return cast(AppState, request.app.state.kurator)


State = Annotated[AppState, Depends(get_state)]

_bearer = HTTPBearer(auto_error=False, description="A staff token from `kurator token`.")


async def current_actor(
    state: State, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Actor:
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise ApiError(
            401, "unauthenticated", "send Authorization: Bearer <token>", headers=challenge
        )
    try:
        return await authenticate(state, credentials.credentials)
    except SignInRefused as refused:
        raise refusal(refused) from None


def refusal(refused: SignInRefused, hint: str = "") -> ApiError:
    """The API's answer to a refused sign-in: a 401 carries the Bearer challenge."""
    headers = {"WWW-Authenticate": "Bearer"} if refused.status == 401 else None
    return ApiError(refused.status, refused.code, refused.message + hint, headers=headers)


CurrentActor = Annotated[Actor, Depends(current_actor)]

IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=100,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="Ключ идемпотентности / a key unique to this request: a retry with the "
        "same key has one effect and gets the same answer.",
    ),
]


def sees(actor: Actor, municipality: str) -> bool:
    return actor.role is StaffRole.MINISTRY or municipality in actor.municipalities


def territory(actor: Actor) -> tuple[str, ...] | None:
    """The municipalities the caller's reads cover: None for every one (the ministry)."""
    return None if actor.role is StaffRole.MINISTRY else actor.municipalities


CaseIdPath = Annotated[UUID, Path(description="Идентификатор случая / the case id.")]


def case_not_found(case_id: UUID) -> ApiError:
    """The answer for a case that does not exist or lies outside the caller's territory: the
    same either way, so a case elsewhere is not disclosed."""
    return ApiError(404, "not_found", f"no case {case_id}")


async def visible_case(state: State, actor: CurrentActor, case_id: CaseIdPath) -> CaseView:
    """The case, if it exists and lies in the caller's territory. A case elsewhere answers
    404 exactly like a missing one: its existence is not disclosed."""
    async with state.reads() as session:
        view = await get_view(session, case_id=case_id, keys=state.keys)
    return _in_territory(view, actor, case_id)


VisibleCase = Annotated[CaseView, Depends(visible_case)]


async def addressed_case(state: State, actor: CurrentActor, case_id: CaseIdPath) -> CaseAddress:
    """Where the case's actions go, if it exists and lies in the caller's territory; answers
    exactly as `visible_case` does, from three columns of the row instead of the whole view."""
    async with state.reads() as session:
        address = await get_address(session, case_id=case_id)
    return _in_territory(address, actor, case_id)


AddressedCase = Annotated[CaseAddress, Depends(addressed_case)]


class _OfMunicipality(Protocol):
    @property
    def municipality(self) -> str: ...


Found = TypeVar("Found", bound=_OfMunicipality)


def _in_territory(found: Found | None, actor: Actor, case_id: UUID) -> Found:
    """`found`, if it exists and lies in the caller's territory; else 404, the same answer
    either way, so a case elsewhere is not disclosed."""
    if found is None or not sees(actor, found.municipality):
        raise case_not_found(case_id)
    return found
