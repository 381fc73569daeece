"""Putting the staff that test tokens name into the staff directory.

Every request's token is checked against the directory (api/sign_in.py), and tests mint tokens
for staff ids of their own. `register_token_staff` writes the directory row a Kurator token
describes (its `sub`, `role` and `mun`, a synthetic name), straight into the table: test set-up,
not a directory change to audit. `api_client` does it for each request it sends, so the suite's
tokens work as they did before the directory was checked; a test of the directory itself opts
out and writes the directory through the API.
"""

from collections.abc import Iterable, Mapping
from typing import Any

import jwt
import psycopg

from models.payloads.vocabulary import StaffRole
from models.territory import MUNICIPALITY_CODES

SIGN_IN_COOKIE = "kurator_codec_token"

_UPSERT = """
INSERT INTO staff_members (staff_id, full_name, role, municipalities, email, active)
VALUES (%(staff_id)s, %(full_name)s, %(role)s, %(municipalities)s, NULL, true)
ON CONFLICT (staff_id) DO UPDATE
SET role = EXCLUDED.role, municipalities = EXCLUDED.municipalities, active = true
WHERE (staff_members.role, staff_members.municipalities, staff_members.active)
      IS DISTINCT FROM (EXCLUDED.role, EXCLUDED.municipalities, true)
"""


def directory_row(token: str) -> dict[str, Any] | None:
    """The directory row a Kurator token describes, or None for a token that does not describe
    one (malformed, another algorithm, a role or municipality that does not exist): the API
    refuses those on their claims, before the directory."""
    try:
        if jwt.get_unverified_header(token).get("alg") != "HS256":
            return None
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    staff_id, role, municipalities = claims.get("sub"), claims.get("role"), claims.get("mun")
    if not isinstance(staff_id, str) or role not in set(StaffRole):
        return None
    if not isinstance(municipalities, list) or not set(municipalities) <= MUNICIPALITY_CODES:
        municipalities = []
    if role == StaffRole.MINISTRY:
        municipalities = []  # the ministry serves every territory
    elif not municipalities:
        return None
    return {
        "staff_id": staff_id[:64],
        "full_name": f"Тестов Сотрудник {staff_id[:40]}",
        "role": role,
        "municipalities": sorted(municipalities),
    }


def register_rows(database_url: str, rows: Iterable[Mapping[str, Any]]) -> None:
    rows = list(rows)
    if not rows:
        return
    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as connection:
        for row in rows:
            connection.execute(_UPSERT, row)


def register_token_staff(database_url: str, *tokens_or_headers: str | Mapping[str, str]) -> None:
    """Register the staff of each token (or of each `{"Authorization": "Bearer ..."}`)."""
    tokens = [
        item if isinstance(item, str) else item["Authorization"].removeprefix("Bearer ")
        for item in tokens_or_headers
    ]
    register_rows(database_url, [row for token in tokens if (row := directory_row(token))])


def tokens_of_request(
    headers: Mapping[str, str], cookies: Mapping[str, str], body: Any
) -> list[str]:
    """Every token a request carries: Authorization, the codec's sign-in cookie, or the
    sign-in form's body."""
    found = []
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        found.append(token.strip())
    if cookies.get(SIGN_IN_COOKIE):
        found.append(cookies[SIGN_IN_COOKIE])
    if isinstance(body, dict) and isinstance(body.get("token"), str):
        found.append(body["token"].strip())
    return found
