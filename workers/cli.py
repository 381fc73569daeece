"""The `kurator` command line: the dev stack and each production process."""

import asyncio
import logging
import os

import typer
import uvicorn

from models.settings import Settings, SettingsError, get_settings
from workers.logs import configure_logging, get_logger

log = get_logger(__name__)

app = typer.Typer(
    help="Kurator: durable case management for the social support of families with children.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",  # reflows docstring paragraphs
)


def _settings() -> Settings:
    """Settings and logging for this process; an invalid setting ends it with status 2."""
    try:
        settings = get_settings()
    except SettingsError as error:
        configure_logging()
        log.error(str(error))
        raise typer.Exit(2) from None
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _exit_on_missing_setting(error: SettingsError) -> typer.Exit:
    log.error(str(error))
    return typer.Exit(2)


@app.command()
def dev() -> None:
    """Run the whole stack on this machine: embedded PostgreSQL, the Temporal dev server with its
    Web UI (http://127.0.0.1:8233), the worker and the API (http://127.0.0.1:8000/docs).

    Data stays in KURATOR_DATA_DIR (default .kurator/) between runs. Set KURATOR_DATABASE_URL or
    KURATOR_TEMPORAL_ADDRESS to use servers of your own instead. Ctrl-C stops everything.
    """
    from workers.devstack import DevStack

    raise typer.Exit(asyncio.run(DevStack(_settings()).run()))


@app.command()
def worker() -> None:
    """Run a worker on Kurator's task queue. Needs KURATOR_DATABASE_URL and
    KURATOR_TEMPORAL_ADDRESS. Stops on Ctrl-C or SIGTERM."""
    from workers.worker import run_worker

    try:
        asyncio.run(run_worker(_settings()))
    except SettingsError as error:
        raise _exit_on_missing_setting(error) from None
    # The worker has shut down cleanly. Skip interpreter finalisation: the Temporal SDK's native
    # threads can abort it (PyGILState_Release, an open SDK issue), which would turn a clean
    # stop into a crash report and a non-zero status.
    logging.shutdown()
    os._exit(0)


@app.command()
def api() -> None:
    """Serve the staff API with uvicorn on KURATOR_API_HOST:KURATOR_API_PORT. Needs
    KURATOR_DATABASE_URL and KURATOR_TEMPORAL_ADDRESS."""
    from api.app import create_app

    settings = _settings()
    try:
        settings.require_database_url()
        settings.require_temporal_address()
    except SettingsError as error:
        raise _exit_on_missing_setting(error) from None
    config = uvicorn.Config(
        create_app(settings), host=settings.api_host, port=settings.api_port, log_config=None
    )
    uvicorn.Server(config).run()


@app.command()
def migrate() -> None:
    """Apply the database migrations (alembic upgrade head) to KURATOR_DATABASE_URL and exit."""
    from workers.migrate import upgrade_to_head

    settings = _settings()
    try:
        upgrade_to_head(settings.require_database_url())
    except SettingsError as error:
        raise _exit_on_missing_setting(error) from None
    log.info("database is at the latest migration")


if __name__ == "__main__":
    app()
