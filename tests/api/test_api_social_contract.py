"""A family in Iskitim district with a job-search social contract, through the staff API on the
compressed policy and the time-skipping server (a month lasts 60 s and passes at once):

assessment (ТЖС) -> route with a social contract -> team -> plan -> the service agreement
(T11) -> the contract concluded (its term checked against the policy) -> its monthly contacts
during the term, one made and one missed (its ladder fires) -> the case closed, the contract's
workflow going on -> the 12 months after, the outcome with the family's income (sealed) -> the
monitoring over.
"""

import asyncio
import json
import re
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import text
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from models.crud.notifications import list_for_case
from models.db import SessionFactory
from models.lifecycle.social_contract_link import contract_id_of
from tests.support.api import api_client, api_settings, post_headers, read_headers
from tests.support.cases import sleep_until
from tests.support.sealing import test_key_store
from tests.support.social_contract import (
    CASES,
    Staff,
    at,
    contract,
    contract_actions,
    open_case,
    plan_body,
    post,
    refused,
    skip_to,
    to_support,
)
from workers.worker import build_worker
from workflows.ids import social_contract_workflow_id


async def test_a_job_search_contract_is_monitored_monthly_during_its_term_and_a_year_after(
    api: httpx.AsyncClient, time_skipping_env: WorkflowEnvironment, sessions: SessionFactory
) -> None:
    env, staff = time_skipping_env, Staff()
    case_id = await open_case(api, staff)
    path = f"{CASES}/{case_id}"
    view = await to_support(api, env, staff, case_id)

    # The service agreement: due within a (compressed) working day of the plan's approval.
    t11 = next(d for d in view["deadlines"] if d["code"] == "T11")
    assert t11["responsible"] == staff.curator_id
    today = (await env.get_current_time() + timedelta(hours=7)).date()
    status, reason = await refused(
        api,
        f"{path}/agreement",
        staff.specialist,
        {"number": "17/2026", "concluded_on": (today + timedelta(days=1)).isoformat()},
    )
    assert status == 409
    assert "is in the future" in reason
    view = await post(
        api,
        f"{path}/agreement",
        staff.specialist,
        {"number": "17/2026-С", "concluded_on": today.isoformat()},
    )
    assert view["agreement"]["number"] == "17/2026-С"
    assert "T11" not in {d["key"] for d in view["deadlines"]}
    status, reason = await refused(
        api, f"{path}/agreement", staff.specialist, {"number": "18", "concluded_on": str(today)}
    )
    assert status == 409
    assert "already recorded" in reason

    # The contract's term: between the shortest (3 months) and job search's longest (9).
    concluded = {"number": "СК-5", "concluded_on": today.isoformat()}
    too_short = await refused(
        api, f"{path}/social-contract", staff.specialist, {**concluded, "term": "PT120S"}
    )
    assert too_short[0] == 409
    assert "shorter than the shortest social contract (PT180S)" in too_short[1]
    too_long = await refused(
        api, f"{path}/social-contract", staff.specialist, {**concluded, "term": "PT600S"}
    )
    assert too_long[0] == 409
    assert "longer than a job_search contract may run (PT540S)" in too_long[1]
    view = await post(
        api, f"{path}/social-contract", staff.specialist, {**concluded, "term": "PT180S"}
    )
    link = view["social_contract"]
    assert link["direction"] == "job_search"
    assert link["workflow_id"] == social_contract_workflow_id(UUID(case_id))

    state = await contract(api, staff, case_id)
    assert state["phase"] == "term"
    assert [c["number"] for c in state["contacts"]] == [1, 2, 3]  # one a month for 3 months
    assert {d["code"] for d in state["deadlines"]} == {"T13"}
    due = {c["number"]: at(c["due_at"]) for c in state["contacts"]}

    # Outside the territory: the case does not exist for the caller.
    outside = await api.post(
        f"{path}/social-contract/contacts",
        headers=post_headers(staff.outsider),
        json={"number": 1},
    )
    assert outside.status_code == 404, outside.text
    bad = await api.post(
        f"{path}/social-contract/contacts",
        headers=post_headers(staff.specialist),
        json={"number": 0},
    )
    assert bad.status_code == 422, bad.text

    # Month 1 made; month 2 missed: its reminder, overdue (supervisor), then the head.
    state = await post(api, f"{path}/social-contract/contacts", staff.specialist, {"number": 1})
    assert "T13:1" not in {d["key"] for d in state["deadlines"]}
    await sleep_until(env, due[2] + timedelta(seconds=35))
    state = await contract(
        api, staff, case_id, lambda s: any(d["escalation_level"] == 2 for d in s["deadlines"])
    )
    missed = next(d for d in state["deadlines"] if d["key"] == "T13:2")
    assert missed["overdue"] is True
    assert missed["escalation_level"] == 2
    assert missed["escalated_to"] == "head"
    async with sessions() as session:
        notes = await list_for_case(session, case_id=contract_id_of(UUID(case_id)))
    assert [(n.kind, n.recipient) for n in notes if n.deadline_code == "T13"][-2:] == [
        ("overdue", "supervisor"),
        ("escalation", "head"),
    ]

    # The term ends: the months after are armed, counted from its end.
    await sleep_until(env, at(link["term_ends_at"]) + timedelta(seconds=5))
    state = await contract(api, staff, case_id, lambda s: s["phase"] == "after")
    after = [c for c in state["contacts"] if c["phase"] == "after"]
    assert len(after) == 12  # monthly for 12 months after the term
    status, reason = await refused(
        api,
        f"{path}/social-contract/outcome",
        staff.specialist,
        {"outcome": "terminated_early"},
    )
    assert status == 409
    assert "no longer be terminated early" in reason
    bad_income = await api.post(
        f"{path}/social-contract/outcome",
        headers=post_headers(staff.specialist),
        json={"outcome": "completed", "income_after": "a lot"},
    )
    assert bad_income.status_code == 422, bad_income.text
    state = await post(
        api,
        f"{path}/social-contract/outcome",
        staff.specialist,
        {"outcome": "completed", "income_after": "45000"},
    )
    assert (state["outcome"], state["income_after"]) == ("completed", "45000")
    async with sessions() as session:
        stored = (
            await session.exec(  # type: ignore[call-overload]
                text("SELECT view::text FROM social_contracts WHERE case_id = :case_id"),
                params={"case_id": case_id},
            )
        ).one()[0]
        raw_events = (
            await session.exec(  # type: ignore[call-overload]
                text("SELECT data::text FROM case_events WHERE case_id = :contract_id"),
                params={"contract_id": contract_id_of(UUID(case_id))},
            )
        ).all()
    # Sealed with the family's key: no stored value holds 45000. (Moments are left out: a
    # timestamp's microseconds, .945000, once held the digits.)
    stored_values = _values_but_moments(json.loads(stored))
    stored_values |= {v for row in raw_events for v in _values_but_moments(json.loads(row[0]))}
    assert stored_values
    assert not [value for value in stored_values if "45000" in value]

    # Twelve months after the term: every contact made or its ladder run, the workflow done.
    await skip_to(env, at(state["monitoring_ends_at"]) + timedelta(seconds=60))
    state = await contract(api, staff, case_id, lambda s: s["phase"] == "finished")
    handle = env.client.get_workflow_handle(
        social_contract_workflow_id(UUID(case_id)), result_type=type(None)
    )
    # Its result, not describe(): the SDK cannot decode the test server's datetime search
    # attributes (NextDeadline) in a description.
    assert await asyncio.wait_for(handle.result(), timeout=30) is None
    actions = await contract_actions(sessions, case_id)
    assert actions[0] == "contract_monitoring_started"
    assert "contract_term_ended" in actions
    assert "contract_outcome_recorded" in actions
    assert actions[-1] == "contract_monitoring_finished"


async def test_a_contract_needs_the_route_to_name_one(
    api: httpx.AsyncClient, time_skipping_env: WorkflowEnvironment
) -> None:
    env, staff = time_skipping_env, Staff()
    case_id = await open_case(api, staff)
    path = f"{CASES}/{case_id}"
    await post(
        api,
        f"{path}/assessment",
        staff.specialist,
        {"decision": "need_recognised", "circumstances": ["no_work_no_means"], "level": "L1"},
    )
    await post(api, f"{path}/route", staff.specialist, {"routes": ["own_services"]})
    await post(api, f"{path}/team", staff.specialist, {"curator": staff.curator_id})
    await post(api, f"{path}/plan", staff.supervisor, plan_body(await env.get_current_time()))
    today = (await env.get_current_time() + timedelta(hours=7)).date()
    status, reason = await refused(
        api,
        f"{path}/social-contract",
        staff.specialist,
        {"number": "СК-6", "concluded_on": today.isoformat(), "term": "PT180S"},
    )
    assert status == 409
    assert "route includes no social contract" in reason
    missing = await api.get(f"{path}/social-contract", headers=read_headers(staff.specialist))
    assert missing.status_code == 404, missing.text


@pytest.mark.parametrize(
    "number", ["", "17 2026", "x" * 33, "Иванов;DROP"], ids=["empty", "space", "long", "semicolon"]
)
async def test_a_document_number_outside_its_grammar_is_422(
    api: httpx.AsyncClient, number: str
) -> None:
    staff = Staff()
    case_id = await open_case(api, staff)
    response = await api.post(
        f"{CASES}/{case_id}/agreement",
        headers=post_headers(staff.specialist),
        json={"number": number, "concluded_on": "2026-01-01"},
    )
    assert response.status_code == 422, response.text
    assert "number" in response.text


async def test_closing_the_case_leaves_the_contracts_monitoring_running(
    dev_env: WorkflowEnvironment, database_url: str, sessions: SessionFactory, task_queue: str
) -> None:
    """On the dev server (the time-skipping one stops skipping once a parent completes with
    an abandoned child running): the case closes, its contract's workflow takes a contact."""
    staff = Staff()
    async with (
        build_worker(
            dev_env.client, task_queue=task_queue, sessions=sessions, keys=test_key_store(sessions)
        ),
        api_client(api_settings(dev_env, database_url, task_queue)) as api,
    ):
        case_id = await open_case(api, staff)
        path = f"{CASES}/{case_id}"
        await to_support(api, dev_env, staff, case_id)
        today = (await dev_env.get_current_time() + timedelta(hours=7)).date()
        await post(
            api,
            f"{path}/social-contract",
            staff.specialist,
            {"number": "СК-7", "concluded_on": today.isoformat(), "term": "PT180S"},
        )
        view = await post(
            api, f"{path}/closure-request", staff.supervisor, {"reason": "goals_achieved"}
        )
        assert view["stage"] == "closed"
        contract_workflow = dev_env.client.get_workflow_handle(
            social_contract_workflow_id(UUID(case_id))
        )
        try:
            assert (await contract_workflow.describe()).status is WorkflowExecutionStatus.RUNNING
            state = await post(
                api, f"{path}/social-contract/contacts", staff.specialist, {"number": 1}
            )
            assert "T13:1" not in {d["key"] for d in state["deadlines"]}
            assert state["phase"] == "term"
        finally:  # the dev server is shared: leave no contract running for minutes
            await contract_workflow.terminate(reason="test over")


_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _values_but_moments(value: Any) -> set[str]:
    """Every scalar in a JSON value as text, but ISO timestamps (keys left out)."""
    if isinstance(value, dict):
        return set().union(*(_values_but_moments(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(_values_but_moments(item) for item in value))
    if isinstance(value, str):
        return set() if _is_moment(value) else {value}
    return {str(value)}


def _is_moment(text: str) -> bool:
    """An ISO date and time, such as 2026-12-04T19:05:22.945000+00:00: a date alone, or
    digits that merely parse as one (45000123 as 4500-01-23), are values and stay checked."""
    if not _MOMENT.match(text):
        return False
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True
