"""A family's whole path through the staff API alone: the dev server, the real worker and the
app in-process, on the compressed policy (a working day lasts seconds).

intake -> registration -> assessment -> route -> team -> plan (a supervisor approves) -> a
plan item done -> contact -> review -> closure request -> closure approval; then the closed
case refuses actions on its main workflow and takes its follow-ups. On the way: what each role
may do next, the filtered and paged case list, the history and the inbox.
"""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from temporalio.testing import WorkflowEnvironment

from models.db import SessionFactory
from models.payloads.vocabulary import StaffRole
from tests.support.api import (
    api_client,
    api_settings,
    bearer,
    post_headers,
    read_headers,
    synthetic_family,
)
from tests.support.polling import eventually
from tests.support.sealing import test_key_store
from workers.worker import build_worker

# A municipality no other test uses, so lists and inboxes hold this test's cases only.
MUNICIPALITY = "kochenevo_district"
CASES = "/api/v1/cases"

# What each role may do in the planning stage, by PRODUCT.md §3 (not read from the code).
_STAFF_IN_PLANNING = {
    "receive_signal",
    "record_contact",
    "request_closure",
    "give_urgent_service",
    "raise_child_safety_alert",
    "record_commission_decision",  # a СОП family's later resolution (refused for others)
}
_MANAGERS_IN_PLANNING = _STAFF_IN_PLANNING | {"approve_plan", "approve_closure", "reassign_curator"}


@asynccontextmanager
async def _service(
    dev_env: WorkflowEnvironment,
    database_url: str,
    sessions: SessionFactory,
    task_queue: str,
) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        build_worker(
            dev_env.client, task_queue=task_queue, sessions=sessions, keys=test_key_store(sessions)
        ),
        api_client(api_settings(dev_env, database_url, task_queue)) as api,
    ):
        yield api


class Staff:
    """One test's staff: a curator (specialist), a supervisor, a head and the ministry."""

    def __init__(self) -> None:
        suffix = uuid.uuid4().hex[:8]
        self.curator_id = f"curator-{suffix}"
        self.specialist = bearer(self.curator_id, StaffRole.SPECIALIST, (MUNICIPALITY,))
        self.supervisor = bearer(f"supervisor-{suffix}", StaffRole.SUPERVISOR, (MUNICIPALITY,))
        self.head = bearer(f"head-{suffix}", StaffRole.HEAD, (MUNICIPALITY,))
        self.ministry = bearer(f"ministry-{suffix}", StaffRole.MINISTRY, ())


async def _post(
    api: httpx.AsyncClient, path: str, auth: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    """An action that must be accepted; the new state."""
    response = await api.post(path, headers=post_headers(auth), json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _open(api: httpx.AsyncClient, staff: Staff) -> dict[str, Any]:
    response = await api.post(
        CASES,
        headers=post_headers(staff.specialist),
        json={
            "source": "self_request",
            "municipality": MUNICIPALITY,
            "family": synthetic_family(),
            "comment": "synthetic request",
            "policy": "compressed",
        },
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    assert created["joined"] is False
    return created["case"]  # type: ignore[no-any-return]


async def _to_planning(
    api: httpx.AsyncClient, staff: Staff, case_id: str, level: str
) -> dict[str, Any]:
    """Registration, assessment, route and team: the case then awaits its plan."""
    path = f"{CASES}/{case_id}"
    view = await _post(api, f"{path}/intake", staff.specialist, {})
    assert view["stage"] == "assessment"
    view = await _post(
        api,
        f"{path}/assessment",
        staff.specialist,
        {
            "decision": "need_recognised",
            "circumstances": ["child_adaptation_difficulty"],
            "level": level,
        },
    )
    assert (view["stage"], view["level"]) == ("routing", level)
    view = await _post(
        api, f"{path}/route", staff.specialist, {"routes": ["own_services", "other_providers"]}
    )
    assert view["stage"] == "team"
    view = await _post(
        api,
        f"{path}/team",
        staff.specialist,
        {"curator": staff.curator_id, "members": ["psychologist-1"]},
    )
    assert (view["stage"], view["curator"]) == ("planning", staff.curator_id)
    assert view["team"] == [staff.curator_id, "psychologist-1"]
    return view


def _inbox_key(item: dict[str, Any]) -> tuple[bool, bool, float]:
    """Overdue first; then by due time, undated items (approvals) last."""
    due = item["due_at"]
    return (not item["overdue"], due is None, _at(due) if due else 0.0)


def _at(moment: str) -> float:
    return datetime.fromisoformat(moment).timestamp()


async def _ids(api: httpx.AsyncClient, auth: dict[str, str], **query: Any) -> list[str]:
    response = await api.get(CASES, headers=auth, params=query)
    assert response.status_code == 200, response.text
    return [item["case_id"] for item in response.json()["items"]]


async def test_a_family_path_from_intake_to_closure(
    dev_env: WorkflowEnvironment, database_url: str, sessions: SessionFactory, task_queue: str
) -> None:
    staff = Staff()
    async with _service(dev_env, database_url, sessions, task_queue) as api:
        case = await _open(api, staff)
        assert case["stage"] == "identified"
        assert case["policy_version"] == "compressed-2"
        assert [d["key"] for d in case["deadlines"]] == ["T1"]
        case_id = case["case_id"]
        path = f"{CASES}/{case_id}"

        view = await _to_planning(api, staff, case_id, "L1")

        # What each role may do next (PRODUCT.md §3), on the read of the case.
        for auth, expected in (
            (staff.specialist, _STAFF_IN_PLANNING),
            (staff.supervisor, _MANAGERS_IN_PLANNING),
            (staff.head, _MANAGERS_IN_PLANNING),
            (staff.ministry, set()),
        ):
            read = await api.get(path, headers=auth)
            assert read.status_code == 200, read.text
            assert read.json()["stage"] == "planning"
            assert set(read.json()["allowed_actions"]) == expected

        # The plan: a specialist may not approve it; a supervisor does. Its items are due
        # within the compressed policy's maximum term (24 minutes), and not during the test.
        soon = datetime.now(UTC) + timedelta(minutes=10)
        plan = {
            "items": [
                {
                    "item_id": "item-1",
                    "service_type": "psychological",
                    "provider": "КЦСОН (synthetic)",
                    "responsible": staff.curator_id,
                    "deadline": (soon + timedelta(minutes=5)).isoformat(),
                },
                {
                    "item_id": "item-2",
                    "channel": "legal",
                    "provider": "Legal aid (synthetic)",
                    "responsible": staff.curator_id,
                    "deadline": soon.isoformat(),
                },
            ],
            "comment": "agreed with the family",
        }
        refused = await api.post(f"{path}/plan", headers=post_headers(staff.specialist), json=plan)
        assert refused.status_code == 403, refused.text
        assert "specialist" in refused.json()["message"]
        view = await _post(api, f"{path}/plan", staff.supervisor, plan)
        assert view["stage"] == "support"
        assert view["term_ends_at"] is not None
        assert {item["item_id"] for item in view["plan_items"]} == {"item-1", "item-2"}

        view = await _post(api, f"{path}/plan-item-done", staff.specialist, {"item_id": "item-1"})
        assert view["stage"] == "support"
        done = {item["item_id"]: item["done_at"] for item in view["plan_items"]}
        assert done["item-1"] is not None
        assert done["item-2"] is None
        assert "T10:item-1" not in {d["key"] for d in view["deadlines"]}

        # Two more cases of the same curator, stopped in planning, for the list's filters.
        others = []
        for _ in range(2):
            other = await _open(api, staff)
            await _post(api, f"{CASES}/{other['case_id']}/contacts", staff.specialist, {})
            await _to_planning(api, staff, other["case_id"], "L0")
            others.append(other["case_id"])

        # No contact yet: the first-contact deadline (T1, 10 s compressed) falls overdue, and the
        # curator's inbox shows it first.
        def t1_overdue_first(items: list[dict[str, Any]]) -> bool:
            return bool(items) and (items[0]["key"], items[0]["case_id"], items[0]["overdue"]) == (
                "T1",
                case_id,
                True,
            )

        async def inbox() -> list[dict[str, Any]]:
            response = await api.get("/api/v1/tasks", headers=staff.specialist)
            assert response.status_code == 200, response.text
            items: list[dict[str, Any]] = response.json()
            return items

        items = await eventually(inbox, t1_overdue_first, within=30, what="T1 overdue in the inbox")
        assert [_inbox_key(i) for i in items] == sorted(_inbox_key(i) for i in items), items
        mine = {(item["case_id"], item["key"]) for item in items}
        assert (case_id, "T10:item-2") in mine
        assert (case_id, "T10:item-1") not in mine
        assert {item["municipality"] for item in items} == {MUNICIPALITY}
        assert {item["case_id"] for item in items} == {case_id, *others}

        # The list: filters and pages (ours are this test's only cases of the curator).
        everyone = {case_id, *others}
        curator = staff.curator_id
        auth = staff.specialist
        assert set(await _ids(api, auth, curator=curator)) == everyone
        assert await _ids(api, auth, curator=curator, stage="support") == [case_id]
        assert set(await _ids(api, auth, curator=curator, stage="planning")) == set(others)
        assert await _ids(api, auth, curator=curator, level="L1") == [case_id]
        assert set(await _ids(api, auth, curator=curator, level="L0")) == set(others)
        assert await _ids(api, auth, curator=curator, overdue="true") == [case_id]
        assert set(await _ids(api, auth, curator=curator, overdue="false")) == set(others)
        assert set(await _ids(api, auth, municipality=MUNICIPALITY)) == everyone
        assert await _ids(api, auth, curator=curator, municipality="berdsk") == []
        first = await api.get(CASES, headers=auth, params={"curator": curator, "limit": 2})
        assert first.status_code == 200, first.text
        page = first.json()
        assert (page["total"], page["limit"], page["offset"]) == (3, 2, 0)
        assert page["items"][0]["case_id"] == case_id  # overdue first
        rest = await _ids(api, auth, curator=curator, limit=2, offset=2)
        assert len(rest) == 1
        assert {item["case_id"] for item in page["items"]} | set(rest) == everyone
        listed = page["items"][0]
        assert listed["allowed_actions"]
        assert "approve_plan" not in listed["allowed_actions"]

        # The rest of the path.
        view = await _post(api, f"{path}/contacts", staff.specialist, {"reached": True})
        assert view["stage"] == "support"
        assert "T1" not in {d["key"] for d in view["deadlines"]}
        view = await _post(api, f"{path}/reviews", staff.specialist, {"outcome": "continue"})
        assert view["stage"] == "support"
        view = await _post(
            api, f"{path}/closure-request", staff.specialist, {"reason": "goals_achieved"}
        )
        assert (view["stage"], view["closure_requested"]) == ("support", "goals_achieved")
        assert "approve_closure" not in view["allowed_actions"]
        approval = {"approve": True, "comment": "goals achieved"}
        refused = await api.post(
            f"{path}/closure-approval", headers=post_headers(staff.specialist), json=approval
        )
        assert refused.status_code == 403, refused.text
        view = await _post(api, f"{path}/closure-approval", staff.supervisor, approval)
        assert (view["stage"], view["closure_reason"]) == ("closed", "goals_achieved")
        assert view["closed_at"] is not None
        assert view["deadlines"] == []

        # The history: oldest first, who did what and when.
        events = await api.get(f"{path}/events", headers=read_headers(staff.supervisor))
        assert events.status_code == 200, events.text
        history = events.json()
        assert [e["seq"] for e in history] == sorted(e["seq"] for e in history)
        assert len({e["seq"] for e in history}) == len(history)
        moments = [_at(e["occurred_at"]) for e in history]
        assert moments == sorted(moments)
        staff_steps = [
            (e["action"], e["actor_id"], e["actor_role"])
            for e in history
            if e["actor_role"] != "system"
        ]
        specialist = (staff.curator_id, "specialist")
        supervisor_id = next(e["actor_id"] for e in history if e["action"] == "plan_approved")
        assert supervisor_id.startswith("supervisor-")
        assert staff_steps == [
            ("signal_received", *specialist),
            ("intake_registered", *specialist),
            ("assessment_recorded", *specialist),
            ("route_set", *specialist),
            ("team_named", *specialist),
            ("plan_approved", supervisor_id, "supervisor"),
            ("plan_item_done", *specialist),
            ("contact_recorded", *specialist),
            ("review_recorded", *specialist),
            ("closure_requested", *specialist),
            ("case_closed", supervisor_id, "supervisor"),
        ]
        overdue = [e for e in history if e["action"] == "overdue"]
        assert overdue
        assert overdue[0]["data"]["deadline"] == "T1"
        assert history[0]["stage_before"] is None
        assert history[-1]["stage_after"] == "closed"
        assert all(e["occurred_at"] and e["action"] for e in history)
        ministry_events = await api.get(
            f"{path}/events", headers=read_headers(staff.ministry, "audit")
        )
        assert ministry_events.status_code == 200
        # The same history (which the follow-up workflow may have added to in the meantime).
        seen = [e["seq"] for e in ministry_events.json()]
        assert seen[: len(history)] == [e["seq"] for e in history]

        # The main workflow has finished: every action on it is refused as closed (a moment
        # after the approval it may still be finishing and refuse by stage: 409 either way).
        async def contact() -> httpx.Response:
            return await api.post(
                f"{path}/contacts", headers=post_headers(staff.specialist), json={}
            )

        def closed(response: httpx.Response) -> bool:
            assert response.status_code == 409, response.text
            assert response.json()["code"] in {"case_closed", "rejected"}
            return bool(response.json()["code"] == "case_closed")

        await eventually(contact, closed, within=15, what="409 case_closed")
        for action, body in (
            ("reviews", {"outcome": "continue"}),
            ("urgent-services", {"service": "food_set"}),
            ("signals", {"source": "agency_referral"}),
        ):
            response = await api.post(
                f"{path}/{action}", headers=post_headers(staff.specialist), json=body
            )
            assert response.status_code == 409, response.text
            assert response.json()["code"] == "case_closed"

        # Follow-ups go to the closed case's own follow-up workflow. Only the policy's two are
        # open (armed at closure, due +180 s and +360 s compressed); a third is not.
        async def follow_up(number: int) -> httpx.Response:
            return await api.post(
                f"{path}/follow-ups",
                headers=post_headers(staff.specialist),
                json={"number": number, "reached": True},
            )

        third = await eventually(
            lambda: follow_up(3),
            lambda r: r.status_code == 409 and r.json()["code"] == "rejected",
            within=15,
            what="the follow-up workflow refusing follow-up 3",
        )
        assert "follow-up 3 is not open" in third.json()["message"]
        first_follow_up = await follow_up(1)
        assert first_follow_up.status_code == 200, first_follow_up.text
        assert first_follow_up.json()["stage"] == "closed"
        assert "T9:1" not in {d["key"] for d in first_follow_up.json()["deadlines"]}

        final = await api.get(path, headers=staff.specialist)
        assert final.status_code == 200
        assert final.json()["stage"] == "closed"
        assert final.json()["allowed_actions"] == ["record_follow_up"]
