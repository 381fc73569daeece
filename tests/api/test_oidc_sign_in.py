"""Sign-in with tokens of the ministry's identity provider (OpenID Connect): RS256 and ES256
from the configured issuer and audience, keys from its JWKS (a real local endpoint), the staff
id from the configured claim mapped onto the directory. Each refusal is 401 naming the problem
and never echoing the token."""

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from temporalio.testing import WorkflowEnvironment

from models.payloads.vocabulary import StaffRole
from tests.support.jwks import AUDIENCE, Provider, SigningKey, jwks_provider
from tests.support.staff_api import STAFF, Directory, directory, member

CASES = "/api/v1/cases"


@asynccontextmanager
async def _signed_in_world(
    env: WorkflowEnvironment, database_url: str, provider: Provider, refresh: float = 30
) -> AsyncIterator[Directory]:
    async with directory(
        env,
        database_url,
        oidc_issuer=provider.issuer,
        oidc_audience=AUDIENCE,
        oidc_jwks_url=provider.jwks_url,
        oidc_jwks_refresh_seconds=refresh,
        # The set-up signs in as the ministry with Kurator's own token (test_hs256_... below
        # checks that these are refused by default once a provider is configured).
        local_tokens=True,
    ) as d:
        made = await d.api.put(
            f"{STAFF}/{d.staff_id('idp')}",
            headers=d.ministry,
            json=member("supervisor", ["berdsk"]),
        )
        assert made.status_code == 201, made.text
        yield d


def _hs256(claims: dict[str, Any], *, secret: bytes, kid: str) -> str:
    """A JWT signed by hand: PyJWT itself refuses a PEM key as an HMAC secret."""

    def part(value: bytes) -> str:
        return base64.urlsafe_b64encode(value).rstrip(b"=").decode()

    header = part(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = part(json.dumps(claims).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{part(signature)}"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _refused(d: Directory, token: str, expected: str, status: int = 401) -> None:
    answer = await d.api.get(CASES, headers=_bearer(token))
    assert answer.status_code == status, answer.text
    assert expected in answer.json()["message"], answer.json()
    assert token not in answer.text
    assert token.split(".")[1] not in answer.text


async def test_hs256_staff_tokens_are_refused_once_a_provider_is_configured(
    dev_env: WorkflowEnvironment, database_url: str
) -> None:
    key = SigningKey.new("RS256")
    with jwks_provider(key) as provider:
        async with directory(
            dev_env,
            database_url,
            oidc_issuer=provider.issuer,
            oidc_audience=AUDIENCE,
            oidc_jwks_url=provider.jwks_url,
        ) as d:
            local = d.register("both", StaffRole.SUPERVISOR, ["berdsk"])
            refused = await d.api.get(CASES, headers=local)
            through_provider = await d.api.get(
                CASES, headers=_bearer(provider.token(d.staff_id("both"), key=key))
            )
            unknown = await d.api.get(CASES, headers=_bearer(_hs256({}, secret=b"x", kid="k")))
    assert refused.status_code == 401, refused.text
    assert refused.json()["code"] == "local_tokens_refused"
    assert "identity provider" in refused.json()["message"]
    assert through_provider.status_code == 200, through_provider.text
    # Refused before its signature is even looked at: the same answer for a forged one.
    assert unknown.json()["code"] == "local_tokens_refused"


async def test_rs256_and_es256_tokens_of_the_provider_are_accepted_and_the_directory_decides(
    dev_env: WorkflowEnvironment, database_url: str
) -> None:
    rsa_key, ec_key = SigningKey.new("RS256"), SigningKey.new("ES256")
    with jwks_provider(rsa_key, ec_key) as provider:
        async with _signed_in_world(dev_env, database_url, provider) as d:
            for key in (rsa_key, ec_key):
                token = provider.token(d.staff_id("idp"), key=key)
                answer = await d.api.get(CASES, headers=_bearer(token))
                assert answer.status_code == 200, answer.text
            # The provider's token says who; the directory says the role: a supervisor's
            # token cannot manage the directory, whatever role claim it carries.
            claimed = provider.token(d.staff_id("idp"), role="ministry")
            assert (await d.api.get(STAFF, headers=_bearer(claimed))).status_code == 403
            await _refused(d, provider.token(d.staff_id("nobody")), "not in the staff directory")
            await _refused(
                d, provider.token("Иванов Иван", key=rsa_key), "claim preferred_username"
            )
            assert provider.fetches == 1  # cached


async def test_expired_wrong_issuer_wrong_audience_and_forged_tokens_are_401_naming_why(
    dev_env: WorkflowEnvironment, database_url: str
) -> None:
    key, stranger = SigningKey.new(), SigningKey.new()
    with jwks_provider(key) as provider:
        async with _signed_in_world(dev_env, database_url, provider) as d:
            who = d.staff_id("idp")
            await _refused(d, provider.token(who, expires_in=timedelta(minutes=-5)), "claim exp")
            await _refused(
                d, provider.token(who, issuer="http://evil.example/realms/x"), "claim iss"
            )
            await _refused(d, provider.token(who, audience="another-app"), "claim aud")
            forged = provider.token(who, key=SigningKey(key.kid, "RS256", stranger.private))
            await _refused(d, forged, "signature is not valid")


async def test_alg_none_and_hs256_signed_with_the_public_key_are_refused(
    dev_env: WorkflowEnvironment, database_url: str
) -> None:
    key = SigningKey.new()
    with jwks_provider(key) as provider:
        async with _signed_in_world(dev_env, database_url, provider) as d:
            claims = jwt.decode(
                provider.token(d.staff_id("idp")), options={"verify_signature": False}
            )
            unsigned = jwt.encode(claims, "", algorithm="none", headers={"kid": key.kid})
            await _refused(d, unsigned, "algorithm none is not accepted")
            public_pem = key.private.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            # The classic confusion: the provider's public key used as an HMAC secret.
            confused = _hs256(claims, secret=public_pem, kid=key.kid)
            await _refused(d, confused, "signature is not valid")
            ps256 = jwt.encode(claims, key.private, algorithm="PS256", headers={"kid": key.kid})
            await _refused(d, ps256, "algorithm PS256 is not accepted")


async def test_an_unknown_kid_refreshes_the_keys_once_per_interval_and_rotation_works(
    dev_env: WorkflowEnvironment, database_url: str
) -> None:
    old, new = SigningKey.new(), SigningKey.new("ES256")
    with jwks_provider(old) as provider:
        async with _signed_in_world(dev_env, database_url, provider, refresh=1.0) as d:
            who = d.staff_id("idp")
            assert (await d.api.get(CASES, headers=_bearer(provider.token(who)))).status_code == 200
            assert provider.fetches == 1

            # A flood of made-up key ids: refused, and the provider asked at most once more.
            for number in range(25):
                made_up = SigningKey(f"made-up-{number}", "RS256", old.private)
                await _refused(d, provider.token(who, key=made_up), "signing key (kid)")
            assert provider.fetches <= 2, provider.fetches

            # The provider rotates: the new kid appears, the old one goes.
            provider.keys = [new]
            await asyncio.sleep(1.1)
            rotated = provider.token(who, key=new)
            answer = await d.api.get(CASES, headers=_bearer(rotated))
            assert answer.status_code == 200, answer.text
            await _refused(d, provider.token(who, key=old), "signing key (kid)")


async def test_an_unreachable_provider_is_503_not_401(
    dev_env: WorkflowEnvironment, database_url: str
) -> None:
    key = SigningKey.new()
    with jwks_provider(key) as provider:
        provider.down = True
        async with _signed_in_world(dev_env, database_url, provider) as d:
            answer = await d.api.get(CASES, headers=_bearer(provider.token(d.staff_id("idp"))))
            assert answer.status_code == 503, answer.text
            assert answer.json()["code"] == "identity_provider_unavailable"
            # Kurator's own tokens still work meanwhile.
            assert (await d.api.get(STAFF, headers=d.ministry)).status_code == 200
