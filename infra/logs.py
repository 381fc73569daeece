"""structlog for every Kurator process, configured once.

Standard-library records (uvicorn, alembic, Temporal's `workflow.logger` and `activity.logger`)
go through the same structlog processors, so one process writes one format: JSON lines, or
readable console lines on a terminal. Temporal's workflow and activity details become fields
(workflow_id, run_id, activity_type) instead of being appended to the message.
"""

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, Literal

import structlog
from temporalio import activity, workflow

# Which of Temporal's logger details we keep, and under which field name (an activity calls
# its workflow's run id `workflow_run_id`; one name serves both).
_TEMPORAL_FIELDS = {
    "workflow_id": "workflow_id",
    "run_id": "run_id",
    "workflow_run_id": "run_id",
    "workflow_type": "workflow_type",
    "activity_id": "activity_id",
    "activity_type": "activity_type",
    "attempt": "attempt",
}
_configured = False


def _lift_temporal_details(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Flatten the `temporal_workflow` / `temporal_activity` extras into top-level fields."""
    for extra in ("temporal_workflow", "temporal_activity"):
        details = event.pop(extra, None)
        if isinstance(details, dict):
            for key_in, value in details.items():
                if key_in in _TEMPORAL_FIELDS:
                    event[_TEMPORAL_FIELDS[key_in]] = value
    return event


_SHARED_PROCESSORS: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def build_formatter(*, console: bool) -> structlog.stdlib.ProcessorFormatter:
    """The formatter that renders structlog events and standard-library records alike."""
    renderer: Any = (
        structlog.dev.ConsoleRenderer() if console else structlog.processors.JSONRenderer()
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            *_SHARED_PROCESSORS,
            structlog.stdlib.ExtraAdder(),
            _lift_temporal_details,
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )


def configure_logging(
    level: str = "INFO", log_format: Literal["auto", "json", "console"] = "auto"
) -> None:
    """Route structlog and the standard library into one renderer. Later calls do nothing."""
    global _configured
    if _configured:
        return
    _configured = True

    use_console = log_format == "console" or (log_format == "auto" and sys.stderr.isatty())
    structlog.configure(
        processors=[
            *_SHARED_PROCESSORS,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(build_formatter(console=use_console))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # The details travel as fields (above); appending them to the message would repeat them.
    workflow.logger.workflow_info_on_message = False
    activity.logger.activity_info_on_message = False
    for noisy in ("uvicorn.access", "sqlalchemy.engine", "httpx"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structlog logger; safe to call at import time (it binds lazily)."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger
