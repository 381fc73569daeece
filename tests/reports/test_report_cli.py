"""`kurator report` writes the dashboard page and the CSV files of a period, as a process."""

import csv
import os
import subprocess
import sys
from pathlib import Path

from models.reports.catalogue import IndicatorId


def _kurator(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KURATOR_DATABASE_URL": database_url, "KURATOR_LOG_FORMAT": "console"}
    command = [sys.executable, "-m", "workers.cli", "report", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def test_the_report_command_writes_the_page_and_the_csv_files(
    report_database: str, tmp_path: Path
) -> None:
    out = tmp_path / "march"
    done = _kurator(
        report_database, "--from", "2026-03-01", "--to", "2026-03-31", "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    expected = {"index.html", "indicators.csv", *(f"{i}.csv" for i in IndicatorId)}
    assert {path.name for path in out.iterdir()} == expected
    assert sorted(done.stdout.split()) == sorted(str(out / name) for name in expected)
    page = (out / "index.html").read_text(encoding="utf-8")
    assert page.count("<svg") == len(IndicatorId)
    assert "<form" not in page  # a file has nowhere to send a filter
    assert "все муниципалитеты области" in page
    with (out / "closure_reasons.csv").open(encoding="utf-8") as file:
        assert list(csv.reader(file)) == [
            ["closure_reason", "closure_reason_ru", "cases", "share"],
            ["goals_achieved", "ТЖС преодолена", "2", "0.6667"],
            ["no_need", "нуждаемость не установлена", "1", "0.3333"],
        ]

    berdsk = _kurator(
        report_database,
        "--from", "2026-03-01", "--to", "2026-03-31", "--municipality", "berdsk",
        "--out", str(tmp_path / "berdsk"),
    )  # fmt: skip
    assert berdsk.returncode == 0, berdsk.stderr
    with (tmp_path / "berdsk" / "closure_reasons.csv").open(encoding="utf-8") as file:
        assert [row[2] for row in csv.reader(file)] == ["cases", "1", "1"]


def test_the_report_command_names_a_wrong_filter(report_database: str, tmp_path: Path) -> None:
    for args, message in (
        (("--from", "2026-03-32", "--to", "2026-03-31"), "from: not a date"),
        (("--from", "2026-04-01", "--to", "2026-03-31"), "from: 2026-04-01 is after to"),
        (("--from", "2026-03-01", "--to", "2026-03-31", "--municipality", "x"), "municipality"),
    ):
        done = _kurator(report_database, *args, "--out", str(tmp_path / "never"))
        assert done.returncode == 2, args
        assert message in done.stderr + done.stdout
    assert not (tmp_path / "never").exists()
