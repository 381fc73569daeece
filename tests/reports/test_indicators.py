"""Every indicator over the hand-made March 2026 history (tests/support/report_cases.py), with
values worked out on paper. Cases A, B, C, E, F, G are Berdsk's, D is Iskitim district's; F
opened in April, after the period."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from models.db import SessionFactory
from models.reports.catalogue import IndicatorId, IndicatorSetError, load_indicator_set
from models.reports.compute import compute_report, load_report_setup
from models.reports.period import OutsideTerritory, ReportFilterError, report_filter
from models.reports.results import Cell, IndicatorReport

SETUP = load_report_setup(None)
MARCH = (date(2026, 3, 1), date(2026, 3, 31))


async def _report(
    reads: SessionFactory,
    *,
    municipality: str | None = None,
    territory: tuple[str, ...] | None = None,
) -> IndicatorReport:
    chosen = report_filter(
        date_from=MARCH[0],
        date_to=MARCH[1],
        municipality=municipality,
        territory=territory,
        utc_offset=SETUP.utc_offset,
    )
    return await compute_report(reads, SETUP, chosen, now=datetime.now(UTC))


def rows(report: IndicatorReport, indicator: IndicatorId) -> list[dict[str, Cell]]:
    (table,) = [t for t in report.indicators if t.id == indicator]
    return table.rows


def by(key: str, found: list[dict[str, Cell]]) -> dict[Cell, dict[str, Cell]]:
    return {row[key]: row for row in found}


async def test_the_whole_oblast_in_march(report_sessions: SessionFactory) -> None:
    report = await _report(report_sessions)
    assert [t.id for t in report.indicators] == list(IndicatorId)
    assert all(t.label_ru and t.description_ru for t in report.indicators)

    open_cases = [
        (r["stage"], r["level"], r["cases"])
        for r in rows(report, IndicatorId.OPEN_CASES_BY_STAGE_LEVEL)
    ]
    assert open_cases == [("identified", "—", 1), ("planning", "L1", 1), ("support", "L2", 1)]

    months = rows(report, IndicatorId.NEW_AND_CLOSED_BY_MONTH)
    assert months == [{"month": "2026-03", "new": 4, "closed": 3}]

    closures = rows(report, IndicatorId.CLOSURE_REASONS)
    assert [(r["closure_reason"], r["cases"], r["share"]) for r in closures] == [
        ("goals_achieved", 2, 0.6667),
        ("no_need", 1, 0.3333),
    ]

    legal = by("deadline", rows(report, IndicatorId.LEGAL_DEADLINES))
    # T2: A on time (4 WD), B late (7 WD), C on time (2 WD): median 4 working days.
    assert legal["T2"] == {
        "deadline": "T2",
        "deadline_ru": "решение о нуждаемости",
        "concluded": 3,
        "met": 2,
        "share_met": 0.6667,
        "median_working_days": 4.0,
    }
    # T3: A's programme on time (8 WD), B's overdue; C (no need) has no programme to count.
    assert (legal["T3"]["concluded"], legal["T3"]["met"], legal["T3"]["share_met"]) == (2, 1, 0.5)
    assert legal["T3"]["median_working_days"] == 8.0

    on_time = by("kind", rows(report, IndicatorId.REVIEWS_AND_CONTACTS_ON_TIME))
    assert (on_time["review"]["held"], on_time["review"]["on_time"]) == (2, 1)  # D's was late
    # A's and B's first contacts on time; B's after T5 went overdue and E's after T1 late.
    assert (on_time["contact"]["held"], on_time["contact"]["on_time"]) == (4, 2)
    assert on_time["contact"]["share_on_time"] == 0.5

    escalations = [
        (r["municipality"], r["rung"], r["escalations"])
        for r in rows(report, IndicatorId.ESCALATIONS)
    ]
    assert escalations == [("berdsk", 1, 4), ("berdsk", 2, 2), ("iskitim_district", 1, 1)]

    # A after 4 hours, B after 24, E after 26 (T1 already overdue); D's contact was in February.
    assert rows(report, IndicatorId.SIGNAL_TO_FIRST_CONTACT) == [
        {
            "cases": 3,
            "within_t1": 2,
            "share_within_t1": 0.6667,
            "median_hours": 24.0,
            "p90_hours": 25.6,
        }
    ]

    urgent = by("kind", rows(report, IndicatorId.URGENT_SERVICES_AND_ALERTS))
    assert (urgent["urgent_service_given"]["records"], urgent["urgent_service_given"]["cases"]) == (
        1,
        1,
    )
    assert (urgent["child_safety_alert"]["records"], urgent["child_safety_alert"]["cases"]) == (
        2,
        2,
    )

    assert rows(report, IndicatorId.CASELOAD) == [
        {"curator": "staff-1", "families": 2},
        {"curator": "без куратора", "families": 1},
    ]


async def test_a_territory_sees_only_its_cases(report_sessions: SessionFactory) -> None:
    berdsk = await _report(report_sessions, territory=("berdsk",))
    assert berdsk.municipalities == ["berdsk"]
    closures = rows(berdsk, IndicatorId.CLOSURE_REASONS)
    assert [(r["closure_reason"], r["cases"], r["share"]) for r in closures] == [
        ("goals_achieved", 1, 0.5),
        ("no_need", 1, 0.5),
    ]
    on_time = by("kind", rows(berdsk, IndicatorId.REVIEWS_AND_CONTACTS_ON_TIME))
    assert (on_time["review"]["held"], on_time["review"]["on_time"]) == (1, 1)
    assert {r["municipality"] for r in rows(berdsk, IndicatorId.ESCALATIONS)} == {"berdsk"}
    urgent = by("kind", rows(berdsk, IndicatorId.URGENT_SERVICES_AND_ALERTS))
    assert urgent["urgent_service_given"]["records"] == 0
    assert urgent["child_safety_alert"]["records"] == 1

    iskitim = await _report(report_sessions, municipality="iskitim_district")
    assert rows(iskitim, IndicatorId.CLOSURE_REASONS) == [
        {
            "closure_reason": "goals_achieved",
            "closure_reason_ru": "ТЖС преодолена",
            "cases": 1,
            "share": 1.0,
        }
    ]
    assert rows(iskitim, IndicatorId.NEW_AND_CLOSED_BY_MONTH) == [
        {"month": "2026-03", "new": 0, "closed": 1}
    ]
    assert rows(iskitim, IndicatorId.OPEN_CASES_BY_STAGE_LEVEL) == []


async def test_an_empty_period_has_every_month_and_no_shares(
    report_sessions: SessionFactory,
) -> None:
    chosen = report_filter(
        date_from=date(2025, 11, 1),
        date_to=date(2026, 1, 10),
        municipality=None,
        territory=None,
        utc_offset=SETUP.utc_offset,
    )
    report = await compute_report(report_sessions, SETUP, chosen, now=datetime.now(UTC))
    assert [r["month"] for r in rows(report, IndicatorId.NEW_AND_CLOSED_BY_MONTH)] == [
        "2025-11",
        "2025-12",
        "2026-01",
    ]
    legal = by("deadline", rows(report, IndicatorId.LEGAL_DEADLINES))
    assert legal["T2"]["concluded"] == 0
    assert legal["T2"]["share_met"] is None
    assert legal["T2"]["median_working_days"] is None


def test_filters_name_the_wrong_parameter() -> None:
    def attempt(**given: object) -> ReportFilterError:
        values: dict[str, object] = {
            "date_from": MARCH[0],
            "date_to": MARCH[1],
            "municipality": None,
            "territory": None,
            "utc_offset": timedelta(hours=7),
            **given,
        }
        with pytest.raises(ReportFilterError) as raised:
            report_filter(**values)  # type: ignore[arg-type]
        return raised.value

    assert attempt(date_from=date(2026, 4, 1)).parameter == "from"
    assert attempt(date_from=date(2010, 1, 1)).parameter == "to"  # over ten years
    assert attempt(municipality="atlantis").parameter == "municipality"
    assert attempt(date_to=date(2101, 1, 1)).parameter == "to"
    with pytest.raises(OutsideTerritory):
        report_filter(
            date_from=MARCH[0],
            date_to=MARCH[1],
            municipality="iskitim_district",
            territory=("berdsk",),
            utc_offset=timedelta(hours=7),
        )


def test_the_indicator_file_chooses_and_orders_and_refuses_unknown_ids(tmp_path: Path) -> None:
    chosen = tmp_path / "two.toml"
    chosen.write_text(
        'version = "two"\n'
        '[[indicators]]\nid = "caseload"\nlabel_ru = "Нагрузка"\ndescription_ru = "Семьи."\n'
        '[[indicators]]\nid = "closure_reasons"\nlabel_ru = "Снятие"\ndescription_ru = "Доли."\n',
        encoding="utf-8",
    )
    assert load_indicator_set(chosen).ids() == (IndicatorId.CASELOAD, IndicatorId.CLOSURE_REASONS)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text(
        'version = "x"\n[[indicators]]\nid = "happiness"\nlabel_ru = "С"\ndescription_ru = "Д"\n',
        encoding="utf-8",
    )
    with pytest.raises(IndicatorSetError, match=r"unknown\.toml: unknown indicator id 'happiness'"):
        load_indicator_set(unknown)
    with pytest.raises(IndicatorSetError, match="no such indicator file"):
        load_indicator_set(tmp_path / "missing.toml")
