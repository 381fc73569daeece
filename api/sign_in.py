"""Who a request's token speaks for, checked against the staff directory on every request.

A token only says who signs in: a Kurator staff token (HS256, `kurator token`, for `kurator
dev` and tests; refused once an identity provider is configured, unless KURATOR_LOCAL_TOKENS
says otherwise) or a token of the ministry's identity provider (RS256/ES256, api/oidc.py). The
staff directory (models/tables/staff_member.py) is the authority for the role and the
municipalities the actor gets. One primary-key read per request and no cache, so a change to
the directory takes effect with the next request:

- a staff id the directory does not list, or a deactivated member: 401;
- a Kurator token claiming a role, or municipalities, the directory no longer grants: 403
  (the directory changed after the token was issued: ask for a new one).

Messages name the problem, never the token, and never the staff id (a value from the token).
"""

from dataclasses import dataclass
from typing import Any

import jwt

from api.auth import ALGORITHM as DEV_ALGORITHM
from api.auth import TokenError, read_token
from api.oidc import ALGORITHMS as PROVIDER_ALGORITHMS
from api.oidc import IdentityProviderUnavailable
from api.state import AppState
from models.crud.staff_directory import Grants, member_grants
from models.payloads.actions import Actor
from models.payloads.vocabulary import StaffRole
from models.territory import MUNICIPALITY_CODES


class SignInRefused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class Presented:
    """What a verified token says: who, and (Kurator's own tokens only) the role and
    municipalities it was issued for."""

    staff_id: str
    role: StaffRole | None = None
    municipalities: tuple[str, ...] | None = None


async def authenticate(state: AppState, token: str) -> Actor:
    """The actor, as the directory describes them; SignInRefused (401/403/503) otherwise."""
    presented = await _verified(state, token)
    async with state.reads() as session:
        member = await member_grants(session, presented.staff_id)
    return actor_from_directory(presented, member)


def actor_from_directory(presented: Presented, member: Grants | None) -> Actor:
    if member is None:
        raise SignInRefused(
            401, "unknown_staff", "the token's staff id is not in the staff directory"
        )
    if not member.active:
        raise SignInRefused(
            401, "staff_deactivated", "the token's staff member is deactivated in the directory"
        )
    role = StaffRole(member.role)
    granted = sorted(MUNICIPALITY_CODES) if role is StaffRole.MINISTRY else member.municipalities
    if presented.role is not None and presented.role is not role:
        raise SignInRefused(
            403,
            "role_not_granted",
            f"the staff directory no longer grants role {presented.role.value} "
            f"(it lists {role.value}): sign in again",
        )
    withdrawn = sorted(set(presented.municipalities or ()) - set(granted))
    if withdrawn:
        raise SignInRefused(
            403,
            "territory_not_granted",
            f"the staff directory no longer grants municipality {', '.join(withdrawn)}: "
            "sign in again",
        )
    return Actor(staff_id=member.staff_id, role=role, municipalities=tuple(granted))


async def _verified(state: AppState, token: str) -> Presented:
    if state.local_tokens and state.verified_tokens.get(token) is not None:
        header = {"alg": DEV_ALGORITHM}  # a token of ours, verified before: no decoding again
    else:
        header = _header(token)
    algorithm = header.get("alg")
    if algorithm == DEV_ALGORITHM and not state.local_tokens:
        raise SignInRefused(
            401,
            "local_tokens_refused",
            "Kurator's own staff tokens (HS256, `kurator token`) are not accepted here: sign "
            "in through the identity provider",
        )
    try:
        if algorithm == DEV_ALGORITHM:
            actor = read_token(token, secret=state.jwt_secret, verified=state.verified_tokens)
            return Presented(actor.staff_id, actor.role, actor.municipalities)
        if algorithm in PROVIDER_ALGORITHMS and state.oidc is not None:
            return Presented(await state.oidc.staff_id(token, header))
    except TokenError as error:
        raise SignInRefused(401, "invalid_token", str(error)) from None
    except IdentityProviderUnavailable as error:
        raise SignInRefused(503, "identity_provider_unavailable", str(error)) from None
    accepted = [DEV_ALGORITHM] if state.local_tokens else []
    accepted += PROVIDER_ALGORITHMS if state.oidc is not None else ()
    shown = (
        algorithm
        if isinstance(algorithm, str) and algorithm.isalnum() and len(algorithm) < 16
        else "?"
    )
    raise SignInRefused(
        401,
        "invalid_token",
        f"the token's algorithm {shown} is not accepted (accepted: {', '.join(accepted)})",
    )


def _header(token: str) -> dict[str, Any]:
    try:
        return jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise SignInRefused(
            401, "invalid_token", "the token is malformed (no JWT header)"
        ) from None
