"""Staff tokens: HS256 JWTs whose claims say who acts, in which role and on which territory."""

from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

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


class VerifiedTokens:
    """Tokens whose signature verified, with their claims, the most recently used kept: a
    member's browser sends the same token with every request, and decoding it (two base64
    passes, PyJWT's character-by-character alphabet check, the HMAC) cost about half a
    millisecond of each. Only the signature's verdict is remembered; the claims, expiry
    first, are checked again at every use. One per application, as its secret is."""

    def __init__(self, capacity: int = 4096) -> None:
        self._capacity = capacity
        self._claims: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def get(self, token: str) -> dict[str, Any] | None:
        claims = self._claims.get(token)
        if claims is not None:
            self._claims.move_to_end(token)
        return claims

    def put(self, token: str, claims: dict[str, Any]) -> None:
        self._claims[token] = claims
        if len(self._claims) > self._capacity:
            self._claims.popitem(last=False)


def read_token(
    token: str,
    *,
    secret: bytes,
    verified: VerifiedTokens | None = None,
    now: float | None = None,
) -> Actor:
    """The actor a token speaks for; TokenError if it is malformed, forged or expired, or if a
    claim is missing or wrong (the message names the claim). `verified` remembers the tokens
    whose signature held, so that the next request with one skips decoding it. `now` (epoch
    seconds) is the moment the claims are checked at, by default the present."""
    claims = None if verified is None else verified.get(token)
    if claims is None:
        claims = _signed_claims(token, secret)
        if verified is not None:
            verified.put(token, claims)
    try:
        return actor_from_claims(claims, now=now)
    except ClaimError as error:
        raise TokenError(str(error)) from None


def _signed_claims(token: str, secret: bytes) -> dict[str, Any]:
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
    return claims


def _actor(staff_id: str, role: StaffRole | str, municipalities: Sequence[str]) -> Actor:
    role = StaffRole(role)
    if role is StaffRole.MINISTRY and not municipalities:
        # The ministry reads every territory; its role forbids every action.
        municipalities = sorted(MUNICIPALITY_CODES)
    return Actor(staff_id=staff_id, role=role, municipalities=tuple(municipalities))
