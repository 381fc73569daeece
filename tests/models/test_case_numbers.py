"""Readable case numbers: the territories' prefixes, the format and the year of intake; and
what the Web UI's `AwaitingApproval` says (pure)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from models.case_numbers import EXAMPLE, format_case_number, intake_year, is_case_number
from models.inbox import approval_awaited
from models.payloads.vocabulary import Stage
from models.policy import ClosureReason
from models.territory import CASE_PREFIXES, MUNICIPALITIES, by_code

NOVOSIBIRSK = timedelta(hours=7)

# Pinned: a number once given keeps its prefix, so changing one here is a decision, not a fix.
PREFIXES = {
    "novosibirsk": "НСК",
    "berdsk": "БРД",
    "iskitim": "ИСК",
    "ob": "ОБЬ",
    "koltsovo": "КЛЦ",
    "bagan_district": "БАГ",
    "barabinsk_district": "БАР",
    "bolotnoye_district": "БЛТ",
    "vengerovo_district": "ВНГ",
    "dovolnoye_district": "ДВЛ",
    "zdvinsk_district": "ЗДВ",
    "iskitim_district": "ИСР",
    "karasuk_district": "КРС",
    "kargat_district": "КРГ",
    "kolyvan_district": "КЛВ",
    "kochenevo_district": "КЧН",
    "kochki_district": "КЧК",
    "krasnozerskoye_district": "КРЗ",
    "kuybyshev_district": "КУЙ",
    "kupino_district": "КУП",
    "kyshtovka_district": "КЫШ",
    "maslyanino_district": "МСЛ",
    "moshkovo_district": "МШК",
    "novosibirsk_district": "НСР",
    "ordynskoye_district": "ОРД",
    "severnoye_district": "СЕВ",
    "suzun_district": "СУЗ",
    "tatarsk_district": "ТАТ",
    "toguchin_district": "ТОГ",
    "ubinskoye_district": "УБН",
    "ust_tarka_district": "УТК",
    "chany_district": "ЧАН",
    "cherepanovo_district": "ЧРП",
    "chistoozernoye_district": "ЧСТ",
    "chulym_district": "ЧУЛ",
}


def test_every_municipality_has_its_own_stable_prefix() -> None:
    assert {m.code: m.case_prefix for m in MUNICIPALITIES} == PREFIXES
    assert len(CASE_PREFIXES) == len(MUNICIPALITIES) == 35


def test_a_prefix_is_three_cyrillic_capitals_from_the_name() -> None:
    for municipality in MUNICIPALITIES:
        prefix = municipality.case_prefix
        assert len(prefix) == 3, prefix
        assert all("А" <= c <= "Я" or c == "Ё" for c in prefix), prefix
        # The name's first letter, after "город" / "рабочий посёлок" for the cities.
        place = municipality.name_ru.removeprefix("город ").removeprefix("рабочий посёлок ")
        assert prefix[0] == place[0].upper(), (prefix, municipality.name_ru)


def test_a_number_names_territory_year_and_sequence() -> None:
    assert format_case_number("berdsk", 2026, 42) == EXAMPLE == "БРД-2026-00042"
    assert format_case_number("iskitim_district", 2027, 1) == "ИСР-2027-00001"
    assert format_case_number("novosibirsk", 2026, 123456) == "НСК-2026-123456"
    with pytest.raises(ValueError, match="atlantis"):
        format_case_number("atlantis", 2026, 1)


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("БРД-2026-00042", True),
        ("НСК-2026-123456", True),
        ("ОБЬ-2030-00001", True),
        ("BRD-2026-00042", False),  # Latin letters
        ("брд-2026-00042", False),  # the API upper-cases before asking
        ("БРД-2026-42", False),
        ("БРД-26-00042", False),
        ("БРД-2026-00042 ", False),
        ("БРД-2026-00042\n", False),
        ("", False),
    ],
)
def test_a_case_number_is_recognised_exactly(text: str, valid: bool) -> None:
    assert is_case_number(text) is valid


def test_the_year_of_intake_is_the_oblasts_local_year() -> None:
    new_year_night = datetime(2026, 12, 31, 18, 30, tzinfo=UTC)  # 01:30 on 1 January, UTC+7
    assert intake_year(new_year_night, NOVOSIBIRSK) == 2027
    assert intake_year(datetime(2026, 12, 31, 16, 59, tzinfo=UTC), NOVOSIBIRSK) == 2026
    assert by_code("berdsk").case_prefix == "БРД"


def test_the_readme_lists_every_prefix_with_its_municipality() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for code, prefix in PREFIXES.items():
        assert f"{prefix} `{code}`" in readme, (prefix, code)


@pytest.mark.parametrize(
    ("stage", "closure_requested", "awaited"),
    [
        (Stage.SUPPORT, None, None),
        (Stage.PLANNING, None, None),  # a plan is its own query (CaseStage = "planning")
        (Stage.SUPPORT, ClosureReason.GOALS_ACHIEVED, "closure"),
        (Stage.PROLONGATION, None, "prolongation"),
        (Stage.PROLONGATION, ClosureReason.TERM_EXPIRED, "closure"),
    ],
)
def test_what_awaits_a_decision_is_what_the_inbox_lists(
    stage: Stage, closure_requested: ClosureReason | None, awaited: str | None
) -> None:
    assert approval_awaited(stage, closure_requested) == awaited
