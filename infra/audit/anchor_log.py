"""The anchor log: signed digests of the heads of all case chains, one JSON line per anchor, in a
file outside the database (append-only: opened O_APPEND, fsync'd after each line).

Each line is an object with sorted keys and no spaces:

- `v` (1), `n` (the anchor's number, 1, 2, 3, ...), `anchored_at` (UTC, ISO 8601);
- `changed`: `[case_id, seq, hash]` of each chain head that moved since the anchor before (the
  first anchor holds every head), sorted by case id: the file grows with activity, not with
  the number of cases times the number of anchors;
- `cases` and `digest`: how many chains the anchor covers and the sha256 of their heads, the
  sorted lines `"<case_id> <seq> <hash>\\n"` of the whole set (the previous anchor's set with
  `changed` applied), so that an anchor's set is checked as it is rebuilt;
- `prev`: the sha256 of the line before it (of a fixed genesis string for the first), so no
  line can be dropped, inserted, reordered or edited without breaking the next one;
- `key_id` and `signature`: Ed25519 (infra/audit/anchor_keys.py) over the line's other fields
  (`SIGNED_PREFIX` + the canonical JSON without `signature`).

Only dropping the newest lines leaves no trace in the file itself: `kurator audit verify`
prints the last anchor's number and time so that an operator sees a log that stopped early.
"""

import base64
import fcntl
import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from infra.audit.anchor_keys import SigningKey, VerifyingKey

LOG_VERSION = 1
SIGNED_PREFIX = b"kurator-audit-anchor:v1\n"
GENESIS_PREV = hashlib.sha256(b"kurator-audit-anchor-log:v1").hexdigest()
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# The keys of the registers' chains (infra/audit/registers.py) beside the case ids.
_REGISTER = re.compile(
    r"^(staff-directory|resource:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)
_FIELDS = {"v", "n", "anchored_at", "cases", "digest", "changed", "prev", "key_id", "signature"}


class AnchorLogError(Exception):
    """The anchor log cannot be read or extended; the message says why."""


class AnchoredHead(NamedTuple):
    """Where a case's chain stood when anchor `anchor` was written."""

    seq: int
    hash: str
    anchor: int


def canonical(content: Mapping[str, Any]) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def heads_digest(heads: Mapping[str, tuple[int, str] | AnchoredHead]) -> str:
    """The sha256 of a whole set of heads (case id as lower-case text -> seq, hash)."""
    digest = hashlib.sha256()
    for case_id in sorted(heads):
        head = heads[case_id]
        digest.update(f"{case_id} {head[0]} {head[1]}\n".encode())
    return digest.hexdigest()


def line_hash(line: bytes) -> str:
    """What the next line's `prev` holds: the sha256 of this line, without its newline."""
    return hashlib.sha256(line).hexdigest()


@dataclass
class AnchorReplay:
    """The log replayed: the last anchored head of every case, and how far the log held."""

    heads: dict[str, AnchoredHead] = field(default_factory=dict)
    anchors: int = 0
    last_anchored_at: str | None = None
    next_prev: str = GENESIS_PREV
    problem: str | None = None  # the first line that does not hold; replay stopped before it


def _changed_heads(value: Any) -> list[tuple[str, int, str]] | None:
    if not isinstance(value, list):
        return None
    heads = []
    for item in value:
        if not (isinstance(item, list) and len(item) == 3):
            return None
        case_id, seq, digest = item
        if not (isinstance(case_id, str) and (_UUID.match(case_id) or _REGISTER.match(case_id))):
            return None
        if not (type(seq) is int and seq >= 1 and isinstance(digest, str) and _HEX64.match(digest)):
            return None
        heads.append((case_id, seq, digest))
    return heads


def _entry_problem(entry: Any, replay: AnchorReplay, key: VerifyingKey) -> str | None:
    """Why this parsed line does not follow the replay so far, if it does not."""
    if not isinstance(entry, dict) or set(entry) != _FIELDS or entry["v"] != LOG_VERSION:
        return "is not an anchor of this version"
    if entry["key_id"] != key.key_id:
        return f"is signed by key {entry['key_id']!s:.40}, not by {key.key_id}"
    try:
        signature = base64.b64decode(entry["signature"], validate=True)
    except (ValueError, TypeError):
        return "has no readable signature"
    unsigned = {name: value for name, value in entry.items() if name != "signature"}
    if not key.verifies(signature, SIGNED_PREFIX + canonical(unsigned)):
        return "has a signature that does not verify: the line was changed or forged"
    expected = replay.anchors + 1
    if entry["n"] != expected:
        return f"is anchor {entry['n']}, expected anchor {expected}: anchors are missing"
    if entry["prev"] != replay.next_prev:
        return "does not link to the line before it (prev differs): a line was removed or changed"
    return None


def replay_lines(lines: Iterable[bytes], key: VerifyingKey) -> AnchorReplay:
    """Check each line's signature, number and link and rebuild the anchored heads; stop at
    the first line that does not hold (`problem` names it)."""
    replay = AnchorReplay()
    for number, raw in enumerate(lines, start=1):
        if not raw.endswith(b"\n"):
            replay.problem = f"line {number} is incomplete (no newline): a write was cut short"
            return replay
        line = raw[:-1]
        try:
            entry = json.loads(line)
        except ValueError:
            replay.problem = f"line {number} is not JSON"
            return replay
        problem = _entry_problem(entry, replay, key)
        changed = _changed_heads(entry.get("changed")) if problem is None else None
        if problem is None and changed is None:
            problem = "holds a malformed list of heads"
        if problem is not None or changed is None:
            replay.problem = f"line {number} {problem}"
            return replay
        heads = dict(replay.heads)
        for case_id, seq, digest in changed:
            heads[case_id] = AnchoredHead(seq, digest, entry["n"])
        if entry["cases"] != len(heads) or entry["digest"] != heads_digest(heads):
            replay.problem = f"line {number} has a digest that does not match its heads"
            return replay
        replay.heads = heads
        replay.anchors = entry["n"]
        replay.last_anchored_at = entry["anchored_at"]
        replay.next_prev = line_hash(line)
    return replay


def replay_file(path: Path, key: VerifyingKey) -> AnchorReplay:
    """The log at `path` replayed (a missing file is an empty log; the caller decides whether
    that is a problem)."""
    try:
        with path.open("rb") as file:
            return replay_lines(file, key)
    except FileNotFoundError:
        return AnchorReplay()
    except OSError as error:
        raise AnchorLogError(f"cannot read the anchor log {path}: {error.strerror}") from None


def new_entry_line(
    replay: AnchorReplay,
    changed: Iterable[tuple[str, int, str]],
    *,
    anchored_at: str,
    key: SigningKey,
) -> tuple[bytes, dict[str, AnchoredHead]]:
    """The next anchor's line (no newline) and the heads it anchors."""
    number = replay.anchors + 1
    moved = sorted(changed)
    heads = dict(replay.heads)
    for case_id, seq, digest in moved:
        heads[case_id] = AnchoredHead(seq, digest, number)
    entry: dict[str, Any] = {
        "v": LOG_VERSION,
        "n": number,
        "anchored_at": anchored_at,
        "cases": len(heads),
        "digest": heads_digest(heads),
        "changed": [list(head) for head in moved],
        "prev": replay.next_prev,
        "key_id": key.public.key_id,
    }
    entry["signature"] = base64.b64encode(key.sign(SIGNED_PREFIX + canonical(entry))).decode()
    return canonical(entry), heads


class LockedLog:
    """The anchor log opened for appending, held by this process alone (flock) until closed:
    two writers (the schedule's activity and `kurator audit anchor`) never interleave."""

    def __init__(self, path: Path, descriptor: int) -> None:
        self.path = path
        self._descriptor = descriptor

    def replay(self, key: VerifyingKey) -> AnchorReplay:
        return replay_file(self.path, key)

    def append(self, line: bytes) -> None:
        """Write one line and make it durable before returning."""
        data = line + b"\n"
        written = os.write(self._descriptor, data)
        if written != len(data):
            raise AnchorLogError(f"short write to the anchor log {self.path}")
        os.fsync(self._descriptor)

    def close(self) -> None:
        os.close(self._descriptor)  # releases the lock


def open_locked(path: Path) -> LockedLog:
    """Open (creating it and its folder if need be) and lock the anchor log; blocks while
    another writer holds it, so call it off the event loop."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        created = not path.exists()
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    except OSError as error:
        raise AnchorLogError(f"cannot open the anchor log {path}: {error.strerror}") from None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        if created:  # the new file's name must survive a crash too
            folder = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
    except OSError as error:
        os.close(descriptor)
        raise AnchorLogError(f"cannot lock the anchor log {path}: {error.strerror}") from None
    return LockedLog(path, descriptor)
