"""Reports as CSV: one indicator as its own table (its columns' keys as the header), or every
indicator at once in a long form (one line per cell), for a spreadsheet or a script."""

import csv
import io

from models.reports.results import Cell, IndicatorReport, IndicatorTable

LONG_HEADER = ["indicator", "row", "column", "column_label_ru", "value"]
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def indicator_csv(table: IndicatorTable) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([column.key for column in table.columns])
    for row in table.rows:
        writer.writerow([_cell(row.get(column.key)) for column in table.columns])
    return out.getvalue()


def report_csv(report: IndicatorReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(LONG_HEADER)
    for table in report.indicators:
        for number, row in enumerate(table.rows, start=1):
            for column in table.columns:
                writer.writerow(
                    [table.id, number, column.key, column.label_ru, _cell(row.get(column.key))]
                )
    return out.getvalue()


def _cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA_STARTS) else value
    return str(value)
