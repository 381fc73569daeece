"""Which chart each indicator gets, drawn from its rows (api/dashboard/svg.py)."""

from collections.abc import Callable

from api.dashboard import svg
from models.reports import labels
from models.reports.catalogue import IndicatorId
from models.reports.queries_state import NO_CURATOR
from models.reports.results import Cell, IndicatorTable

Rows = list[dict[str, Cell]]


def _int(value: Cell) -> int:
    return int(value) if isinstance(value, int | float) else 0


def _share(value: Cell) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _open_cases(rows: Rows) -> str:
    stages = list(dict.fromkeys(str(r["stage_ru"]) for r in rows))
    levels = list(labels.LEVELS.values())  # all of them: each level keeps its colour
    values = {(str(r["stage_ru"]), str(r["level_ru"])): _int(r["cases"]) for r in rows}
    return svg.stacked_bars("Открытые случаи по этапам и уровням", stages, levels, values)


def _months(rows: Rows) -> str:
    months = [str(r["month"]) for r in rows]
    series = {
        "новые": [_int(r["new"]) for r in rows],
        "закрытые": [_int(r["closed"]) for r in rows],
    }
    return svg.month_columns("Новые и закрытые случаи по месяцам", months, series)


def _closures(rows: Rows) -> str:
    total = sum(_int(r["cases"]) for r in rows)
    items = [
        (str(r["closure_reason_ru"]), _share(r["share"]), f"{_int(r['cases'])} из {total}")
        for r in rows
    ]
    return svg.share_bars("Доли оснований снятия", items)


def _legal(rows: Rows) -> str:
    items = [
        (
            f"{r['deadline']} {r['deadline_ru']}",
            _share(r["share_met"]),
            f"{_int(r['met'])} из {_int(r['concluded'])}",
        )
        for r in rows
    ]
    return svg.share_bars("Доля в срок", items)


def _on_time(rows: Rows) -> str:
    items = [
        (
            str(r["kind_ru"]),
            _share(r["share_on_time"]),
            f"{_int(r['on_time'])} из {_int(r['held'])}",
        )
        for r in rows
    ]
    return svg.share_bars("Доля в срок", items)


def _escalations(rows: Rows) -> str:
    by_rung: dict[int, int] = {}
    for r in rows:
        by_rung[_int(r["rung"])] = by_rung.get(_int(r["rung"]), 0) + _int(r["escalations"])
    items = [(name, by_rung.get(rung, 0)) for rung, name in _RUNG_NAMES.items()]
    return svg.bars("Эскалации по ступеням", items)


_RUNG_NAMES = {
    1: "ступень 1 (просрочка)",
    2: "ступень 2 (руководитель центра)",
    3: "ступень 3 (министерство)",
}


def _first_contact(rows: Rows) -> str:
    r = rows[0]
    detail = f"{_int(r['within_t1'])} из {_int(r['cases'])}"
    return svg.share_bars(
        "Первый контакт в срок T1", [("в срок T1", _share(r["share_within_t1"]), detail)]
    )


def _urgent(rows: Rows) -> str:
    return svg.bars("Записей в периоде", [(str(r["kind_ru"]), _int(r["records"])) for r in rows])


_BANDS = ((1, 10), (11, 20), (21, 30), (31, 40), (41, 60), (61, None))


def _caseload(rows: Rows) -> str:
    counts = [_int(r["families"]) for r in rows if r["curator"] != NO_CURATOR]
    items = []
    for low, high in _BANDS:
        name = f"{low}–{high} семей" if high else f"{low} и более семей"
        items.append((name, sum(1 for c in counts if c >= low and (high is None or c <= high))))
    return svg.bars("Кураторов по числу семей", items)


CHARTS: dict[IndicatorId, Callable[[Rows], str]] = {
    IndicatorId.OPEN_CASES_BY_STAGE_LEVEL: _open_cases,
    IndicatorId.NEW_AND_CLOSED_BY_MONTH: _months,
    IndicatorId.CLOSURE_REASONS: _closures,
    IndicatorId.LEGAL_DEADLINES: _legal,
    IndicatorId.REVIEWS_AND_CONTACTS_ON_TIME: _on_time,
    IndicatorId.ESCALATIONS: _escalations,
    IndicatorId.SIGNAL_TO_FIRST_CONTACT: _first_contact,
    IndicatorId.URGENT_SERVICES_AND_ALERTS: _urgent,
    IndicatorId.CASELOAD: _caseload,
}


def chart(table: IndicatorTable) -> str:
    """The indicator's chart, or nothing when it has no rows to draw."""
    return CHARTS[table.id](table.rows) if table.rows else ""
