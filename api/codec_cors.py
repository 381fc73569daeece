"""CORS for the codec routes only: the Web UI calls them from its own origin, with cookies.

Only there: the rest of the API serves scripts and back ends, not browsers on another origin,
and a CORS policy on it would only widen what a web page may call. Credentials are allowed
(the dev sign-in cookie; see api/codec_caller.py), so origins are listed one by one: a
browser refuses credentials with `*`, and so does Starlette.
"""

from collections.abc import Sequence

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

# What the UI sends: X-Namespace always, Authorization (and the ID token in
# Authorization-Extras) when it passes its user's access token.
CODEC_REQUEST_HEADERS = ("Authorization", "Authorization-Extras", "Content-Type", "X-Namespace")
# Long enough that a browser does not preflight every decode of a history page.
PREFLIGHT_MAX_AGE_SECONDS = 600


class CodecCors:
    """An ASGI middleware: CORS for paths under `prefix`, everything else untouched."""

    def __init__(self, app: ASGIApp, *, prefix: str, origins: Sequence[str]) -> None:
        self.app, self.prefix = app, prefix
        self.cors = CORSMiddleware(
            app,
            allow_origins=list(origins),
            allow_methods=["POST"],
            allow_headers=list(CODEC_REQUEST_HEADERS),
            allow_credentials=True,
            max_age=PREFLIGHT_MAX_AGE_SECONDS,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and (path == self.prefix or path.startswith(self.prefix + "/")):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
