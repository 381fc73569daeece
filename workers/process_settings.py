"""The settings of a `kurator` command's process, read once at its start."""

import typer

from infra.logs import configure_logging, get_logger
from models.settings import Settings, SettingsError, get_settings

log = get_logger(__name__)


def process_settings() -> Settings:
    """Settings and logging for this process; an invalid setting ends it with status 2."""
    try:
        settings = get_settings()
    except SettingsError as error:
        configure_logging()
        log.error(str(error))
        raise typer.Exit(2) from None
    configure_logging(settings.log_level, settings.log_format)
    return settings
