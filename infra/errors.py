"""Finding the errors of one kind inside what a task group raised."""

from typing import TypeVar

Wanted = TypeVar("Wanted", bound=BaseException)


def errors_of(error: BaseException, kind: type[Wanted]) -> list[Wanted]:
    """The `kind` errors in `error`, looking inside exception groups (a task group gathers
    the errors of its tasks in one), nested or not."""
    if isinstance(error, kind):
        return [error]
    if isinstance(error, BaseExceptionGroup):
        return [found for inner in error.exceptions for found in errors_of(inner, kind)]
    return []
