"""The dates and durations staff actions bring: static bounds in the payloads (the API's 422
names the field), and the checks against the moment and the case that the workflow's validator
makes (`models.lifecycle.preconditions`, the API's 409)."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from models.lifecycle.preconditions import date_problem
from models.lifecycle.state import CaseState
from models.payloads import actions as a
from models.payloads.vocabulary import ServiceType
from tests.support.cases import fresh_state

OPENED = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # Monday 2 March 2026, 10:00 in Novosibirsk
NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)  # Monday 1 June, 10:00 local


def _case() -> CaseState:
    return fresh_state(OPENED)


def _field_problem(model: type[Any], **fields: Any) -> tuple[str, str]:
    with pytest.raises(ValidationError) as raised:
        model.model_validate(fields)
    problem = raised.value.errors()[0]
    return ".".join(str(part) for part in problem["loc"]), problem["msg"]


def _item(deadline: Any) -> dict[str, Any]:
    return {
        "item_id": "i1",
        "service_type": "legal",
        "provider": "p",
        "responsible": "staff-102",
        "deadline": deadline,
    }


# --- Static bounds: the payloads ------------------------------------------------------------


@pytest.mark.parametrize("day", ["0001-01-01", "1999-12-31", "2101-01-01", "9999-12-31"])
def test_an_application_date_outside_the_calendar_years_is_invalid(day: str) -> None:
    field, message = _field_problem(a.IntakeBody, application_date=day)
    assert field == "application_date"
    assert "must be in the years 2000..2100" in message


@pytest.mark.parametrize(
    "moment",
    [
        "0001-01-01T00:00:00+14:00",  # before year 1 in UTC: not even convertible
        "1999-12-31T23:59:59+07:00",
        "2100-12-31T23:59:59-12:00",  # 2101 in UTC
        "9999-12-31T23:59:59-12:00",  # after 9999 in UTC
        -1,  # 1969, as a Unix time
    ],
)
def test_a_deadline_outside_the_calendar_years_is_invalid(moment: Any) -> None:
    field, message = _field_problem(a.PlanItemIn, **_item(moment))
    assert field == "deadline"
    assert "must be in the years 2000..2100" in message


def test_the_calendar_years_themselves_are_valid() -> None:
    assert a.IntakeBody(application_date=date(2000, 1, 1)).application_date == date(2000, 1, 1)
    item = a.PlanItemIn.model_validate(_item("2100-12-31T23:59:59+07:00"))
    assert item.deadline.year == 2100


@pytest.mark.parametrize(
    "extension",
    [
        "P25M",
        "P3Y",
        "P9999Y",
        "P10000Y",
        "P745D",
        "P23M32D",
        "P24MT1S",
        "501WD",
        f"P{10**30}D",
        f"PT{10**30}S",
        f"{10**30}WD",
        {"years": 10**30},
        {"working_days": 1, "days": 10**30},
    ],
)
def test_an_extension_longer_than_24_months_is_invalid(extension: Any) -> None:
    field, _ = _field_problem(a.ProlongationBody, approve=True, extend_by=extension)
    assert field.startswith("extend_by")


@pytest.mark.parametrize(
    "extension", ["P24M", "P2Y", "P744D", "P23M31D", "P106W", "500WD", "PT60S", "0WD"]
)
def test_an_extension_of_up_to_24_months_is_valid(extension: str) -> None:
    body = a.ProlongationBody.model_validate({"approve": True, "extend_by": extension})
    assert str(body.extend_by) == extension


# --- Against the moment and the case: the workflow's validator ------------------------------


def _intake(day: date) -> a.IntakeBody:
    return a.IntakeBody(application_date=day)


@pytest.mark.parametrize(
    ("day", "problem"),
    [
        (date(2026, 6, 1), None),  # today
        (date(2025, 3, 2), None),  # a year before the case opened
        (date(2026, 6, 2), "application_date 2026-06-02 is in the future (today is 2026-06-01)"),
        (date(2030, 3, 1), "is in the future"),
        (date(2025, 3, 1), "is more than a year before the case was opened (2026-03-02)"),
        (date(2000, 1, 1), "the earliest accepted is 2025-03-02"),
    ],
)
def test_an_application_date_is_not_in_the_future_nor_long_before_the_case(
    day: date, problem: str | None
) -> None:
    found = date_problem(_case(), _intake(day), NOW)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found


def test_today_is_the_local_day() -> None:
    # 20:00 UTC on 1 June is 03:00 on 2 June in Novosibirsk: the 2nd is today there.
    evening = datetime(2026, 6, 1, 20, 0, tzinfo=UTC)
    assert date_problem(_case(), _intake(date(2026, 6, 2)), evening) is None


def _plan(*deadlines: datetime) -> a.PlanBody:
    return a.PlanBody(
        items=[
            a.PlanItemIn(
                item_id=f"i{n}",
                service_type=ServiceType.LEGAL,
                provider="p",
                responsible="staff-102",
                deadline=deadline,
            )
            for n, deadline in enumerate(deadlines, start=1)
        ]
    )


def test_plan_items_are_due_after_now_and_within_the_maximum_term() -> None:
    cap = datetime(2028, 6, 1, 3, 0, tzinfo=UTC)  # NOW + P24M, on the local wall clock
    assert date_problem(_case(), _plan(NOW + timedelta(seconds=1), cap), NOW) is None
    past = date_problem(_case(), _plan(NOW + timedelta(days=5), NOW), NOW)
    assert past == "plan item i2: its deadline 2026-06-01T03:00:00+00:00 is past"
    late = date_problem(_case(), _plan(cap + timedelta(seconds=1)), NOW)
    assert late is not None
    assert "plan item i1: its deadline 2028-06-01T03:00:01+00:00 is after the maximum term" in late
    assert "(P24M) ends, 2028-06-01T03:00:00+00:00" in late
    far = date_problem(_case(), _plan(datetime(2030, 3, 1, 3, 0, tzinfo=UTC)), NOW)
    assert far is not None
    assert "after the maximum term" in far


def test_other_actions_bring_no_dates() -> None:
    assert date_problem(_case(), a.ContactBody(), NOW) is None
    assert date_problem(_case(), a.IntakeBody(), NOW) is None
