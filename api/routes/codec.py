"""The codec server of the Temporal Web UI and CLI (Temporal's remote codec protocol):
`POST /api/v1/codec/decode` and `/encode`, `{"payloads": [...]}` in and out.

Point the UI at it (`--ui-codec-endpoint http://<api>/api/v1/codec`, or the UI's
TEMPORAL_CODEC_ENDPOINT) or the CLI (`--codec-endpoint ... --codec-auth 'Bearer <token>'`).
Who sees what decoded: api/codec_decoder.py. Who is calling: api/codec_caller.py. The UI
also sends `X-Namespace`, and the CLI's endpoint may name the namespace in the path
(`.../api/v1/codec/{namespace}`): both are accepted and ignored, since an envelope names its
own key.
"""

from fastapi import APIRouter

from api.codec_caller import CODEC_PREFIX, CodecCaller, unauthenticated
from api.codec_decoder import MalformedEnvelope, decode_for
from api.codec_payloads import CodecPayloads
from api.deps import State
from api.errors import ApiError, error_responses
from infra.sealing.codec import is_sealed, seal_payload
from models.tables.family_data_key import SYSTEM_KEY_OWNER

router = APIRouter(prefix=CODEC_PREFIX, tags=["codec"])


@router.post("/{namespace}/decode", include_in_schema=False)
@router.post(
    "/decode",
    summary="Open sealed payloads the caller may read (Temporal remote codec)",
    description="Each payload comes back opened if the caller's token allows its family's "
    "municipality (supervisors and heads of it, the ministry everywhere), else as it came: "
    "still sealed, and not an error. Payloads that are not sealed pass through. Every family "
    "whose payloads were opened gets one access-log row (purpose `Web UI`) per request. No "
    "credentials: everything stays sealed. The token: `Authorization: Bearer`, or the cookie "
    "of `/api/v1/codec/sign-in`.",
    responses=error_responses(401, 422),
)
async def decode(body: CodecPayloads, state: State, caller: CodecCaller) -> CodecPayloads:
    try:
        opened = await decode_for(caller, body.to_proto(), keys=state.keys, sessions=state.sessions)
    except MalformedEnvelope as error:
        raise ApiError(422, "invalid_request", str(error)) from None
    return CodecPayloads.of(opened)


@router.post("/{namespace}/encode", include_in_schema=False)
@router.post(
    "/encode",
    summary="Seal payloads under the system key (Temporal remote codec)",
    description="For what the Web UI or the CLI sends to a workflow (a signal, an update, a "
    "query's arguments). Sealed under the system key, not a family's: the codec server is "
    "told no workflow, so it cannot know the family, and a payload sealed under a key of the "
    "wrong family would be erased with that family instead. Payloads already sealed pass "
    "through. Needs a staff token.",
    responses=error_responses(401, 422),
)
async def encode(body: CodecPayloads, state: State, caller: CodecCaller) -> CodecPayloads:
    if caller is None:
        raise unauthenticated(
            f"send Authorization: Bearer <token>, or sign in at {CODEC_PREFIX}/sign-in",
            code="unauthenticated",
        )
    payloads = body.to_proto()
    if not all(is_sealed(payload) for payload in payloads):
        key = await state.keys.for_owner(SYSTEM_KEY_OWNER)
        payloads = [p if is_sealed(p) else seal_payload(key, p) for p in payloads]
    return CodecPayloads.of(payloads)
