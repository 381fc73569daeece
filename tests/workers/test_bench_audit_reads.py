"""`kurator bench audit` at a tiny size: it generates, serves the API from its own process,
times every read and prints every line of its table."""

import io

import pytest
from rich.console import Console
from typer.testing import CliRunner

from workers.bench.audit_reads import AuditBenchOptions, main, parse_only
from workers.cli import app

MEASURES = (
    "generate: cases, events",
    "audit history of a case",
    "state of a case at a moment",
    "indicators, whole oblast, a year",
    "export of berdsk",
    "GET /cases/{id}/events",
    "GET /cases, a page of novosibirsk",
    "GET /cases, a page of berdsk",
    "GET /tasks, a berdsk specialist's inbox",
    "GET /tasks, the ministry's inbox",
    "GET /cases, novosibirsk page",
    "kurator audit verify",
)


def test_audit_bench_runs_and_reports_every_measure() -> None:
    out = io.StringIO()
    console = Console(file=out, width=250, color_system=None)
    options = AuditBenchOptions(cases=60, jobs=2, requests=8, indicator_runs=1)

    status = main(options, console)

    printed = out.getvalue()
    assert status == 0, printed
    for measure in MEASURES:
        assert measure in printed
    # Each line is a figure, a failure with its status, or a route not built yet: never empty.
    table = [line for line in printed.splitlines() if line.startswith("│")]
    assert len(table) == len(MEASURES)
    for line in table:
        figure = line.split("│")[2].strip()
        assert (
            figure.startswith(("p50 ", "not available", "60 cases", "failed")) or "events" in figure
        )
    assert "failed" not in printed


def test_only_takes_the_measures_named() -> None:
    out = io.StringIO()
    console = Console(file=out, width=250, color_system=None)
    options = AuditBenchOptions(cases=20, jobs=1, requests=4, only=parse_only("history, export"))

    status = main(options, console)

    printed = out.getvalue()
    assert status == 0, printed
    table = [line.split("│")[1].strip() for line in printed.splitlines() if line.startswith("│")]
    assert [row.split(",")[0] for row in table] == [
        "generate: cases",
        "audit history of a case",
        "export of berdsk",
    ]
    assert "Verifying" not in printed


def test_only_refuses_an_unknown_measure() -> None:
    with pytest.raises(ValueError, match="unknown measure histroy: pick from history, state"):
        parse_only("histroy,export")
    with pytest.raises(ValueError, match="unknown measure"):
        parse_only(" , ")

    result = CliRunner().invoke(app, ["bench", "audit", "--only", "verfy"])

    assert result.exit_code == 2
    assert "unknown measure verfy" in result.output
