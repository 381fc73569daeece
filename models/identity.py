"""A family's pseudonym: the key its workflow ids and the `families` table use instead of its
registry id (PRODUCT.md §5). Pure: no I/O, no settings; the caller passes the secret."""

import hashlib
import hmac

FAMILY_KEY_LENGTH = 32  # hex characters: 128 bits, far beyond any collision among families


def normalise_registry_id(registry_id: str) -> str:
    """The registry id as compared: stripped, upper-case, without spaces and dashes, so
    "123-456-789 01" and "12345678901" (a SNILS written two ways) are one family."""
    return registry_id.strip().upper().replace(" ", "").replace("-", "")


def family_key(registry_id: str, secret: bytes) -> str:
    """The family's pseudonym: HMAC-SHA256 of the normalised registry id keyed with `secret`,
    as hex, first 32 characters.

    Why a keyed hash and not a plain one: workflow ids and search attributes are stored in
    clear text by Temporal (even with a payload codec), and they hold this key. A registry
    number or a SNILS has little entropy (a SNILS is 9 digits and a 2-digit checksum), so a plain
    SHA-256 of it could be reversed by hashing every possible number in minutes. With the
    secret, nobody who can read Temporal but not the secret can do that. The secret must never
    change once cases exist (every key would change with it).

    Raises ValueError for an empty secret or an id that is empty once normalised.
    """
    if not secret:
        raise ValueError("the pseudonym secret must not be empty")
    normalised = normalise_registry_id(registry_id)
    if not normalised:
        raise ValueError("the registry id is empty")
    digest = hmac.new(secret, normalised.encode("utf-8"), hashlib.sha256).hexdigest()
    return digest[:FAMILY_KEY_LENGTH]
