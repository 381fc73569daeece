"""`load_case_policy` gives a new case its policy and a four-year working-day calendar."""

from datetime import date, timedelta

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.policy_context import PolicyActivities
from models.payloads.policy_context import CasePolicyContext, CasePolicyRequest


async def load(policy: str = "default", start_year: int = 2026) -> CasePolicyContext:
    request = CasePolicyRequest(policy=policy, start_year=start_year)
    return await ActivityEnvironment().run(PolicyActivities().load_case_policy, request)


@pytest.mark.parametrize(
    ("name", "version"), [("default", "2026.11-default"), ("compressed", "compressed-1")]
)
async def test_shipped_policies_load_with_a_calendar_from_the_year_before_to_three_after(
    name: str, version: str
) -> None:
    context = await load(name, 2026)

    assert context.policy.version == version
    assert (context.calendar.first_day, context.calendar.last_day) == (
        date(2025, 1, 1),
        date(2029, 12, 31),
    )
    assert context.calendar.is_working_day(date(2025, 11, 1))  # a working Saturday
    assert not context.calendar.is_working_day(date(2026, 1, 9))  # a decreed transfer


async def test_the_context_survives_temporal_payload_conversion() -> None:
    context = await load()
    payloads = await pydantic_data_converter.encode([context])
    (decoded,) = await pydantic_data_converter.decode(payloads, [CasePolicyContext])
    assert decoded == context


async def test_a_year_holidays_has_no_decrees_for_still_has_weekends_and_holidays_off() -> None:
    calendar = (await load(start_year=2026)).calendar
    year = [date(2029, 1, 1) + timedelta(days=i) for i in range(365)]

    assert all(not calendar.is_working_day(d) for d in year if d.weekday() >= 5)
    fixed = [date(2029, 1, d) for d in range(1, 9)] + [
        date(2029, m, d) for m, d in ((2, 23), (3, 8), (5, 1), (5, 9), (6, 12), (11, 4))
    ]
    assert all(not calendar.is_working_day(d) for d in fixed)
    # holidays 0.109 knows no decree for 2029, nor does it move 4 November (a Sunday) to
    # Monday 5 November (ТК РФ ст. 112 ч. 2): the calendar errs early, as load_case_policy's
    # docstring explains. If this fails, holidays has learnt 2029: update that docstring.
    assert calendar.is_working_day(date(2029, 11, 5))


@pytest.mark.parametrize("name", ["no-such-policy", "../default", "default.toml", "/etc/passwd"])
async def test_an_unknown_policy_fails_at_once_naming_it(name: str) -> None:
    with pytest.raises(ApplicationError) as raised:
        await load(name)

    assert raised.value.type == "InvalidPolicy"
    assert raised.value.non_retryable
    assert name.removesuffix(".toml") in str(raised.value)
