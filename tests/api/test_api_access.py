"""Who may do what, and see what (PRODUCT.md §3): tokens, roles and territory, through HTTP.

A module's worth of cases, opened once: an open and a closed case in municipality A and an open
one in B. Actions are tried on the closed case, so that an allowed role reaches the workflow
(and is refused there as closed) without moving any case along.
"""

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from api.auth import issue_token
from infra.sealing.family_keys import FamilyKeyStore
from models.db import SessionFactory
from models.lifecycle.actions import ACTIONS, Action, StaffActionSpec
from models.payloads.vocabulary import StaffRole
from tests.support.api import (
    JWT_SECRET,
    api_client,
    api_settings,
    bearer,
    post_headers,
    read_headers,
    synthetic_family,
)
from workers.worker import build_worker

# Municipalities no other test uses, so what a territory lists is this module's cases only.
A = "ob"
B = "koltsovo"
CASES = "/api/v1/cases"

STAFF_ROLES = (StaffRole.SPECIALIST, StaffRole.SUPERVISOR, StaffRole.HEAD)
MANAGERS = frozenset({StaffRole.SUPERVISOR, StaffRole.HEAD})
# PRODUCT.md §3: approvals and reassignment are for managers; every other action for all staff;
# the ministry takes none.
MANAGER_ACTIONS = frozenset(
    {
        Action.APPROVE_PLAN,
        Action.DECIDE_PROLONGATION,
        Action.APPROVE_CLOSURE,
        Action.REASSIGN_CURATOR,
    }
)

# A valid body for each action: what is refused is the caller, never the request.
BODIES: dict[Action, dict[str, Any]] = {
    Action.RECEIVE_SIGNAL: {"source": "agency_referral"},
    Action.REGISTER_INTAKE: {},
    Action.RECORD_ASSESSMENT: {
        "decision": "need_recognised",
        "circumstances": ["no_work_no_means"],
        "level": "L1",
    },
    Action.SET_ROUTE: {"routes": ["own_services"]},
    Action.NAME_TEAM: {"curator": "curator-1"},
    Action.APPROVE_PLAN: {
        "items": [
            {
                "item_id": "i1",
                "service_type": "everyday",
                "provider": "КЦСОН (synthetic)",
                "responsible": "curator-1",
                "deadline": "2031-01-01T10:00:00+07:00",
            }
        ]
    },
    Action.COMPLETE_PLAN_ITEM: {"item_id": "i1"},
    Action.RECORD_CONTACT: {"reached": False},
    Action.RECORD_REVIEW: {"outcome": "continue"},
    Action.DECIDE_PROLONGATION: {"approve": False},
    Action.REQUEST_CLOSURE: {"reason": "relocated"},
    Action.APPROVE_CLOSURE: {"approve": True},
    Action.GIVE_URGENT_SERVICE: {"service": "clothing"},
    Action.RAISE_CHILD_SAFETY_ALERT: {"indicators": ["violence"]},
    Action.REASSIGN_CURATOR: {"curator": "curator-2"},
    # Beyond the policy's follow-ups: refused by the follow-up workflow if it gets that far.
    Action.RECORD_FOLLOW_UP: {"number": 12},
    Action.RECORD_AGREEMENT: {"number": "17/2026", "concluded_on": "2026-01-01"},
    Action.RECORD_COMMISSION_DECISION: {
        "programme": {
            "resolution_number": "46-п",
            "resolution_date": "2026-01-01",
            "programme_ends_on": "2026-12-31",
        }
    },
    Action.CONCLUDE_SOCIAL_CONTRACT: {
        "number": "СК-1",
        "concluded_on": "2026-01-01",
        "term": "P6M",
    },
}

ROUTES = list(ACTIONS.values())


def _product_roles(action: Action) -> frozenset[StaffRole]:
    return MANAGERS if action in MANAGER_ACTIONS else frozenset(STAFF_ROLES)


def _auth(role: StaffRole, *municipalities: str) -> dict[str, str]:
    return bearer(f"{role}-{'-'.join(municipalities) or 'all'}", role, municipalities)


@dataclass(frozen=True)
class World:
    api: httpx.AsyncClient
    open_a: str
    closed_a: str
    open_b: str
    family_a: str  # the registry id of open_a's family


async def _open(api: httpx.AsyncClient, municipality: str, registry_id: str) -> str:
    response = await api.post(
        CASES,
        headers=post_headers(_auth(StaffRole.SPECIALIST, municipality)),
        json={
            "source": "self_request",
            "municipality": municipality,
            "family": synthetic_family(registry_id),
        },
    )
    assert response.status_code == 201, response.text
    case_id: str = response.json()["case"]["case_id"]
    return case_id


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world(
    dev_env: WorkflowEnvironment, database_url: str, sessions: SessionFactory, keys: FamilyKeyStore
) -> AsyncIterator[World]:
    task_queue = f"test-access-{uuid.uuid4().hex}"
    family_a = f"TEST-{uuid.uuid4().hex[:12]}"
    async with (
        build_worker(dev_env.client, task_queue=task_queue, sessions=sessions, keys=keys),
        api_client(api_settings(dev_env, database_url, task_queue)) as api,
    ):
        open_a = await _open(api, A, family_a)
        open_b = await _open(api, B, f"TEST-{uuid.uuid4().hex[:12]}")
        closed_a = await _open(api, A, f"TEST-{uuid.uuid4().hex[:12]}")
        closed = await api.post(
            f"{CASES}/{closed_a}/closure-request",
            headers=post_headers(_auth(StaffRole.SPECIALIST, A)),
            json={"reason": "duplicate"},
        )
        assert closed.status_code == 200, closed.text
        assert closed.json()["stage"] == "closed"
        yield World(api=api, open_a=open_a, closed_a=closed_a, open_b=open_b, family_a=family_a)


def test_the_rules_give_each_action_the_roles_of_product_section_3() -> None:
    assert set(ACTIONS) == set(Action)
    for action in Action:
        assert ACTIONS[action].roles == _product_roles(action), action


# Roles: every action, every role.


@pytest.mark.parametrize("role", list(StaffRole), ids=str)
@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.path)
async def test_each_role_may_take_only_its_actions(
    world: World, route: StaffActionSpec[Any], role: StaffRole
) -> None:
    response = await world.api.post(
        f"{CASES}/{world.closed_a}/{route.path}",
        headers=post_headers(_auth(role, A)),
        json=BODIES[route.action],
    )
    body = response.json()
    if role in _product_roles(route.action):
        # Past the role check: the closed case itself refuses.
        assert response.status_code == 409, response.text
        assert body["code"] in {"case_closed", "rejected"}
    else:
        assert response.status_code == 403, response.text
        assert body["code"] == "forbidden"
        assert f"role {role} may not {route.action}" in body["message"]


@pytest.mark.parametrize("role", list(StaffRole), ids=str)
async def test_each_role_may_register_a_signal_except_the_ministry(
    world: World, role: StaffRole
) -> None:
    """Intake for open_a's family joins its open episode (200); the ministry may not."""
    response = await world.api.post(
        CASES,
        headers=post_headers(_auth(role, A)),
        json={
            "source": "agency_referral",
            "municipality": A,
            "family": synthetic_family(world.family_a),
        },
    )
    if role is StaffRole.MINISTRY:
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "forbidden"
        assert "ministry" in response.json()["message"]
    else:
        assert response.status_code == 200, response.text
        assert response.json()["joined"] is True
        assert response.json()["case"]["case_id"] == world.open_a


async def test_the_ministry_may_take_no_action_even_with_every_municipality(
    world: World,
) -> None:
    ministry = _auth(StaffRole.MINISTRY)  # no municipalities: the whole oblast
    for route in ROUTES:
        response = await world.api.post(
            f"{CASES}/{world.open_a}/{route.path}",
            headers=post_headers(ministry),
            json=BODIES[route.action],
        )
        assert response.status_code == 403, (route.path, response.text)
        assert "role ministry" in response.json()["message"]


# Territory: a case elsewhere does not exist for the caller.


@pytest.mark.parametrize("role", STAFF_ROLES, ids=str)
async def test_a_case_of_another_municipality_is_404_to_read(world: World, role: StaffRole) -> None:
    outsider = _auth(role, B)
    unknown = uuid.uuid4()
    for case_id in (world.open_a, world.closed_a):
        for suffix in ("", "/events"):
            response = await world.api.get(f"{CASES}/{case_id}{suffix}", headers=outsider)
            assert response.status_code == 404, response.text
            missing = await world.api.get(f"{CASES}/{unknown}{suffix}", headers=outsider)
            # Exactly the answer for a case that does not exist.
            assert response.json() == {
                **missing.json(),
                "message": missing.json()["message"].replace(str(unknown), case_id),
            }


@pytest.mark.parametrize("role", STAFF_ROLES, ids=str)
@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.path)
async def test_a_case_of_another_municipality_is_404_to_act_on(
    world: World, route: StaffActionSpec[Any], role: StaffRole
) -> None:
    response = await world.api.post(
        f"{CASES}/{world.open_a}/{route.path}",
        headers=post_headers(_auth(role, B)),
        json=BODIES[route.action],
    )
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "not_found"


async def test_an_intake_in_another_municipality_is_403(world: World) -> None:
    response = await world.api.post(
        CASES,
        headers=post_headers(_auth(StaffRole.SPECIALIST, B)),
        json={"source": "proactive", "municipality": A, "family": synthetic_family()},
    )
    assert response.status_code == 403, response.text
    assert "territory" in response.json()["message"]


async def _listed(api: httpx.AsyncClient, auth: dict[str, str], **query: Any) -> dict[str, Any]:
    response = await api.get(CASES, headers=auth, params={"limit": 200, **query})
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def _tasks(api: httpx.AsyncClient, auth: dict[str, str]) -> list[dict[str, Any]]:
    response = await api.get("/api/v1/tasks", headers=auth, params={"limit": 500})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()
    return items


@pytest.mark.parametrize("role", STAFF_ROLES, ids=str)
async def test_staff_list_and_inbox_hold_their_territory_only(
    world: World, role: StaffRole
) -> None:
    in_a = {world.open_a, world.closed_a}
    outsider = _auth(role, B)
    page = await _listed(world.api, outsider)
    assert {item["municipality"] for item in page["items"]} == {B}
    assert world.open_b in {item["case_id"] for item in page["items"]}
    assert not in_a & {item["case_id"] for item in page["items"]}
    # Asking for A by name gives nothing, not even a count.
    asked = await _listed(world.api, outsider, municipality=A)
    assert (asked["items"], asked["total"]) == ([], 0)
    tasks = await _tasks(world.api, outsider)
    assert {item["municipality"] for item in tasks} <= {B}
    assert not in_a & {item["case_id"] for item in tasks}

    insider = await _listed(world.api, _auth(role, A))
    assert in_a <= {item["case_id"] for item in insider["items"]}
    assert {item["municipality"] for item in insider["items"]} == {A}


async def test_a_specialist_inbox_shows_the_first_contact_of_their_territory(
    world: World,
) -> None:
    for municipality, case_id in ((A, world.open_a), (B, world.open_b)):
        tasks = await _tasks(world.api, _auth(StaffRole.SPECIALIST, municipality))
        assert (case_id, "T1") in {(item["case_id"], item["key"]) for item in tasks}


async def test_staff_of_several_municipalities_see_each(world: World) -> None:
    both = _auth(StaffRole.HEAD, A, B)
    listed = {item["case_id"] for item in (await _listed(world.api, both))["items"]}
    assert {world.open_a, world.closed_a, world.open_b} <= listed
    for case_id in (world.open_a, world.open_b):
        assert (await world.api.get(f"{CASES}/{case_id}", headers=both)).status_code == 200


@pytest.mark.parametrize("municipalities", [(), (B,)], ids=["whole-oblast", "token-naming-another"])
async def test_the_ministry_reads_every_municipality(
    world: World, municipalities: tuple[str, ...]
) -> None:
    ministry = _auth(StaffRole.MINISTRY, *municipalities)
    listed_a = {
        item["case_id"] for item in (await _listed(world.api, ministry, municipality=A))["items"]
    }
    listed_b = {
        item["case_id"] for item in (await _listed(world.api, ministry, municipality=B))["items"]
    }
    assert {world.open_a, world.closed_a} <= listed_a
    assert world.open_b in listed_b
    everywhere = await _listed(world.api, ministry)
    assert everywhere["total"] >= 3
    for case_id in (world.open_a, world.closed_a, world.open_b):
        read = await world.api.get(f"{CASES}/{case_id}", headers=ministry)
        assert read.status_code == 200, read.text
        assert read.json()["allowed_actions"] == []
        events = await world.api.get(
            f"{CASES}/{case_id}/events", headers=read_headers(ministry, "audit")
        )
        assert events.status_code == 200, events.text
        assert events.json()


# Tokens: anything but a valid one is 401, with a challenge.


def _signed(claims: dict[str, Any], secret: str = JWT_SECRET) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


def _valid_claims() -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "sub": "staff-1",
        "role": "specialist",
        "mun": [A],
        "iat": now,
        "exp": now + timedelta(hours=1),
    }


BAD_TOKENS: dict[str, tuple[Callable[[], str | None], str]] = {
    "missing": (lambda: None, "unauthenticated"),
    "not-bearer": (lambda: "Basic c3RhZmY6cGFzcw==", "unauthenticated"),
    "malformed": (lambda: "Bearer not.a.jwt", "invalid_token"),
    "garbage": (lambda: "Bearer %%%.%%%.%%%", "invalid_token"),
    "expired": (
        lambda: (
            "Bearer "
            + issue_token(
                secret=JWT_SECRET.encode(),
                staff_id="staff-1",
                role=StaffRole.SPECIALIST,
                municipalities=[A],
                now=datetime.now(UTC) - timedelta(days=2),
            )
        ),
        "invalid_token",
    ),
    "wrong-signature": (
        lambda: (
            "Bearer "
            + issue_token(
                secret=b"another-secret-" + b"z" * 32,
                staff_id="staff-1",
                role=StaffRole.SUPERVISOR,
                municipalities=[A],
            )
        ),
        "invalid_token",
    ),
    "unsigned": (
        lambda: "Bearer " + jwt.encode(_valid_claims(), key="", algorithm="none"),
        "invalid_token",
    ),
    "unknown-role": (
        lambda: "Bearer " + _signed({**_valid_claims(), "role": "janitor"}),
        "invalid_token",
    ),
    "no-expiry": (
        lambda: "Bearer " + _signed({k: v for k, v in _valid_claims().items() if k != "exp"}),
        "invalid_token",
    ),
    "no-municipality": (
        lambda: "Bearer " + _signed({**_valid_claims(), "mun": []}),
        "invalid_token",
    ),
}


@pytest.mark.parametrize("token", list(BAD_TOKENS), ids=str)
async def test_a_missing_or_untrustworthy_token_is_401_with_a_challenge(
    world: World, token: str
) -> None:
    make, code = BAD_TOKENS[token]
    value = make()
    auth = {} if value is None else {"Authorization": value}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    for response in (
        await world.api.get(CASES, headers=auth),
        await world.api.get(f"{CASES}/{world.open_a}", headers=auth),
        await world.api.get(f"{CASES}/{world.open_a}/events", headers=auth),
        await world.api.get("/api/v1/tasks", headers=auth),
        await world.api.post(
            CASES,
            headers={**auth, **key},
            json={"source": "proactive", "municipality": A, "family": synthetic_family()},
        ),
        await world.api.post(f"{CASES}/{world.open_a}/contacts", headers={**auth, **key}, json={}),
    ):
        assert response.status_code == 401, (response.request.url, response.text)
        assert response.json()["code"] == code
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert "Bearer ey" not in response.text  # never echoes the token


async def test_health_needs_no_token(world: World) -> None:
    response = await world.api.get("/health")
    assert response.status_code in (200, 503)
    assert "components" in response.json()


async def test_the_list_pages_by_cursor_within_the_territory(world: World) -> None:
    head = _auth(StaffRole.HEAD, A)
    whole = await _listed(world.api, head)
    walked: list[str] = []
    cursor = None
    for _ in range(50):
        params: dict[str, Any] = {"limit": 1} | ({} if cursor is None else {"after": cursor})
        response = await world.api.get(CASES, headers=head, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["total"] == (whole["total"] if cursor is None else None)
        walked += [item["case_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert walked == [item["case_id"] for item in whole["items"]]
    assert {world.open_a, world.closed_a} <= set(walked)


@pytest.mark.parametrize(
    ("params", "named"),
    [({"after": "not-a-cursor"}, "after"), ({"offset": 10_001}, "offset")],
)
async def test_a_bad_cursor_or_a_deep_offset_is_422_naming_it(
    world: World, params: dict[str, Any], named: str
) -> None:
    response = await world.api.get(CASES, headers=_auth(StaffRole.HEAD, A), params=params)
    assert response.status_code == 422, response.text
    assert named in response.text
