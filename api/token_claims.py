"""What a staff token's claims must say, checked claim by claim.

PyJWT proves who signed a token; this module decides whether what it says can be acted on.
A token signed with the right secret can still name a municipality that does not exist, carry
`mun` as a string (which would read as a list of letters), or hold an `exp` that is not a
date: each is refused with a message naming the claim ("claim mun: unknown municipality
atlantis"), because an actor with an empty or garbled territory would otherwise be accepted
and answered with empty lists. Messages echo only values known to be safe (municipality
codes that match the code pattern), never a staff id or a malformed value, which could be
anything, personal data included.
"""

import time
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError

from models.payloads.actions import Actor
from models.payloads.vocabulary import StaffRole
from models.territory import CODE_PATTERN, MUNICIPALITY_CODES

# Strict: pydantic's lax mode would read the string "1700000000", or true, as a date. A
# NumericDate (RFC 7519) may be fractional, so float, but never NaN or infinite.
_NumericDate = Annotated[float, Strict(), Field(allow_inf_nan=False)]
_StaffId = Annotated[str, Strict(), Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
_Code = Annotated[str, Strict(), Field(pattern=CODE_PATTERN.pattern)]


class ClaimError(ValueError):
    """A claim is missing or wrong; the message names it and never echoes an unsafe value."""


class _StaffClaims(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    sub: _StaffId
    role: StaffRole
    exp: _NumericDate
    mun: list[_Code] | None = None
    iat: _NumericDate | None = None
    nbf: _NumericDate | None = None


def actor_from_claims(claims: dict[str, Any], *, now: float | None = None) -> Actor:
    """The actor the (signature-checked) claims speak for; ClaimError naming any bad claim."""
    try:
        parsed = _StaffClaims.model_validate(claims)
    except ValidationError as error:
        raise ClaimError(_describe(error)) from None
    moment = time.time() if now is None else now
    if parsed.exp <= moment:
        raise ClaimError("claim exp: the token has expired")
    if parsed.nbf is not None and parsed.nbf > moment:
        raise ClaimError("claim nbf: the token is not valid yet")
    if parsed.iat is not None and parsed.iat > moment:
        raise ClaimError("claim iat: the token says it was issued in the future")
    municipalities = parsed.mun or []
    unknown = sorted(set(municipalities) - MUNICIPALITY_CODES)
    if unknown:
        # Safe to name: each matched the code pattern (lowercase ASCII, digits, underscores).
        raise ClaimError(f"claim mun: unknown municipality {', '.join(unknown)}")
    if not municipalities:
        if parsed.role is not StaffRole.MINISTRY:
            raise ClaimError("claim mun: a staff token must name at least one municipality")
        # The ministry reads every territory; its role forbids every action.
        municipalities = sorted(MUNICIPALITY_CODES)
    return Actor(staff_id=parsed.sub, role=parsed.role, municipalities=tuple(municipalities))


def _describe(error: ValidationError) -> str:
    problems = []
    for problem in error.errors(include_input=False, include_url=False):
        claim = str(problem["loc"][0]) if problem["loc"] else "?"
        what = "missing" if problem["type"] == "missing" else problem["msg"]
        if problem["type"] == "finite_number":
            what = "must be a finite number (seconds since 1970)"
        problems.append(f"claim {claim}: {what}")
    return "; ".join(dict.fromkeys(problems))  # one line per claim, in the order found
