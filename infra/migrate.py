"""Applying the alembic migrations; `kurator migrate` and `kurator dev` call this at start."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

import migrations
from models.db import make_sync_engine


def alembic_config(database_url: str, *, master_key_file: Path | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    config.attributes["database_url"] = database_url
    if master_key_file is not None:
        config.attributes["master_key_file"] = master_key_file
    return config


def upgrade_to_head(database_url: str, *, master_key_file: Path | None = None) -> None:
    """Migrate to the latest revision. A migration that seals data already stored (0006) needs
    the master key: `master_key_file`, else KURATOR_MASTER_KEY_FILE from the settings."""
    command.upgrade(alembic_config(database_url, master_key_file=master_key_file), "head")


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("postgresql://unused")).get_current_head()


def current_revision(database_url: str) -> str | None:
    engine = make_sync_engine(database_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
