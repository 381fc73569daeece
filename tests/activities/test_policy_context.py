"""`load_case_policy` gives a new case its policy and its calendar (the published years from
the year before it starts); `refresh_calendar` reads the production calendar again."""

from datetime import date, timedelta
from pathlib import Path

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.policy_context import PolicyActivities
from models.payloads.policy_context import CalendarRequest, CasePolicyContext, CasePolicyRequest


async def load(
    policy: str = "default", start_year: int = 2026, today: date | None = None
) -> CasePolicyContext:
    request = CasePolicyRequest(policy=policy, start_year=start_year, today=today)
    return await ActivityEnvironment().run(PolicyActivities().load_case_policy, request)


@pytest.mark.parametrize(
    ("name", "version"), [("default", "2026.12-default"), ("compressed", "compressed-2")]
)
async def test_shipped_policies_load_with_the_published_years_from_the_year_before(
    name: str, version: str
) -> None:
    context = await load(name, 2026, today=date(2026, 12, 1))

    assert context.policy.version == version
    assert [entry.year for entry in context.calendar.published] == [2025, 2026, 2027]
    assert context.calendar.checked_on == date(2026, 12, 1)
    assert context.calendar.is_working_day(date(2025, 11, 1))  # a working Saturday
    assert not context.calendar.is_working_day(date(2026, 1, 9))  # a decreed transfer


async def test_the_context_survives_temporal_payload_conversion() -> None:
    context = await load()
    payloads = await pydantic_data_converter.encode([context])
    (decoded,) = await pydantic_data_converter.decode(payloads, [CasePolicyContext])
    assert decoded == context


async def test_a_year_without_a_decree_follows_the_labour_code() -> None:
    calendar = (await load(start_year=2026)).calendar
    year = [date(2029, 1, 1) + timedelta(days=i) for i in range(365)]

    assert all(not calendar.is_working_day(d) for d in year if d.weekday() >= 5)
    fixed = [date(2029, 1, d) for d in range(1, 9)] + [
        date(2029, m, d) for m, d in ((2, 23), (3, 8), (5, 1), (5, 9), (6, 12), (11, 4))
    ]
    assert all(not calendar.is_working_day(d) for d in fixed)
    # 4 November 2029 is a Sunday: its day off moves to Monday 5 November (ТК РФ ст. 112 ч. 2).
    assert not calendar.is_working_day(date(2029, 11, 5))
    assert calendar.is_working_day(date(2029, 11, 6))
    # And the years a case can reach long after: still an answer, never an error.
    assert calendar.is_working_day(date(2031, 3, 11))


async def test_refresh_reads_the_file_again_from_the_year_asked(tmp_path: Path) -> None:
    data = tmp_path / "calendar.toml"
    data.write_text('[years.2027]\nsource = "test decree"\n', encoding="utf-8")
    activities = PolicyActivities(calendar_file=data)
    request = CalendarRequest(from_year=2026, today=date(2027, 3, 1))

    first = await ActivityEnvironment().run(activities.refresh_calendar, request)
    assert [e.year for e in first.published] == [2027]
    assert first.checked_on == date(2027, 3, 1)

    shipped = await ActivityEnvironment().run(PolicyActivities().refresh_calendar, request)
    assert [e.year for e in shipped.published] == [2026, 2027]


async def test_an_invalid_calendar_file_fails_at_once(tmp_path: Path) -> None:
    data = tmp_path / "calendar.toml"
    data.write_text("[years.2027\n", encoding="utf-8")
    activities = PolicyActivities(calendar_file=data)
    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(
            activities.refresh_calendar, CalendarRequest(from_year=2026, today=date(2027, 3, 1))
        )
    assert raised.value.type == "InvalidCalendar"
    assert raised.value.non_retryable
    assert "not valid TOML" in str(raised.value)


@pytest.mark.parametrize(
    "name", ["no-such-policy", "../default", "default.toml", "/etc/passwd", "production_calendar"]
)
async def test_an_unknown_policy_fails_at_once_naming_it(name: str) -> None:
    with pytest.raises(ApplicationError) as raised:
        await load(name)

    assert raised.value.type == "InvalidPolicy"
    assert raised.value.non_retryable
    assert name.removesuffix(".toml") in str(raised.value)
