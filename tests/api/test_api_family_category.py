"""The family's category at assessment, and a СОП family's case following the commission on
minors' programme, through the staff API on the compressed policy and the time-skipping
server: its review dates armed (T12), no closure for term expiry while the programme runs
(a request, a review, a refused prolongation, the maximum term), and who may prolong it as
the policy says. Also the closure reasons 442-ФЗ ст. 18 names."""

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from models.db import SessionFactory
from tests.support.api import post_headers
from tests.support.cases import recorded_actions, sleep_until
from tests.support.polling import eventually
from tests.support.social_contract import (
    CASES,
    Staff,
    open_case,
    plan_body,
    post,
    refused,
)


async def _today(env: WorkflowEnvironment) -> date:
    return (await env.get_current_time() + timedelta(hours=7)).date()


def _sop_assessment(today: date, **commission: Any) -> dict[str, Any]:
    return {
        "decision": "need_recognised",
        "circumstances": ["no_care_for_child_or_disabled"],
        "level": "L2",
        "category": "sop",
        "commission": {
            "resolution_number": "45-п",
            "resolution_date": today.isoformat(),
            "programme_ends_on": (today + timedelta(days=365)).isoformat(),
            "review_dates": [(today + timedelta(days=90)).isoformat()],
            **commission,
        },
    }


async def _sop_case_in_support(
    api: httpx.AsyncClient, env: WorkflowEnvironment, staff: Staff
) -> str:
    case_id = await open_case(api, staff)
    path = f"{CASES}/{case_id}"
    view = await post(
        api, f"{path}/assessment", staff.specialist, _sop_assessment(await _today(env))
    )
    assert view["family_category"] == "sop"
    assert view["commission"]["resolution_number"] == "45-п"
    assert [d["key"] for d in view["deadlines"] if d["code"] == "T12"] == ["T12:1"]
    await post(api, f"{path}/route", staff.specialist, {"routes": ["commission"]})
    await post(api, f"{path}/team", staff.specialist, {"curator": staff.curator_id})
    view = await post(
        api, f"{path}/plan", staff.supervisor, plan_body(await env.get_current_time())
    )
    assert view["stage"] == "support"
    return case_id


async def test_a_sop_family_cannot_be_closed_for_term_expiry_while_its_programme_runs(
    api: httpx.AsyncClient, time_skipping_env: WorkflowEnvironment, sessions: SessionFactory
) -> None:
    env, staff = time_skipping_env, Staff()
    case_id = await _sop_case_in_support(api, env, staff)
    path = f"{CASES}/{case_id}"
    why = "no closure for term_expired while the commission's programme runs"
    for auth in (staff.specialist, staff.supervisor):
        status, reason = await refused(
            api, f"{path}/closure-request", auth, {"reason": "term_expired"}
        )
        assert status == 409
        assert why in reason
        assert "resolution 45-п" in reason
    status, reason = await refused(
        api,
        f"{path}/reviews",
        staff.specialist,
        {"outcome": "propose_closure", "closure_reason": "term_expired"},
    )
    assert status == 409
    assert why in reason

    # A review serves the commission's review due next.
    view = await post(api, f"{path}/reviews", staff.specialist, {"outcome": "continue"})
    assert "T12:1" not in {d["key"] for d in view["deadlines"]}

    # Who may prolong a СОП family's case is policy data: the working group or a consilium.
    view = await post(api, f"{path}/reviews", staff.specialist, {"outcome": "request_prolongation"})
    assert view["stage"] == "prolongation"
    status, reason = await refused(api, f"{path}/prolongation", staff.supervisor, {"approve": True})
    assert status == 409
    assert "is decided by: working_group, consilium" in reason
    status, reason = await refused(
        api, f"{path}/prolongation", staff.supervisor, {"approve": False}
    )
    assert status == 409
    assert "the prolongation cannot be refused" in reason
    view = await post(
        api,
        f"{path}/prolongation",
        staff.supervisor,
        {"approve": True, "decided_by": "working_group"},
    )
    assert view["stage"] == "support"

    # The maximum total term passes: the case stays open while the programme runs.
    cap = timedelta(seconds=1440)  # compressed max_total_term
    await sleep_until(env, await env.get_current_time() + cap)
    actions = await eventually(
        lambda: recorded_actions(sessions, case_id),
        lambda found: "closure_deferred" in found,
        what="the closure deferred at the cap",
    )
    assert "case_closed" not in actions
    # Another reason the family's situation gives closes it as ever.
    view = await post(
        api, f"{path}/closure-request", staff.supervisor, {"reason": "court_decision"}
    )
    assert (view["stage"], view["closure_reason"]) == ("closed", "court_decision")


async def test_a_tzhs_family_may_still_be_closed_for_term_expiry(
    api: httpx.AsyncClient, time_skipping_env: WorkflowEnvironment
) -> None:
    staff = Staff()
    case_id = await open_case(api, staff)
    path = f"{CASES}/{case_id}"
    await post(
        api,
        f"{path}/assessment",
        staff.specialist,
        {
            "decision": "need_recognised",
            "circumstances": ["no_work_no_means"],
            "level": "L1",
            "category": "at_risk",
        },
    )
    view = await post(api, f"{path}/closure-request", staff.supervisor, {"reason": "term_expired"})
    assert (view["stage"], view["family_category"]) == ("closed", "at_risk")


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"category": "sop", "commission": None}, "commission is given exactly when"),
        ({"category": "tzhs"}, "commission is given exactly when"),
        ({"commission_programme_ends_on": "before"}, "programme_ends_on must not come before"),
        ({"commission_review_dates": "outside"}, "is outside the programme"),
        ({"commission_resolution_number": "45 п; drop"}, "resolution_number"),
    ],
    ids=["sop-without-commission", "commission-without-sop", "ends-first", "review", "number"],
)
async def test_an_inconsistent_category_is_422_naming_the_problem(
    api: httpx.AsyncClient,
    time_skipping_env: WorkflowEnvironment,
    change: dict[str, Any],
    named: str,
) -> None:
    staff = Staff()
    case_id = await open_case(api, staff)
    today = await _today(time_skipping_env)
    body = _sop_assessment(today)
    if "category" in change:
        body.update({k: v for k, v in change.items() if k in ("category", "commission")})
        if body.get("commission") is None:
            body.pop("commission", None)
    if change.get("commission_programme_ends_on"):
        body["commission"]["programme_ends_on"] = (today - timedelta(days=1)).isoformat()
    if change.get("commission_review_dates"):
        body["commission"]["review_dates"] = [(today + timedelta(days=400)).isoformat()]
    if "commission_resolution_number" in change:
        body["commission"]["resolution_number"] = change["commission_resolution_number"]
    response = await api.post(
        f"{CASES}/{case_id}/assessment", headers=post_headers(staff.specialist), json=body
    )
    assert response.status_code == 422, response.text
    assert named in response.text


async def test_a_resolution_dated_in_the_future_is_refused(
    api: httpx.AsyncClient, time_skipping_env: WorkflowEnvironment
) -> None:
    staff = Staff()
    case_id = await open_case(api, staff)
    tomorrow = await _today(time_skipping_env) + timedelta(days=1)
    body = _sop_assessment(
        tomorrow, programme_ends_on=(tomorrow + timedelta(days=365)).isoformat(), review_dates=[]
    )
    status, reason = await refused(api, f"{CASES}/{case_id}/assessment", staff.specialist, body)
    assert status == 409
    assert "resolution_date" in reason
    assert "is in the future" in reason


async def test_closure_reasons_of_442_fz_art_18_and_the_retired_death_or_missing(
    api: httpx.AsyncClient,
) -> None:
    staff = Staff()
    for reason in ("death", "missing", "agreement_breach", "provider_liquidated"):
        case_id = await open_case(api, staff)
        view = await post(
            api, f"{CASES}/{case_id}/closure-request", staff.supervisor, {"reason": reason}
        )
        assert (view["stage"], view["closure_reason"]) == ("closed", reason)
    case_id = await open_case(api, staff)
    status, why = await refused(
        api, f"{CASES}/{case_id}/closure-request", staff.supervisor, {"reason": "death_or_missing"}
    )
    assert status == 409
    assert "closure reason death_or_missing is retired: name death or missing instead" in why


async def test_the_commissions_later_resolution_ends_the_programme_and_frees_the_closure(
    api: httpx.AsyncClient, time_skipping_env: WorkflowEnvironment
) -> None:
    env, staff = time_skipping_env, Staff()
    case_id = await _sop_case_in_support(api, env, staff)
    path = f"{CASES}/{case_id}"
    today = await _today(env)
    prolonged = {
        "resolution_number": "52-п",
        "resolution_date": today.isoformat(),
        "programme_ends_on": (today + timedelta(days=500)).isoformat(),
        "review_dates": [(today + timedelta(days=30)).isoformat()],
    }
    view = await post(
        api, f"{path}/commission-decisions", staff.specialist, {"programme": prolonged}
    )
    assert view["commission"]["resolution_number"] == "52-п"
    assert [d["key"] for d in view["deadlines"] if d["code"] == "T12"] == ["T12:1"]
    still = await refused(
        api, f"{path}/closure-request", staff.supervisor, {"reason": "term_expired"}
    )
    assert still[0] == 409
    assert "resolution 52-п" in still[1]
    # Removed from the register: a programme ending yesterday (days are whole local days).
    ended = {
        "resolution_number": "60-п",
        "resolution_date": (today - timedelta(days=1)).isoformat(),
        "programme_ends_on": (today - timedelta(days=1)).isoformat(),
    }
    view = await post(api, f"{path}/commission-decisions", staff.specialist, {"programme": ended})
    assert not [d for d in view["deadlines"] if d["code"] == "T12"]
    view = await post(api, f"{path}/closure-request", staff.supervisor, {"reason": "term_expired"})
    assert (view["stage"], view["closure_reason"]) == ("closed", "term_expired")


async def test_a_commission_decision_needs_a_sop_family(
    api: httpx.AsyncClient, time_skipping_env: WorkflowEnvironment
) -> None:
    staff = Staff()
    case_id = await open_case(api, staff)
    path = f"{CASES}/{case_id}"
    await post(
        api,
        f"{path}/assessment",
        staff.specialist,
        {"decision": "need_recognised", "circumstances": ["no_work_no_means"], "level": "L1"},
    )
    today = await _today(time_skipping_env)
    status, reason = await refused(
        api,
        f"{path}/commission-decisions",
        staff.specialist,
        {
            "programme": {
                "resolution_number": "1-п",
                "resolution_date": today.isoformat(),
                "programme_ends_on": (today + timedelta(days=30)).isoformat(),
            }
        },
    )
    assert status == 409
    assert "not in a socially dangerous position" in reason
