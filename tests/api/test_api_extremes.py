"""Extreme inputs never stop a case: every staff action, sent over HTTP with extreme values in
every field (the years 1, four years ahead and 9999 in every date and datetime, huge and
negative numbers, extreme durations), is answered 422 (the body is wrong, the field named) or
409 (the case refuses, with its reason), never 5xx; the case then takes its next action, and
no workflow task of it ever failed.

A failed workflow task is what this guards against: the workflow retries it for ever, every
later action on the case answers 503, and no one can act on the family's case again.

The dev server, the real worker and the app in-process, on the default policy (working days by
the production calendar), with a short update timeout so that a stuck case shows at once.
"""

import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from models.db import SessionFactory
from models.payloads.vocabulary import StaffRole
from tests.support.api import api_client, api_settings, bearer, post_headers, synthetic_family
from tests.support.polling import eventually
from tests.support.sealing import test_key_store
from workers.worker import build_worker
from workflows.ids import follow_up_workflow_id

MUNICIPALITY = "kupino_district"
CASES = "/api/v1/cases"
UPDATE_TIMEOUT = 3.0
NOVOSIBIRSK = timezone(timedelta(hours=7))
HUGE = 10**30
# Four years ahead is past the case's 24-month cap, and past the three years after its start
# that a case's calendar once covered (in 2026, this is the reported 2030).
FAR = datetime.now(UTC).year + 4

Body = Any  # a JSON value: what a client may send, valid or not


def _dates() -> list[Body]:
    """Values for a date field (application_date)."""
    tomorrow = (datetime.now(NOVOSIBIRSK) + timedelta(days=1)).date()
    return [
        "0001-01-01",
        "1999-12-31",
        "2000-01-01",  # within the static bounds, long before the case: the case refuses
        f"{FAR}-03-01",
        tomorrow.isoformat(),  # in the future
        "2101-01-01",
        "9999-12-31",
        "10000-01-01",
        "-0001-01-01",
        "2027-02-30",
        "",
        20270101,
        -1,
        HUGE,
        -HUGE,
        1e308,
    ]


def _datetimes() -> list[Body]:
    """Values for a datetime field (a plan item's deadline)."""
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    return [
        "0001-01-01T00:00:00+14:00",  # before year 1 in UTC
        "0001-01-01T00:00:00-12:00",
        "1999-12-31T23:59:59+07:00",
        "2000-01-01T00:00:00+07:00",
        an_hour_ago.isoformat(),  # in the past
        f"{FAR}-03-01T10:00:00+07:00",  # beyond the 24-month cap
        "2100-12-31T23:59:59-12:00",  # 2101 in UTC
        "9999-12-31T23:59:59-12:00",  # after year 9999 in UTC
        "9999-12-31T23:59:59+14:00",
        f"{FAR}-03-01T10:00:00+99:00",
        f"{FAR}-03-01T10:00:00",  # naive
        HUGE,
        -HUGE,
        -1,
    ]


def _durations() -> list[Body]:
    """Values for a duration field (a prolongation's extend_by)."""
    return [
        "P9999Y",
        "P10000Y",
        "P3Y",
        "P25M",
        f"P{HUGE}D",
        f"PT{HUGE}S",
        f"{HUGE}WD",
        "1000WD",
        "P-1M",
        "-P1M",
        "P1.5M",
        "P",
        "PT",
        "",
        "P24M",  # a valid span, beyond 12 months in total without a consilium: refused
        12345,
        -1,
        HUGE,
        {"years": HUGE},
        {"working_days": -1},
        {"working_days": HUGE},
    ]


def _numbers() -> list[Body]:
    """Values for an integer field (a follow-up's number)."""
    return [0, -1, 13, HUGE, -HUGE, 1.5, 1e308, "1e400", "", None]


def _plan(deadline: Body) -> dict[str, Any]:
    return {
        "items": [
            {
                "item_id": "item-1",
                "service_type": "legal",
                "provider": "Legal aid (synthetic)",
                "responsible": "staff-102",
                "deadline": deadline,
            }
        ]
    }


def _with(base: dict[str, Any], field: str, values: list[Body]) -> list[Body]:
    return [{**base, field: value} for value in values]


@dataclass(frozen=True)
class Step:
    """One staff action: a valid body, the extreme ones, and whether a manager takes it."""

    action: str
    valid: Callable[[], dict[str, Any]]
    extremes: Callable[[], list[Body]]
    manager: bool = False


_ASSESSMENT = {"decision": "need_recognised", "circumstances": ["no_work_no_means"], "level": "L1"}
_PROLONGATION = {"approve": True, "consilium": False}

# A case's path, each step valid in the stage the steps before it lead to.
PATH = (
    Step(
        "signals",
        lambda: {"source": "agency_referral"},
        lambda: [
            {"source": HUGE},
            {"source": "agency_referral", "child_safety_indicators": HUGE},
            {"source": "agency_referral", "child_safety_indicators": -1},
            {"source": "agency_referral", "received_on": "9999-12-31"},
            [],
            HUGE,
        ],
    ),
    Step(
        "intake",
        lambda: {"comment": "registered"},
        lambda: [
            *_with({}, "application_date", _dates()),
            {"application_date": "2027-01-01T10:00:00+07:00"},
            {"comment": HUGE},
        ],
    ),
    Step(
        "assessment",
        lambda: _ASSESSMENT,
        lambda: [
            *_with(_ASSESSMENT, "level", ["L9", -1, HUGE, 1.5]),
            *_with(_ASSESSMENT, "circumstances", [[HUGE], HUGE, ["no_work_no_means"] * 9]),
            *_with(_ASSESSMENT, "decision", [HUGE, -HUGE]),
            *_with(_ASSESSMENT, "acute_risks", [[HUGE], ["violence"] * 6]),
        ],
    ),
    Step(
        "route",
        lambda: {"routes": ["own_services"]},
        lambda: [
            {"routes": [HUGE]},
            {"routes": ["own_services"] * 5},
            {"routes": ["own_services"], "providers": [HUGE]},
            {"routes": ["own_services"], "providers": ["p"] * 21},
            {"routes": ["social_contract"], "social_contract": HUGE},
        ],
    ),
    Step(
        "team",
        lambda: {"curator": "staff-101", "members": ["staff-102"]},
        lambda: [
            {"curator": HUGE},
            {"curator": -1},
            {"curator": "x" * 65},
            {"curator": "c", "members": [HUGE]},
        ],
    ),
    Step(
        "plan",
        lambda: _plan((datetime.now(UTC) + timedelta(days=10)).isoformat()),
        lambda: [
            *(_plan(deadline) for deadline in _datetimes()),
            {"items": _plan(f"{FAR - 3}-01-01T10:00:00+07:00")["items"] * 101},
            {"items": []},
        ],
        manager=True,
    ),
    Step(
        "plan-item-done",
        lambda: {"item_id": "item-1"},
        lambda: [{"item_id": HUGE}, {"item_id": "x" * 33}, {"item_id": "no-such"}],
    ),
    Step(
        "contacts",
        lambda: {"reached": True},
        lambda: [
            {"reached": HUGE},
            {"reached": -1},
            {"reached": "9999-12-31"},
            {"at": "0001-01-01"},
        ],
    ),
    Step(
        "urgent-services",
        lambda: {"service": "food_set"},
        lambda: [{"service": HUGE}, {"service": "x" * 41}],
    ),
    Step(
        "child-safety-alerts",
        lambda: {"indicators": ["violence"]},
        lambda: [{"indicators": [HUGE]}, {"indicators": ["violence"] * 6}],
    ),
    Step(
        "curator",
        lambda: {"curator": "staff-103"},
        lambda: [{"curator": HUGE}, {"curator": -1}],
        manager=True,
    ),
    Step(
        "reviews",
        lambda: {"outcome": "request_prolongation"},
        lambda: [
            {"outcome": HUGE},
            {"outcome": "change_level", "new_level": -1},
            {"outcome": "propose_closure", "closure_reason": HUGE},
            {"outcome": "continue", "next_review": "9999-12-31"},
        ],
    ),
    Step(
        "prolongation",
        lambda: {**_PROLONGATION, "extend_by": "P1M"},
        lambda: [
            *_with(_PROLONGATION, "extend_by", _durations()),
            {"approve": HUGE},
            {"approve": True, "consilium": -1},
        ],
        manager=True,
    ),
    Step(
        "closure-request",
        lambda: {"reason": "relocated"},
        lambda: [{"reason": HUGE}, {"reason": -1}],
    ),
    Step(
        "closure-approval",
        lambda: {"approve": True},
        lambda: [{"approve": HUGE}, {"approve": "maybe"}],
        manager=True,
    ),
    Step(
        "follow-ups",
        lambda: {"number": 1, "reached": True},
        lambda: _with({"reached": True}, "number", _numbers()),
    ),
    Step("follow-ups", lambda: {"number": 2, "reached": False}, list),
)


class Case:
    """One case, acted on over HTTP by its specialist and supervisor."""

    def __init__(self, api: httpx.AsyncClient) -> None:
        suffix = uuid.uuid4().hex[:8]
        self.api = api
        self.specialist = bearer(f"curator-{suffix}", StaffRole.SPECIALIST, (MUNICIPALITY,))
        self.supervisor = bearer(f"supervisor-{suffix}", StaffRole.SUPERVISOR, (MUNICIPALITY,))
        self.case_id, self.workflow_id = "", ""

    async def open(self, family: dict[str, Any]) -> httpx.Response:
        body = {"source": "self_request", "municipality": MUNICIPALITY, "family": family}
        response = await self.api.post(CASES, headers=post_headers(self.specialist), json=body)
        if response.status_code == 201:
            case = response.json()["case"]
            self.case_id, self.workflow_id = case["case_id"], case["workflow_id"]
        return response

    async def post(self, step: Step, body: Body) -> httpx.Response:
        auth = self.supervisor if step.manager else self.specialist
        return await self.api.post(
            f"{CASES}/{self.case_id}/{step.action}",
            headers={**post_headers(auth), "Content-Type": "application/json"},
            content=json.dumps(body),
        )

    async def take(self, step: Step) -> None:
        """The case takes the step (its follow-ups once the follow-up workflow is there)."""

        async def attempt() -> httpx.Response:
            return await self.post(step, step.valid())

        def accepted(response: httpx.Response) -> bool:
            # A follow-up waits for the follow-up workflow: 409 until it has started.
            closed = step.action == "follow-ups" and response.status_code == 409
            assert closed or response.status_code == 200, (
                f"{step.action}: {response.status_code} {response.text}"
            )
            return response.status_code == 200

        await eventually(attempt, accepted, what=f"{step.action} accepted")

    async def refuses(self, step: Step) -> None:
        """Each extreme body is refused: 422 naming the problem, or 409 with the case's reason;
        never anything else."""
        for body in step.extremes():
            response = await self.post(step, body)
            sent = json.dumps(body)[:160]
            assert response.status_code in (409, 422), (
                f"{step.action} {sent}: {response.status_code} {response.text}"
            )
            answer = response.json()
            assert answer["code"] in ("invalid_request", "rejected"), (step.action, sent, answer)
            assert answer["message"], (step.action, sent, answer)


async def _no_failed_workflow_task(env: WorkflowEnvironment, workflow_id: str) -> None:
    history = await env.client.get_workflow_handle(workflow_id).fetch_history()
    failed = [
        e for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
    ]
    assert not failed, f"{workflow_id}: {failed[0].workflow_task_failed_event_attributes}"


@asynccontextmanager
async def _service(
    env: WorkflowEnvironment,
    database_url: str,
    sessions: SessionFactory,
    task_queue: str,
) -> AsyncIterator[httpx.AsyncClient]:
    settings = api_settings(env, database_url, task_queue, update_timeout_seconds=UPDATE_TIMEOUT)
    async with (
        build_worker(
            env.client, task_queue=task_queue, sessions=sessions, keys=test_key_store(sessions)
        ),
        api_client(settings) as api,
    ):
        yield api


async def test_the_intake_of_a_signal_refuses_extreme_birth_dates(
    dev_env: WorkflowEnvironment, database_url: str, sessions: SessionFactory, task_queue: str
) -> None:
    async with _service(dev_env, database_url, sessions, task_queue) as api:
        case = Case(api)
        family = synthetic_family()
        tomorrow = (datetime.now(NOVOSIBIRSK) + timedelta(days=1)).date().isoformat()
        for birth_date in (
            *("0001-01-01", "1899-12-31", tomorrow, f"{FAR}-03-01", "9999-12-31"),
            *("10000-01-01", "2027-02-30", "", 20270101, -1, HUGE, 1e308),
        ):
            parent, child = family["members"]
            members = [{**parent, "birth_date": birth_date}, child]
            response = await case.open({**family, "members": members})
            assert response.status_code == 422, f"{birth_date}: {response.text}"
            assert "birth_date" in response.json()["message"]
        opened = await case.open(family)
        assert opened.status_code == 201, opened.text


@pytest.mark.parametrize(
    "index", range(len(PATH) - 1), ids=[f"{i:02}-{s.action}" for i, s in enumerate(PATH[:-1])]
)
async def test_each_action_refuses_extreme_values_and_the_case_goes_on(
    dev_env: WorkflowEnvironment,
    database_url: str,
    sessions: SessionFactory,
    task_queue: str,
    index: int,
) -> None:
    """The case is taken to the step, refuses every extreme body for it, then takes the step
    and the next one: no input left it unable to act."""
    async with _service(dev_env, database_url, sessions, task_queue) as api:
        case = Case(api)
        opened = await case.open(synthetic_family())
        assert opened.status_code == 201, opened.text
        for step in PATH[:index]:
            await case.take(step)
        await case.refuses(PATH[index])
        await case.take(PATH[index])
        await case.take(PATH[index + 1])

    await _no_failed_workflow_task(dev_env, case.workflow_id)
    if index >= len(PATH) - 3:  # the follow-ups ran on the closed case's own workflow
        await _no_failed_workflow_task(dev_env, follow_up_workflow_id(uuid.UUID(case.case_id)))
