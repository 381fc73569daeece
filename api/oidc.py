"""Tokens of the ministry's identity provider (Keycloak, ADFS, any OpenID Connect issuer):
RS256 or ES256, from the configured issuer, for the configured audience, signed by a key of the
issuer's JWKS. The token says who signs in (the configured staff-id claim); the staff directory
says in which role and on which territory (api/sign_in.py).

The JWKS is cached. A token naming a key id the cache lacks refreshes it (the provider has
rotated its keys), but not more often than every `refresh_seconds`: a flood of tokens with
made-up key ids costs the provider one request per interval, not one per token.
"""

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt

from api.auth import TokenError
from models.payloads.fields import STAFF_ID_PATTERN
from models.settings import Settings

ALGORITHMS = ("RS256", "ES256")
# Clocks of the provider and of the API disagree a little.
LEEWAY_SECONDS = 30
JWKS_TIMEOUT_SECONDS = 5


class IdentityProviderUnavailable(Exception):
    """The provider's keys could not be fetched: not the caller's fault (503)."""


class OidcVerifier:
    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks_url: str,
        staff_id_claim: str,
        refresh_seconds: float,
        http: httpx.AsyncClient,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.issuer, self.audience, self.jwks_url = issuer, audience, jwks_url
        self.staff_id_claim, self.refresh_seconds = staff_id_claim, refresh_seconds
        self._http, self._clock = http, clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def staff_id(self, token: str, header: dict[str, Any]) -> str:
        """The staff id a verified provider token names; TokenError naming the problem."""
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenError("the token names no signing key (kid)")
        key = self._keys.get(kid) or await self._refreshed(kid)
        if key is None:
            raise TokenError("the token's signing key (kid) is not among the identity provider's")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=list(ALGORITHMS),
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenError("claim exp: the token has expired") from None
        except jwt.InvalidIssuerError:
            raise TokenError("claim iss: not the configured identity provider") from None
        except jwt.InvalidAudienceError:
            raise TokenError("claim aud: the token is not meant for this API") from None
        except jwt.ImmatureSignatureError:
            raise TokenError("claim nbf or iat: the token is not valid yet") from None
        except jwt.MissingRequiredClaimError as error:
            raise TokenError(f"claim {error.claim}: missing") from None
        except jwt.InvalidSignatureError:
            raise TokenError("the token's signature is not valid") from None
        except jwt.PyJWTError as error:
            raise TokenError(f"the token is malformed ({type(error).__name__})") from None
        staff_id = claims.get(self.staff_id_claim)
        if not isinstance(staff_id, str) or not STAFF_ID_PATTERN.fullmatch(staff_id):
            # The value is not echoed: it could be anything, a person's name included.
            raise TokenError(
                f"claim {self.staff_id_claim}: missing or not a staff id "
                "(1-64 of A-Z a-z 0-9 . _ -)"
            )
        return staff_id

    async def _refreshed(self, kid: str) -> jwt.PyJWK | None:
        async with self._lock:
            if kid in self._keys:  # another request refreshed meanwhile
                return self._keys[kid]
            now = self._clock()
            if self._fetched_at is not None and now - self._fetched_at < self.refresh_seconds:
                return None
            self._fetched_at = now
            self._keys = await self._fetch()
            return self._keys.get(kid)

    async def _fetch(self) -> dict[str, jwt.PyJWK]:
        try:
            response = await self._http.get(self.jwks_url, timeout=JWKS_TIMEOUT_SECONDS)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise IdentityProviderUnavailable(
                f"the identity provider's keys (KURATOR_OIDC_JWKS_URL) could not be read "
                f"({type(error).__name__})"
            ) from None
        keys: dict[str, jwt.PyJWK] = {}
        for entry in document.get("keys", []) if isinstance(document, dict) else []:
            if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
                continue
            if entry.get("use", "sig") != "sig":
                continue  # an encryption key never verifies a signature
            try:
                keys[entry["kid"]] = jwt.PyJWK.from_dict(entry)
            except jwt.PyJWTError:
                continue  # a key type this API does not use (e.g. an HMAC or an Ed448 key)
        return keys


def oidc_from_settings(settings: Settings, http: httpx.AsyncClient) -> OidcVerifier | None:
    if settings.oidc_issuer is None or settings.oidc_audience is None:
        return None
    assert settings.oidc_jwks_url is not None  # the settings require the three together
    return OidcVerifier(
        issuer=settings.oidc_issuer,
        audience=settings.oidc_audience,
        jwks_url=settings.oidc_jwks_url,
        staff_id_claim=settings.oidc_staff_id_claim,
        refresh_seconds=settings.oidc_jwks_refresh_seconds,
        http=http,
    )
