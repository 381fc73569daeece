"""Who calls the codec server: a staff token from `Authorization: Bearer`, else from the
sign-in cookie, else nobody.

Why a cookie: the Web UI sends `Authorization` only with an access token of its own login
(OIDC, `TEMPORAL_CODEC_PASS_ACCESS_TOKEN`), and the dev server's UI has no login. With the
UI's "Include cross-origin credentials" setting it sends cookies instead, and a cookie set by
the API on 127.0.0.1 travels with the UI's requests from 127.0.0.1:8233 (same site, so
SameSite=Lax lets it through). The same sign-in is set for two paths, the codec's and the
reports' (the indicators dashboard a person opens in a browser, GET only): the rest of the API
takes `Authorization` only, so no other route can be driven by a cookie a browser sends on its
own.

No credentials is an answer, not an error: the payloads come back sealed. A token that is
there but invalid (expired, forged) is a 401, so the UI says why nothing opens.
"""

from typing import Annotated

from fastapi import Depends, Request

from api.deps import State, refusal
from api.errors import ApiError
from api.sign_in import SignInRefused, authenticate
from models.payloads.actions import Actor

CODEC_PREFIX = "/api/v1/codec"
REPORTS_PREFIX = "/api/v1/reports"
SIGN_IN_COOKIE = "kurator_codec_token"
# Where the browser sends the sign-in cookie: one cookie per path, so no route between them
# (the cases, the families) ever receives it.
SIGN_IN_COOKIE_PATHS = (CODEC_PREFIX, REPORTS_PREFIX)


def presented_token(request: Request) -> str | None:
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthenticated("send Authorization: Bearer <token>, or no Authorization")
        return token.strip()
    return request.cookies.get(SIGN_IN_COOKIE) or None


async def codec_caller(request: Request, state: State) -> Actor | None:
    token = presented_token(request)
    if token is None:
        return None
    try:
        return await authenticate(state, token)
    except SignInRefused as refused:
        from_cookie = "Authorization" not in request.headers
        hint = f" (sign in again at {CODEC_PREFIX}/sign-in)" if from_cookie else ""
        raise refusal(refused, hint) from None


def unauthenticated(message: str, code: str = "invalid_token") -> ApiError:
    """The codec's 401, with the Bearer challenge."""
    return ApiError(401, code, message, headers={"WWW-Authenticate": "Bearer"})


CodecCaller = Annotated[Actor | None, Depends(codec_caller)]
