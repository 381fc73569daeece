"""`kurator report`: the dashboard page and the CSV files of one period, written to a folder,
computed by the same queries as the API (models/reports) over KURATOR_DATABASE_URL."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from api.dashboard.page import FormState, dashboard_page
from models.db import make_async_engine, make_session_factory
from models.reports.compute import compute_report, load_report_setup
from models.reports.csv_export import indicator_csv, report_csv
from models.reports.period import report_filter
from models.settings import Settings

INDEX = "index.html"
ALL_CSV = "indicators.csv"


@dataclass(frozen=True)
class ReportRequest:
    date_from: date
    date_to: date
    municipality: str | None
    out: Path


async def write_report(settings: Settings, request: ReportRequest) -> list[Path]:
    """The files written: index.html, indicators.csv (every indicator, one line per cell) and
    one <indicator>.csv each. ReportFilterError or IndicatorSetError before anything is read."""
    setup = load_report_setup(settings.indicators_file)
    chosen = report_filter(
        date_from=request.date_from,
        date_to=request.date_to,
        municipality=request.municipality,
        territory=None,  # whoever holds the database URL reads every municipality
        utc_offset=setup.utc_offset,
    )
    engine = make_async_engine(settings.require_database_url())
    try:
        report = await compute_report(
            make_session_factory(engine), setup, chosen, now=datetime.now(UTC)
        )
    finally:
        await engine.dispose()
    request.out.mkdir(parents=True, exist_ok=True)
    form = FormState(
        date_from=request.date_from.isoformat(),
        date_to=request.date_to.isoformat(),
        municipality=request.municipality or "",
        choices=None,
    )
    files = {
        INDEX: dashboard_page(report, form, query={}),
        ALL_CSV: report_csv(report),
        **{f"{table.id}.csv": indicator_csv(table) for table in report.indicators},
    }
    written = []
    for name, content in files.items():
        path = request.out / name
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written
