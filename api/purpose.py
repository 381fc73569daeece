"""The `X-Purpose` header every read of a family's personal data or a case's history needs
(models.access for its grammar), as a FastAPI dependency."""

from typing import Annotated

from fastapi import Depends, Header

from api.errors import ApiError
from models.access import MAX_HEADER_LENGTH, Purpose, PurposeError, parse_purpose, purpose_grammar


async def request_purpose(
    x_purpose: Annotated[
        str, Header(alias="X-Purpose", max_length=MAX_HEADER_LENGTH, description=purpose_grammar())
    ],
) -> Purpose:
    try:
        return parse_purpose(x_purpose)
    except PurposeError as error:
        # The value itself is not echoed: its note is free text, perhaps a name.
        raise ApiError(422, "invalid_purpose", f"X-Purpose: {error}") from None


RequestPurpose = Annotated[Purpose, Depends(request_purpose)]
