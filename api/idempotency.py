"""An Idempotency-Key names one request, as in the payment APIs that made the header common.

The same key with the same request (same action, case, caller and body, however its JSON is
spaced or ordered) replays: Temporal answers the repeated update id with the first result. The
same key with anything else is refused with 422 `idempotency_key_reused` before it reaches
the case, so the new request has no effect at all instead of being silently dropped.
"""

import hashlib
import hmac
import json
from typing import Any

from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from api.errors import ApiError
from models.crud.idempotency_keys import claim_key


def fingerprint(secret: bytes, *, request: str, staff_id: str, body: BaseModel) -> str:
    """A keyed hash of what the request asks: an intake's body holds a family's personal data,
    and nothing of it may be readable from the stored fingerprint."""
    canonical: dict[str, Any] = {
        "request": request,
        "staff_id": staff_id,
        "body": body.model_dump(mode="json"),
    }
    message = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()


async def claim(session: AsyncSession, *, key: str, fingerprint: str) -> bool:
    """Record `key` for this request, or refuse it when it names another one. True when the key
    was already claimed for this very request: a retry (whose first attempt's writes in the
    claim's transaction are committed), which must not repeat them."""
    claimed, new = await claim_key(session, key=key, fingerprint=fingerprint)
    if claimed != fingerprint:
        raise ApiError(
            422,
            "idempotency_key_reused",
            "this Idempotency-Key was already used for a different request (another body, "
            "action, case or caller); send a new key for a new request",
        )
    return not new
