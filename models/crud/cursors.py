"""Page cursors of the keyset listings: the last row's sort key, its parts joined and
base64-encoded, opaque to callers. Each listing says what its parts are and parses them."""

import base64
import binascii


class CursorError(ValueError):
    """A page cursor that this listing did not hand out."""


def encode_cursor(*parts: str) -> str:
    return base64.urlsafe_b64encode("|".join(parts).encode()).decode()


def cursor_parts(cursor: str, count: int) -> list[str]:
    """The `count` parts of a cursor; CursorError when it has other or none."""
    try:
        parts = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
    except (binascii.Error, UnicodeError, ValueError):
        raise CursorError("not a cursor of this listing") from None
    if len(parts) != count:
        raise CursorError("not a cursor of this listing")
    return parts
