"""Staff tokens: HS256 JWTs whose claims say who acts, in which role and on which territory."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import jwt

from api.token_claims import ClaimError, actor_from_claims
from models.payloads.actions import Actor
from models.payloads.vocabulary import StaffRole
from models.territory import MUNICIPALITY_CODES

ALGORITHM = "HS256"
DEFAULT_TTL = timedelta(hours=8)


class TokenError(Exception):
    """The token cannot be trusted; the message says why (never echoes the token)."""


def issue_token(
    *,
    secret: bytes,
    staff_id: str,
    role: StaffRole,
    municipalities: Sequence[str],
    ttl: timedelta = DEFAULT_TTL,
    now: datetime | None = None,
) -> str:
    issued = now or datetime.now(UTC)
    unknown = sorted(set(municipalities) - MUNICIPALITY_CODES)
    if unknown:
        raise TokenError(f"unknown municipality codes: {', '.join(unknown)}")
    actor = _actor(staff_id, role, municipalities)  # validates the claims before signing
    claims = {
        "sub": actor.staff_id,
        "role": actor.role.value,
        "mun": list(actor.municipalities),
        "iat": issued,
        "exp": issued + ttl,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(token: str, *, secret: bytes) -> Actor:
    """The actor a token speaks for; TokenError if it is malformed, forged or expired, or if a
    claim is missing or wrong (the message names the claim)."""
    try:
        # The signature (and aud, jti) only: PyJWT would refuse a bad exp, iat, nbf or sub
        # without naming the claim; `actor_from_claims` checks each claim, naming it.
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "verify_sub": False,
                "require": [],
            },
        )
    except jwt.InvalidSignatureError:
        raise TokenError("the token's signature is not valid") from None
    except jwt.PyJWTError as error:
        raise TokenError(f"the token is malformed ({type(error).__name__})") from None
    try:
        return actor_from_claims(claims)
    except ClaimError as error:
        raise TokenError(str(error)) from None


def _actor(staff_id: str, role: StaffRole | str, municipalities: Sequence[str]) -> Actor:
    role = StaffRole(role)
    if role is StaffRole.MINISTRY and not municipalities:
        # The ministry reads every territory; its role forbids every action.
        municipalities = sorted(MUNICIPALITY_CODES)
    return Actor(staff_id=staff_id, role=role, municipalities=tuple(municipalities))
