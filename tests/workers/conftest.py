"""The `kurator` command run in the test's own process (a subprocess costs seconds of imports
per call on a busy machine)."""

import logging
from collections.abc import Callable, Iterator

import pytest
from typer.testing import CliRunner

from infra import logs
from models.settings import get_settings
from workers.cli import app

# kurator_in_process(*args, env={...}) -> (exit status, output and log lines together)
InProcessKurator = Callable[..., tuple[int, str]]


@pytest.fixture
def kurator_in_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[InProcessKurator]:
    monkeypatch.setenv("KURATOR_LOG_FORMAT", "console")
    # Each command configures logging onto the stderr CliRunner captures: let it, and put the
    # process's logging back afterwards (that stream is closed once the command returns).
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    monkeypatch.setattr(logs, "_configured", False)

    def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        logs._configured = False
        result = CliRunner().invoke(app, list(args))
        return result.exit_code, result.output + result.stderr

    yield run
    get_settings.cache_clear()
    root.handlers[:], root.level = handlers, level
