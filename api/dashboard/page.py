"""The dashboard page (and its error pages): the report's indicators in Russian, each with
its description, chart and table, and the filters as a GET form. Everything that comes from
a request or the database is escaped."""

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode

from api.dashboard.charts import chart
from models.reports import labels
from models.reports.results import Cell, Column, IndicatorReport, IndicatorTable

# Rows a table shows on the page; the CSV has them all.
MAX_TABLE_ROWS = 40

_STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; color: #222; margin: 0 auto;
       max-width: 1100px; padding: 16px 24px 48px; background: #fafafa; }
h1 { font-size: 24px; margin: 8px 0 4px; }
h2 { font-size: 18px; margin: 0 0 6px; }
.sub { color: #555; margin: 0 0 14px; }
section { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 14px 18px;
          margin: 14px 0; }
.how { color: #555; font-size: 13px; margin: 0 0 10px; max-width: 900px; }
form.filters { display: flex; flex-wrap: wrap; gap: 12px; align-items: end; background: #fff;
               border: 1px solid #ddd; border-radius: 6px; padding: 12px 18px; }
form.filters label { display: flex; flex-direction: column; font-size: 13px; gap: 4px; }
form.filters input, form.filters select, form.filters button { font-size: 14px; padding: 4px; }
table { border-collapse: collapse; font-size: 13px; margin-top: 8px; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 4px 10px; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.links a { margin-right: 14px; }
.error { border-color: #b5433f; }
svg.chart { display: block; max-width: 100%; height: auto; }
"""


def _hash(source: str) -> str:
    return base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()


# No script at all; the one style block by its hash; the form submits to this page.
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_hash(_STYLE)}'; img-src 'none'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


@dataclass(frozen=True)
class FormState:
    """What the filter form shows: the values asked for and the municipalities on offer (None:
    no form, as in a page `kurator report` writes to a file)."""

    date_from: str
    date_to: str
    municipality: str
    choices: Sequence[str] | None
    action: str = ""


def _layout(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="ru"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
    )


def _form(form: FormState) -> str:
    if form.choices is None:
        return ""
    options = ['<option value="">все доступные</option>']
    for code in form.choices:
        selected = " selected" if code == form.municipality else ""
        name = labels.label(labels.MUNICIPALITY_NAMES, code)
        options.append(f'<option value="{escape(code)}"{selected}>{escape(name)}</option>')
    return (
        f'<form class="filters" method="get" action="{escape(form.action)}">'
        f'<label>С <input type="date" name="from" value="{escape(form.date_from)}"></label>'
        f'<label>По <input type="date" name="to" value="{escape(form.date_to)}"></label>'
        f'<label>Муниципалитет <select name="municipality">{"".join(options)}</select></label>'
        '<button type="submit">Показать</button></form>'
    )


def _cell(column: Column, value: Cell) -> str:
    if value is None:
        return '<td class="num">—</td>'
    if column.kind == "share" and isinstance(value, int | float):
        percent = f"{value * 100:.1f}".replace(".", ",")  # Russian decimal comma
        return f'<td class="num">{percent} %</td>'
    if column.kind in ("count", "number"):
        return f'<td class="num">{escape(str(value))}</td>'
    return f"<td>{escape(str(value))}</td>"


def _table(table: IndicatorTable) -> str:
    keys = {column.key for column in table.columns}
    # A code column is shown by its Russian name when it has one.
    shown = [c for c in table.columns if f"{c.key}_ru" not in keys]
    head = "".join(f"<th>{escape(c.label_ru)}</th>" for c in shown)
    body = "".join(
        "<tr>" + "".join(_cell(c, row.get(c.key)) for c in shown) + "</tr>"
        for row in table.rows[:MAX_TABLE_ROWS]
    )
    more = len(table.rows) - MAX_TABLE_ROWS
    note = f'<p class="how">Ещё строк: {more} — полностью в CSV.</p>' if more > 0 else ""
    if not table.rows:
        return '<p class="how">Нет данных за период.</p>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}"


def _territory(report: IndicatorReport) -> str:
    if report.municipalities is None:
        return "все муниципалитеты области"
    return ", ".join(labels.label(labels.MUNICIPALITY_NAMES, m) for m in report.municipalities)


def dashboard_page(report: IndicatorReport, form: FormState, *, query: dict[str, str]) -> str:
    """The whole page. `query` is the filter as query parameters, for the CSV and JSON links
    (None values left out); empty for a page written to a file."""
    links = ""
    if query:
        csv_link = escape("?" + urlencode({**query, "format": "csv"}))
        json_link = escape("?" + urlencode({**query, "format": "json"}))
        links = (
            f'<p class="links"><a href="{csv_link}">Скачать CSV</a>'
            f'<a href="{json_link}">JSON</a></p>'
        )
    sections = "".join(
        f'<section id="{escape(t.id)}"><h2>{escape(t.label_ru)}</h2>'
        f'<p class="how">{escape(t.description_ru)}</p>{chart(t)}{_table(t)}</section>'
        for t in report.indicators
    )
    generated = report.generated_at.strftime("%Y-%m-%d %H:%M UTC")
    body = (
        "<h1>Показатели пилота социального сопровождения семей</h1>"
        f'<p class="sub">Период: {escape(report.date_from.isoformat())} — '
        f"{escape(report.date_to.isoformat())} · {escape(_territory(report))} · "
        f"сформировано {escape(generated)} · набор показателей "
        f"{escape(report.indicator_set)}</p>"
        f"{_form(form)}{links}{sections}"
    )
    return _layout("Показатели пилота — Kurator", body)


def error_page(status: int, message: str, *, sign_in: str | None, form: FormState | None) -> str:
    """An error as a page: what went wrong (escaped), the form to try again, and for a missing
    or expired sign-in the link to sign in."""
    titles = {401: "Нужен вход", 403: "Нет доступа", 422: "Неверный фильтр"}
    title = titles.get(status, "Ошибка")
    link = ""
    if sign_in is not None:
        link = (
            f'<p><a href="{escape(sign_in)}">Войти с токеном сотрудника</a> и вернуться '
            "на эту страницу.</p>"
        )
    body = (
        f"<h1>{escape(title)} ({status})</h1>"
        f'<section class="error"><p>{escape(message)}</p>{link}</section>'
        f"{_form(form) if form is not None else ''}"
    )
    return _layout(f"{title} — показатели Kurator", body)
