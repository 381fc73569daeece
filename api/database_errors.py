"""PostgreSQL unavailable is "retry later" (503 with Retry-After), never a server fault (500).

Reads, intakes and the routing of actions all go through PostgreSQL: while it is stopped,
restarting, refusing connections or has cut them, the driver raises and the request used to
end as a 500. Here those errors answer like an unavailable Temporal does: 503, `Retry-After`
and `{"code": "database_unavailable", "message": ...}`. Errors that mean a bug (an integrity
or programming error) are left to the generic 500 handler.

Neither the answer nor the log line carries the exception's text: SQLAlchemy puts the SQL
statement and its parameters (a family's names, say) into it. The log gets the driver's error
type and SQLSTATE only.
"""

import psycopg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import exc

from api.errors import ErrorBody
from infra.logs import get_logger

log = get_logger(__name__)

RETRY_AFTER_SECONDS = 5
MESSAGE = (
    "the case database (PostgreSQL) is unavailable; retry in a few seconds (a POST with the "
    "same Idempotency-Key)"
)

# Connection refused, cut or timed out; the server starting up or shutting down; the pool out
# of connections; a statement cancelled or a lock not granted under load: each passes.
_UNAVAILABLE: tuple[type[Exception], ...] = (
    exc.OperationalError,
    exc.InterfaceError,
    exc.TimeoutError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)


def is_unavailable(error: BaseException) -> bool:
    """True when `error` says PostgreSQL cannot be used right now, not that the request or the
    code is wrong."""
    if isinstance(error, _UNAVAILABLE):
        return True
    # Any driver error during which SQLAlchemy saw the connection drop.
    return isinstance(error, exc.DBAPIError) and error.connection_invalidated


async def _database_error(request: Request, error: Exception) -> JSONResponse:
    if not is_unavailable(error):
        raise error  # a bug, not an outage: the generic handler answers 500 and logs it
    cause = error.orig if isinstance(error, exc.DBAPIError) else error
    log.warning(
        "database unavailable",
        path=request.url.path,
        error_type=type(cause).__name__,
        sqlstate=getattr(cause, "sqlstate", None),
    )
    return JSONResponse(
        ErrorBody(code="database_unavailable", message=MESSAGE).model_dump(exclude_none=True),
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def install_database_error_handlers(app: FastAPI) -> None:
    for error_type in (*_UNAVAILABLE, exc.DBAPIError):
        app.add_exception_handler(error_type, _database_error)
