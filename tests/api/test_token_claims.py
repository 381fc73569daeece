"""Tokens signed with the right secret whose claims are wrong: each is refused (401) with a
message naming the claim, never accepted with an empty territory, never a 500.

Most cases call `read_token` directly (no servers needed); two go through HTTP to show the
API's answer, which used to be 200 with empty lists.
"""

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from temporalio.testing import WorkflowEnvironment

from api.auth import TokenError, VerifiedTokens, read_token
from models.payloads.vocabulary import StaffRole
from models.territory import MUNICIPALITY_CODES
from tests.support.api import JWT_SECRET, api_client, api_settings

SECRET = JWT_SECRET.encode()
MUNICIPALITY = "berdsk"


def _claims(**changes: Any) -> dict[str, Any]:
    """Valid claims for a specialist, with `changes` applied (a value of ... drops the claim)."""
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": "claims-staff-1",
        "role": "specialist",
        "mun": [MUNICIPALITY],
        "iat": now,
        "exp": now + timedelta(hours=1),
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not ...}


def _token(claims: dict[str, Any]) -> str:
    return jwt.encode(claims, SECRET, algorithm="HS256")


def _refusal(claims: dict[str, Any]) -> str:
    with pytest.raises(TokenError) as refused:
        read_token(_token(claims), secret=SECRET)
    return str(refused.value)


_HOUR_AGO = datetime.now(UTC) - timedelta(hours=1)
_IN_A_DAY = datetime.now(UTC) + timedelta(days=1)

# name: (claim changes, the claim the message must name)
BAD_CLAIMS: dict[str, tuple[dict[str, Any], str]] = {
    "mun-unknown": ({"mun": ["atlantis"]}, "mun"),
    "mun-one-unknown-among-known": ({"mun": [MUNICIPALITY, "atlantis"]}, "mun"),
    "mun-a-string": ({"mun": MUNICIPALITY}, "mun"),
    "mun-an-object": ({"mun": {MUNICIPALITY: True}}, "mun"),
    "mun-a-number-in-the-list": ({"mun": [7]}, "mun"),
    "mun-malformed-code": ({"mun": ["Berdsk!"]}, "mun"),
    "mun-empty-for-staff": ({"mun": []}, "mun"),
    "mun-missing-for-staff": ({"mun": ...}, "mun"),
    "mun-null-for-staff": ({"mun": None}, "mun"),
    "sub-missing": ({"sub": ...}, "sub"),
    "sub-a-number": ({"sub": 101}, "sub"),
    "sub-empty": ({"sub": ""}, "sub"),
    "sub-with-spaces": ({"sub": "staff 101"}, "sub"),
    "sub-too-long": ({"sub": "s" * 65}, "sub"),
    "role-missing": ({"role": ...}, "role"),
    "role-unknown": ({"role": "janitor"}, "role"),
    "role-a-number": ({"role": 1}, "role"),
    "role-a-list": ({"role": ["specialist"]}, "role"),
    "exp-missing": ({"exp": ...}, "exp"),
    "exp-a-string": ({"exp": "tomorrow"}, "exp"),
    "exp-a-numeric-string": ({"exp": str(int(_IN_A_DAY.timestamp()))}, "exp"),
    "exp-a-boolean": ({"exp": True}, "exp"),
    "exp-not-a-number": ({"exp": float("nan")}, "exp"),
    "exp-infinite": ({"exp": float("inf")}, "exp"),
    "exp-past": ({"exp": _HOUR_AGO}, "exp"),
    "iat-a-string": ({"iat": "today"}, "iat"),
    "iat-in-the-future": ({"iat": _IN_A_DAY}, "iat"),
    "nbf-a-string": ({"nbf": "soon"}, "nbf"),
    "nbf-in-the-future": ({"nbf": _IN_A_DAY}, "nbf"),
}


@pytest.mark.parametrize("name", list(BAD_CLAIMS), ids=str)
def test_a_bad_claim_is_refused_naming_the_claim(name: str) -> None:
    changes, claim = BAD_CLAIMS[name]
    message = _refusal(_claims(**changes))
    assert message.startswith(f"claim {claim}: "), message


def test_an_unknown_municipality_is_named() -> None:
    assert _refusal(_claims(mun=["atlantis"])) == "claim mun: unknown municipality atlantis"


def test_the_message_never_echoes_a_value_that_is_not_a_code() -> None:
    """A staff id or a malformed value may be anything, personal data included."""
    secret_looking = "Иванова Мария Петровна"
    changes: dict[str, Any]
    for changes in ({"sub": secret_looking}, {"mun": [secret_looking]}, {"role": secret_looking}):
        message = _refusal(_claims(**changes))
        assert secret_looking not in message, message


def test_the_ministry_may_omit_its_territory_and_reads_every_one() -> None:
    omitted: tuple[Any, ...] = (..., [])
    for mun in omitted:
        actor = read_token(_token(_claims(role="ministry", mun=mun)), secret=SECRET)
        assert actor.role is StaffRole.MINISTRY
        assert set(actor.municipalities) == MUNICIPALITY_CODES


def test_the_ministry_naming_an_unknown_municipality_is_refused_too() -> None:
    message = _refusal(_claims(role="ministry", mun=["atlantis"]))
    assert message == "claim mun: unknown municipality atlantis"


def test_valid_claims_give_the_actor() -> None:
    fractional_expiry = datetime.now(UTC).timestamp() + 3600.5  # NumericDate may be fractional
    actor = read_token(
        _token(_claims(mun=[MUNICIPALITY, "iskitim_district"], exp=fractional_expiry)),
        secret=SECRET,
    )
    assert actor.staff_id == "claims-staff-1"
    assert actor.role is StaffRole.SPECIALIST
    assert actor.municipalities == (MUNICIPALITY, "iskitim_district")


def test_a_remembered_token_is_still_checked_for_expiry_at_each_use() -> None:
    verified = VerifiedTokens()
    token = _token(_claims(exp=datetime.now(UTC) + timedelta(seconds=1)))
    assert read_token(token, secret=SECRET, verified=verified).staff_id == "claims-staff-1"
    assert verified.get(token) is not None  # its signature is not checked again
    with pytest.raises(TokenError, match="claim exp: the token has expired"):
        read_token(
            token,
            secret=b"not the secret the token was signed with",
            verified=verified,
            now=time.time() + 2,
        )


def test_a_forged_token_is_not_remembered_and_the_oldest_token_makes_room() -> None:
    verified = VerifiedTokens(capacity=2)
    forged = jwt.encode(_claims(), b"another secret, not the one the API holds", algorithm="HS256")
    with pytest.raises(TokenError, match="signature is not valid"):
        read_token(forged, secret=SECRET, verified=verified)
    assert verified.get(forged) is None
    first, second, third = (_token(_claims(sub=f"claims-staff-{n}")) for n in range(3))
    for token in (first, second, third):
        read_token(token, secret=SECRET, verified=verified)
    assert verified.get(first) is None
    assert verified.get(second) is not None
    assert verified.get(third) is not None


@pytest.mark.parametrize(
    ("mun", "expected"),
    [(["atlantis"], "claim mun: unknown municipality atlantis"), (MUNICIPALITY, "claim mun: ")],
    ids=["unknown-municipality", "mun-a-string"],
)
async def test_the_api_answers_401_naming_the_claim(
    dev_env: WorkflowEnvironment, database_url: str, mun: Any, expected: str
) -> None:
    """These two were answered 200 with empty lists."""
    settings = api_settings(dev_env, database_url, f"test-claims-{uuid.uuid4().hex}")
    headers = {"Authorization": f"Bearer {_token(_claims(mun=mun))}"}
    async with api_client(settings) as api:
        for path in ("/api/v1/cases", "/api/v1/tasks"):
            response = await api.get(path, headers=headers)
            assert response.status_code == 401, response.text
            assert response.headers["WWW-Authenticate"] == "Bearer"
            body = response.json()
            assert body["code"] == "invalid_token"
            assert body["message"].startswith(expected), body
