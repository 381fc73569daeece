"""Alembic owns the schema: migrations apply to an empty database and match the models."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import models.tables  # noqa: F401  (registers the tables on the metadata)
from infra.migrate import current_revision, head_revision, upgrade_to_head
from models.db import make_sync_engine


def test_migrations_apply_to_an_empty_database_and_reach_head(empty_database_url: str) -> None:
    assert current_revision(empty_database_url) is None
    upgrade_to_head(empty_database_url)
    assert current_revision(empty_database_url) == head_revision()
    upgrade_to_head(empty_database_url)  # a second start finds nothing to do
    assert current_revision(empty_database_url) == head_revision()

    engine = make_sync_engine(empty_database_url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert set(SQLModel.metadata.tables) <= tables


def test_models_and_migrations_agree(database_url: str) -> None:
    """A model change without its migration shows up here as a difference."""
    engine = make_sync_engine(database_url)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(
                MigrationContext.configure(connection), SQLModel.metadata
            )
    finally:
        engine.dispose()
    assert differences == []
