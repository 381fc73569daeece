"""The preset dictionary a payload is compressed against before it is sealed.

A payload is a few hundred bytes of JSON (a staff action, a case's view, a step's result),
and zlib alone compresses so little text poorly: it has not yet seen the field names when it
meets them. Primed with what payloads usually hold (the default policy and calendar every
case loads, then the field names, codes and JSON around them of the commonest payloads), the
same payloads seal at under a third of the size (an L2 lifecycle's sealed payloads: 16.7 KB
with zlib alone, 4.9 KB with this dictionary), and the history Temporal stores per case
shrinks by as much.

Dictionary 1 is frozen: a payload sealed with it opens only with exactly these bytes, for as
long as its history is kept (years: a case runs up to three, and its follow-ups after it).
`tests/infra/sealing/test_payload_dictionary.py` pins its digest. A better dictionary is a
new file and a new number, written beside this one, never an edit of it
(tests/support/build_payload_dictionary.py says how 1 was made: the shipped default policy
context, then shapes from the synthetic test histories with ids, moments and free text
removed).

The file holds one payload's JSON a line; the dictionary is each line framed as the payload
it stands for (`json/plain`, as Temporal's converter writes it), all of it within the 32 KB
zlib reaches back to.
"""

from functools import lru_cache
from importlib import resources

from temporalio.api.common.v1 import Payload

DICTIONARY_FILE = "payload_dictionary_1.jsonl"
WINDOW_BYTES = 32 * 1024  # zlib's: a dictionary beyond it would be cut from the front


@lru_cache(maxsize=1)
def payload_dictionary() -> bytes:
    """Dictionary 1's bytes, read once (on the first payload sealed or opened)."""
    text = (resources.files("infra.sealing") / DICTIONARY_FILE).read_text(encoding="utf-8")
    framed = b"".join(
        Payload(metadata={"encoding": b"json/plain"}, data=line.encode()).SerializeToString()
        for line in text.splitlines()
    )
    return framed
