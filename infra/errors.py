"""Finding the errors of one kind inside what a task group raised, and telling a person."""

from typing import TypeVar

from rich.console import Console

Wanted = TypeVar("Wanted", bound=BaseException)


def errors_of(error: BaseException, kind: type[Wanted]) -> list[Wanted]:
    """The `kind` errors in `error`, looking inside exception groups (a task group gathers
    the errors of its tasks in one), nested or not."""
    if isinstance(error, kind):
        return [error]
    if isinstance(error, BaseExceptionGroup):
        return [found for inner in error.exceptions for found in errors_of(inner, kind)]
    return []


def report_errors(error: BaseException, kind: type[BaseException], heading: str) -> bool:
    """Print each `kind` error in `error` on stderr under `heading`; False when there is none
    (the caller re-raises: it is a bug, not a problem to report)."""
    problems = errors_of(error, kind)
    for problem in problems:
        Console(stderr=True).print(f"[bold red]{heading}:[/] {problem}", highlight=False)
    return bool(problems)
