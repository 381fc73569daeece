"""The dev stack's secrets, generated once into the data directory, so that `make run` and
`kurator token` work with no configuration. Production sets them as environment variables
(and mounts the master key file as a secret)."""

import json
import os
import secrets
from pathlib import Path

from infra.audit.anchor_keys import write_new_signing_key
from infra.sealing.master_keys import key_file_line

SECRETS_FILE = "dev-secrets.json"
MASTER_KEY_FILE = "dev-master-keys"
AUDIT_SIGNING_KEY_FILE = "dev-audit-signing-key.pem"
NAMES = ("KURATOR_JWT_SECRET", "KURATOR_PSEUDONYM_SECRET")


def _write_private(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)


def dev_secrets(data_dir: Path) -> dict[str, str]:
    """The secrets stored in `data_dir` (readable by the owner only), each created when
    missing and never replaced: a new pseudonym secret or master key would orphan every case
    and every sealed payload already stored. `KURATOR_MASTER_KEY_FILE` names the key file."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SECRETS_FILE
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    missing = [name for name in NAMES if name not in stored]
    if missing:
        stored.update({name: secrets.token_urlsafe(48) for name in missing})
        _write_private(path, json.dumps(stored))
    key_file = data_dir / MASTER_KEY_FILE
    if not key_file.exists():
        _write_private(
            key_file,
            "# Kurator dev master key (`<key id> <base64 key>`; current first, retired after)\n"
            f"{key_file_line('dev-1')}\n",
        )
    signing_key_file = data_dir / AUDIT_SIGNING_KEY_FILE
    if not signing_key_file.exists():
        write_new_signing_key(signing_key_file)
    return {
        **stored,
        "KURATOR_MASTER_KEY_FILE": str(key_file.resolve()),
        "KURATOR_AUDIT_SIGNING_KEY_FILE": str(signing_key_file.resolve()),
    }


def stored_dev_secret(data_dir: Path, name: str) -> str | None:
    """A secret from an existing dev data directory, or None."""
    path = data_dir / SECRETS_FILE
    if not path.exists():
        return None
    value: str | None = json.loads(path.read_text()).get(name)
    return value
