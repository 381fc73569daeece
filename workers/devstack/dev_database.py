"""`kurator dev`'s database for a command of its own: `kurator bench generate --dev` fills the
database `make run` serves, so that its reads can be timed from outside on a full oblast."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from infra.migrate import upgrade_to_head
from workers.devstack.embedded_postgres import EmbeddedPostgres, ensure_database
from workers.devstack.secrets import dev_secrets

DATABASE_NAME = "kurator"


@dataclass(frozen=True)
class DevDatabase:
    owner_url: str
    master_key_file: Path  # the stack's: what is sealed with it, its API opens


@contextmanager
def dev_database(data_dir: Path) -> Iterator[DevDatabase]:
    """The owner's URL of the database `kurator dev` keeps in `data_dir`, migrated, and the
    stack's master key file (each made if new). The server of a running stack is used as it
    runs; otherwise the embedded server is started for the block and stopped after it."""
    master_key_file = Path(dev_secrets(data_dir)["KURATOR_MASTER_KEY_FILE"])
    postgres = EmbeddedPostgres(data_dir / "postgres")
    running = postgres.is_running()
    server_url = postgres.url() if running else postgres.start()
    try:
        owner_url = ensure_database(server_url, DATABASE_NAME)
        upgrade_to_head(owner_url, master_key_file=master_key_file)
        yield DevDatabase(owner_url, master_key_file)
    finally:
        if not running:
            postgres.stop()
