"""The dev stack's secrets, generated once into the data directory, so that `make run` and
`kurator token` work with no configuration. Production sets them as environment variables."""

import json
import os
import secrets
from pathlib import Path

SECRETS_FILE = "dev-secrets.json"
NAMES = ("KURATOR_JWT_SECRET", "KURATOR_PSEUDONYM_SECRET")


def dev_secrets(data_dir: Path) -> dict[str, str]:
    """The secrets stored in `data_dir`, created (readable by the owner only) when missing."""
    path = data_dir / SECRETS_FILE
    if path.exists():
        stored: dict[str, str] = json.loads(path.read_text())
        if all(name in stored for name in NAMES):
            return stored
    data_dir.mkdir(parents=True, exist_ok=True)
    created = {name: secrets.token_urlsafe(48) for name in NAMES}
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(created, file)
    return created


def stored_dev_secret(data_dir: Path, name: str) -> str | None:
    """A secret from an existing dev data directory, or None."""
    path = data_dir / SECRETS_FILE
    if not path.exists():
        return None
    value: str | None = json.loads(path.read_text()).get(name)
    return value
