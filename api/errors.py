"""Errors as JSON with a machine-readable code and a human-readable message; never a bare 500
for bad input."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from infra.logs import get_logger

log = get_logger(__name__)


class ErrorBody(BaseModel):
    code: str = Field(description="Machine-readable, e.g. rejected, not_found, invalid_request.")
    message: str = Field(description="What went wrong, for a person.")
    details: list[dict[str, Any]] | None = Field(None, description="Per-field problems.")


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the given error statuses."""
    return {status: {"model": ErrorBody} for status in statuses}


def _json(status: int, body: ErrorBody, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


async def _api_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return _json(error.status, ErrorBody(code=error.code, message=error.message), error.headers)


async def _invalid_request(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    # The offending input is not echoed back: it may be a family's personal data.
    details = [
        {"field": ".".join(str(part) for part in problem["loc"]), "problem": problem["msg"]}
        for problem in error.errors()
    ]
    summary = "; ".join(f"{d['field']}: {d['problem']}" for d in details[:5])
    return _json(422, ErrorBody(code="invalid_request", message=summary, details=details))


async def _http_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 400:
        # FastAPI's answer to a body it cannot decode (not UTF-8, say): bad input like any other.
        return _json(422, ErrorBody(code="invalid_request", message=f"body: {error.detail}"))
    code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
    return _json(
        error.status_code,
        ErrorBody(code=code, message=str(error.detail)),
        dict(error.headers) if error.headers else None,
    )


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    # Log the type and the route only: an exception's text may carry personal data.
    log.error("unexpected error", path=request.url.path, error_type=type(error).__name__)
    return _json(500, ErrorBody(code="internal_error", message="an unexpected error occurred"))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
