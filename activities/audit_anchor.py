"""The scheduled audit anchor's one activity: fold the heads of all case chains into a signed
line of the anchor log (infra/audit/anchor.py does the work)."""

from pathlib import Path

from temporalio import activity
from temporalio.exceptions import ApplicationError

from infra.audit.anchor import write_anchor
from infra.audit.anchor_keys import AnchorKeyError, read_signing_key
from infra.audit.anchor_log import AnchorLogError
from models.db import SessionFactory
from models.payloads.audit_anchor import AnchorWritten

ANCHOR_LOG_BROKEN = "AnchorLogBroken"
SIGNING_KEY_UNREADABLE = "SigningKeyUnreadable"


class AuditAnchorActivities:
    """Writes anchors to `anchor_log`, signed with the key in `signing_key_file` (read at each
    anchor, so a replaced key file is used without a restart)."""

    def __init__(self, sessions: SessionFactory, *, anchor_log: Path, signing_key_file: Path):
        self._sessions = sessions
        self.anchor_log = anchor_log
        self.signing_key_file = signing_key_file

    @activity.defn
    async def write_anchor(self) -> AnchorWritten:
        """Append the next anchor. A log that does not verify, or a key that cannot be read,
        fails at once (non-retryable): a person must look at them; the next scheduled run
        tries again."""
        try:
            key = read_signing_key(self.signing_key_file)
        except AnchorKeyError as error:
            raise ApplicationError(
                str(error), type=SIGNING_KEY_UNREADABLE, non_retryable=True
            ) from error
        try:
            return await write_anchor(self._sessions, log_path=self.anchor_log, key=key)
        except AnchorLogError as error:
            raise ApplicationError(
                str(error), type=ANCHOR_LOG_BROKEN, non_retryable=True
            ) from error
