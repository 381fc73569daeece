"""Signing a browser in to the codec server, for a Web UI without a login of its own (the dev
server's): the staff token goes into an HttpOnly cookie the codec routes read (see
api/codec_caller.py for why a cookie).

The token never travels in a URL the server sees, so it is in no access log: the page takes
it from a form, or from the URL's fragment (`/sign-in#token=...`, which browsers do not send),
and POSTs it. A session cookie: closing the browser signs out, and the token's own expiry
still applies to every request.
"""

import base64
import hashlib
import html

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from api.codec_caller import CODEC_PREFIX, REPORTS_PREFIX, SIGN_IN_COOKIE, SIGN_IN_COOKIE_PATHS
from api.deps import State, refusal
from api.errors import error_responses
from api.sign_in import SignInRefused, authenticate
from models.payloads.vocabulary import StaffRole

router = APIRouter(prefix=CODEC_PREFIX, tags=["codec"])

_SCRIPT = """
const form = document.getElementById("sign-in");
const result = document.getElementById("result");
async function signIn(token) {
  const response = await fetch("sign-in", {
    method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({token: token.trim()}),
  });
  const body = await response.json();
  result.dataset.state = response.ok ? "signed-in" : "refused";
  result.textContent = response.ok
    ? `Signed in as ${body.role} ${body.staff_id} (${body.territory}).`
    : `Not signed in: ${body.message}`;
}
form.addEventListener("submit", (event) => {
  event.preventDefault();
  signIn(form.elements.token.value);
  form.elements.token.value = "";
});
document.getElementById("sign-out").addEventListener("click", async () => {
  await fetch("sign-out", {method: "POST"});
  result.dataset.state = "signed-out";
  result.textContent = "Signed out.";
});
if (location.hash.startsWith("#token=")) {
  const token = decodeURIComponent(location.hash.slice("#token=".length));
  history.replaceState(null, "", location.pathname);  // not kept in the browser's history
  signIn(token);
}
"""

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Kurator codec sign-in</title></head>
<body style="font-family: sans-serif; max-width: 46em; margin: 2em auto">
<h1>Kurator codec sign-in</h1>
<p>Signs this browser in to Kurator's codec server, so the Temporal Web UI shows the details
of the cases your token allows (supervisors and heads: their municipalities; the ministry:
all), each read written to the family's access log.</p>
<form id="sign-in" method="post">
<label>Staff token (<code>kurator token --staff staff-201 --role supervisor
--municipality berdsk</code>)<br>
<input name="token" type="password" autocomplete="off" size="60" required></label>
<button type="submit">Sign in</button> <button type="button" id="sign-out">Sign out</button>
</form>
<p id="result" role="status"></p>
<p>The same sign-in opens the pilot's indicators (supervisors, heads, the ministry):
<a href="{reports}">{reports}</a>.</p>
<h2>Once per browser, in the Temporal Web UI</h2>
<ol>
<li>Open the UI's <b>Codec Server</b> settings (the icon at the top right).</li>
<li>Choose <b>Use my browser setting and ignore Cluster-level setting</b>.</li>
<li>Endpoint: <code>{endpoint}</code></li>
<li>Tick <b>Include cross-origin credentials</b> (it sends this sign-in along) and apply.</li>
</ol>
<script>{script}</script>
</body></html>
"""


class SignIn(BaseModel):
    token: str = Field(min_length=1, max_length=8192, description="A staff token.")


class SignedIn(BaseModel):
    staff_id: str
    role: StaffRole
    territory: str = Field(description="The municipalities the token allows, or `all`.")


def _content_security_policy() -> str:
    digest = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
    # The page's one inline script and requests to its own origin; nothing else.
    return (
        f"default-src 'none'; script-src 'sha256-{digest}'; connect-src 'self'; "
        "style-src 'unsafe-inline'; form-action 'none'; frame-ancestors 'none'"
    )


@router.get(
    "/sign-in",
    summary="The codec sign-in page (for a Web UI without a login)",
    response_class=HTMLResponse,
)
async def sign_in_page(request: Request) -> HTMLResponse:
    endpoint = str(request.url_for("decode")).removesuffix("/decode")
    reports = f"{REPORTS_PREFIX}/indicators.html"
    page = (
        _PAGE.replace("{endpoint}", html.escape(endpoint))
        .replace("{reports}", html.escape(reports))
        .replace("{script}", _SCRIPT)
    )
    return HTMLResponse(
        page,
        headers={
            "Content-Security-Policy": _content_security_policy(),
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        },
    )


@router.post(
    "/sign-in",
    summary="Sign this browser in to the codec server with a staff token",
    description="Sets an HttpOnly, SameSite=Lax session cookie that the codec routes read "
    "when a request has no `Authorization` header.",
    responses=error_responses(401, 403, 422),
)
async def sign_in(body: SignIn, state: State, request: Request, response: Response) -> SignedIn:
    try:
        actor = await authenticate(state, body.token)
    except SignInRefused as refused:
        raise refusal(refused) from None
    for path in SIGN_IN_COOKIE_PATHS:
        response.set_cookie(
            SIGN_IN_COOKIE,
            body.token,
            path=path,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
    response.headers["Cache-Control"] = "no-store"
    territory = (
        "all" if actor.role is StaffRole.MINISTRY else ", ".join(sorted(actor.municipalities))
    )
    return SignedIn(staff_id=actor.staff_id, role=actor.role, territory=territory)


@router.post("/sign-out", status_code=204, summary="Forget this browser's codec sign-in cookie")
async def sign_out(response: Response) -> None:
    for path in SIGN_IN_COOKIE_PATHS:
        response.delete_cookie(SIGN_IN_COOKIE, path=path, httponly=True, samesite="lax")
