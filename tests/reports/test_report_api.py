"""GET /api/v1/reports/indicators over the March 2026 history: who may read what, JSON, CSV and
the dashboard page, the 422s, and the browser's sign-in cookie."""

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from models.payloads.vocabulary import StaffRole
from models.reports.catalogue import IndicatorSetError
from models.settings import Settings
from tests.support.api import api_client, api_settings, bearer
from tests.support.report_cases import march_cases

URL = "/api/v1/reports/indicators"
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}
MINISTRY = bearer("min-1", StaffRole.MINISTRY, ())
BERDSK_HEAD = bearer("head-1", StaffRole.HEAD, ("berdsk",))


@pytest_asyncio.fixture
async def api(
    time_skipping_env: WorkflowEnvironment, report_database: str, task_queue: str
) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(api_settings(time_skipping_env, report_database, task_queue)) as client:
        yield client


def _indicator(body: dict[str, object], indicator: str) -> list[dict[str, object]]:
    tables = body["indicators"]
    assert isinstance(tables, list)
    (table,) = [t for t in tables if t["id"] == indicator]
    return list(table["rows"])


async def test_the_ministry_reads_every_municipality_as_json(api: httpx.AsyncClient) -> None:
    answer = await api.get(URL, params=MARCH, headers=MINISTRY)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["date_from"], body["date_to"], body["municipalities"]) == (
        "2026-03-01",
        "2026-03-31",
        None,
    )
    closures = _indicator(body, "closure_reasons")
    assert [(r["closure_reason"], r["cases"], r["share"]) for r in closures] == [
        ("goals_achieved", 2, 0.6667),
        ("no_need", 1, 0.3333),
    ]
    (first,) = body["indicators"][:1]
    assert first["label_ru"] == "Открытые случаи по этапам и уровням сопровождения"
    assert "текущему этапу" in first["description_ru"]
    assert [c["key"] for c in first["columns"]] == [
        "stage",
        "stage_ru",
        "level",
        "level_ru",
        "cases",
    ]


async def test_heads_and_supervisors_read_their_territory_and_specialists_nothing(
    api: httpx.AsyncClient,
) -> None:
    for role in (StaffRole.HEAD, StaffRole.SUPERVISOR):
        answer = await api.get(URL, params=MARCH, headers=bearer("s-1", role, ("berdsk",)))
        assert answer.status_code == 200, answer.text
        assert answer.json()["municipalities"] == ["berdsk"]
        closures = _indicator(answer.json(), "closure_reasons")
        assert [(r["closure_reason"], r["cases"]) for r in closures] == [
            ("goals_achieved", 1),
            ("no_need", 1),
        ]
    elsewhere = await api.get(
        URL, params={**MARCH, "municipality": "iskitim_district"}, headers=BERDSK_HEAD
    )
    assert elsewhere.status_code == 403
    assert elsewhere.json()["code"] == "forbidden"
    specialist = await api.get(URL, params=MARCH, headers=bearer("sp-1", StaffRole.SPECIALIST))
    assert specialist.status_code == 403
    nobody = await api.get(URL, params=MARCH)
    assert nobody.status_code == 401
    assert nobody.headers["www-authenticate"] == "Bearer"
    chosen = await api.get(
        URL, params={**MARCH, "municipality": "iskitim_district"}, headers=MINISTRY
    )
    assert chosen.json()["municipalities"] == ["iskitim_district"]
    assert _indicator(chosen.json(), "new_and_closed_by_month") == [
        {"month": "2026-03", "new": 0, "closed": 1}
    ]


async def test_csv_for_every_indicator_and_for_one(api: httpx.AsyncClient) -> None:
    by_param = await api.get(URL, params={**MARCH, "format": "csv"}, headers=MINISTRY)
    by_accept = await api.get(URL, params=MARCH, headers={**MINISTRY, "Accept": "text/csv"})
    for answer in (by_param, by_accept):
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "text/csv; charset=utf-8"
        assert (
            'filename="indicators-2026-03-01-2026-03-31.csv"'
            in answer.headers["content-disposition"]
        )
    lines = list(csv.reader(io.StringIO(by_param.text)))
    assert lines[0] == ["indicator", "row", "column", "column_label_ru", "value"]
    assert ["closure_reasons", "1", "share", "Доля снятых", "0.6667"] in lines
    assert ["legal_deadlines", "1", "median_working_days", "Медиана, рабочих дней", "4.0"] in lines
    assert by_accept.text == by_param.text

    one = await api.get(
        URL, params={**MARCH, "format": "csv", "indicator": "legal_deadlines"}, headers=MINISTRY
    )
    assert one.status_code == 200
    assert list(csv.reader(io.StringIO(one.text))) == [
        ["deadline", "deadline_ru", "concluded", "met", "share_met", "median_working_days"],
        ["T2", "решение о нуждаемости", "3", "2", "0.6667", "4.0"],
        ["T3", "ИППСУ", "2", "1", "0.5", "8.0"],
    ]


async def test_bad_filters_are_422_naming_the_parameter(api: httpx.AsyncClient) -> None:
    cases = [
        ({"from": "2026-13-01", "to": "2026-03-31"}, "from: not a date"),
        ({"from": "2026-04-01", "to": "2026-03-31"}, "from: 2026-04-01 is after to"),
        ({"from": "2010-01-01", "to": "2026-03-31"}, "to: the period is longer"),
        ({**MARCH, "municipality": "atlantis"}, "municipality: unknown municipality"),
        ({"from": "1999-12-31", "to": "2000-01-05"}, "from: must be within"),
    ]
    for params, message in cases:
        answer = await api.get(URL, params=params, headers=MINISTRY)
        assert answer.status_code == 422, params
        assert answer.json()["code"] == "invalid_request"
        assert answer.json()["message"].startswith(message), answer.json()
    unknown = await api.get(URL, params={**MARCH, "format": "xml"}, headers=MINISTRY)
    assert unknown.status_code == 422
    assert "format" in unknown.json()["message"]


async def test_the_dashboard_is_html_with_svg_charts_under_a_strict_policy(
    api: httpx.AsyncClient,
) -> None:
    by_accept = await api.get(URL, params=MARCH, headers={**MINISTRY, "Accept": "text/html"})
    page = await api.get(f"{URL}.html", params=MARCH, headers=MINISTRY)
    for answer in (by_accept, page):
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/html")
        policy = answer.headers["content-security-policy"]
        assert "default-src 'none'" in policy
        assert "script-src" not in policy  # no script at all, so none may run
        assert "frame-ancestors 'none'" in policy
    html = page.text
    assert html.count("<svg") == 9
    assert "<script" not in html
    assert "Показатели пилота" in html
    assert "Соблюдение законных сроков (T2, T3)" in html
    assert "66,7 %" in html  # the T2 share, with a Russian decimal comma
    assert 'href="?from=2026-03-01&amp;to=2026-03-31&amp;format=csv"' in html
    assert '<option value="iskitim_district">Искитимский район</option>' in html


async def test_the_page_escapes_what_the_request_says(api: httpx.AsyncClient) -> None:
    hostile = '"><script>alert(1)</script>'
    for params in ({**MARCH, "municipality": hostile}, {"from": hostile, "to": "2026-03-31"}):
        answer = await api.get(f"{URL}.html", params=params, headers=MINISTRY)
        assert answer.status_code == 422
        assert answer.headers["content-type"].startswith("text/html")
        assert "<script>" not in answer.text
        assert "&lt;script&gt;" in answer.text
    # The date as typed goes back into the form, escaped (quotes too, in an attribute).
    assert 'value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in answer.text
    assert "Неверный фильтр" in answer.text


async def test_a_browser_signs_in_with_the_codec_cookie_and_without_it_gets_a_link(
    api: httpx.AsyncClient,
) -> None:
    page = f"{URL}.html"
    missing = await api.get(page, params=MARCH)
    assert missing.status_code == 401
    assert missing.headers["content-type"].startswith("text/html")
    assert 'href="/api/v1/codec/sign-in"' in missing.text

    token = BERDSK_HEAD["Authorization"].removeprefix("Bearer ")
    signed_in = await api.post("/api/v1/codec/sign-in", json={"token": token})
    assert signed_in.status_code == 200
    paths = {cookie.path for cookie in api.cookies.jar}
    assert paths == {"/api/v1/codec", "/api/v1/reports"}
    opened = await api.get(page, params=MARCH)
    assert opened.status_code == 200
    assert "город Бердск" in opened.text
    as_csv = await api.get(URL, params={**MARCH, "format": "csv"})  # the page's CSV link
    assert as_csv.status_code == 200
    # The cookie opens reports and the codec only: a case read still needs Authorization.
    cases = await api.get("/api/v1/cases")
    assert cases.status_code == 401

    await api.post("/api/v1/codec/sign-out")
    assert list(api.cookies.jar) == []
    again = await api.get(page, params=MARCH)
    assert again.status_code == 401


def test_the_history_has_the_cases_the_figures_assume() -> None:
    assert len(march_cases()) == 7


def test_an_unknown_indicator_in_the_file_stops_the_api_before_it_serves(tmp_path: Path) -> None:
    wrong = tmp_path / "indicators.toml"
    wrong.write_text(
        'version = "x"\n[[indicators]]\nid = "happiness"\nlabel_ru = "С"\ndescription_ru = "Д"\n',
        encoding="utf-8",
    )
    with pytest.raises(IndicatorSetError, match="unknown indicator id 'happiness'"):
        create_app(Settings.model_construct(indicators_file=wrong))
