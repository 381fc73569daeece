"""The body of Temporal's remote codec protocol: `{"payloads": [...]}`, each payload as
protobuf JSON (`metadata` values and `data` in base64), in both directions.

Modelled here rather than parsed with protobuf's `json_format` so that a malformed body gets
the API's usual 422 naming the field, and the OpenAPI description documents the shape.
"""

import base64
import binascii
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer
from temporalio.api.common.v1 import Payload


def _from_base64(value: object) -> bytes:
    if not isinstance(value, str):
        raise ValueError("must be a base64 string")
    # Protobuf JSON writes standard base64 and accepts the URL-safe alphabet as well.
    padded = value + "=" * (-len(value) % 4)
    alphabet = padded.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(alphabet, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("must be base64") from None


Base64 = Annotated[
    bytes,
    BeforeValidator(_from_base64),
    PlainSerializer(lambda value: base64.b64encode(value).decode(), return_type=str),
]


class CodecPayload(BaseModel):
    """One Temporal Payload in protobuf JSON."""

    model_config = ConfigDict(extra="forbid")

    metadata: dict[str, Base64] = Field(
        default_factory=dict,
        description="Metadata, each value base64; `encoding` is `binary/kurator-sealed` for "
        "a sealed payload, whose `kurator-key-id` names its data key.",
    )
    data: Base64 = Field(b"", description="The payload's bytes, base64.")

    @classmethod
    def of(cls, payload: Payload) -> "CodecPayload":
        # Bytes already: construct without the validator, which reads base64 text.
        return cls.model_construct(metadata=dict(payload.metadata), data=payload.data)

    def to_proto(self) -> Payload:
        return Payload(metadata=self.metadata, data=self.data)


class CodecPayloads(BaseModel):
    """What the Web UI and the CLI send to `/encode` and `/decode`, and what they get back."""

    model_config = ConfigDict(extra="forbid")

    payloads: list[CodecPayload] = Field(description="The payloads, in order; answered in order.")

    @classmethod
    def of(cls, payloads: list[Payload]) -> "CodecPayloads":
        return cls.model_construct(payloads=[CodecPayload.of(payload) for payload in payloads])

    def to_proto(self) -> list[Payload]:
        return [payload.to_proto() for payload in self.payloads]
