"""A case's personal data lies sealed in PostgreSQL and comes back intact through the API.

A family with distinctive names, registry id, address and phone goes through intake, route,
team and plan with distinctive comments and providers; then a direct SELECT over `families`,
`case_events` and `case_projections` finds none of them in clear, while the API's case, list
and history return each as it was sent, and the audit's coded columns answer queries as before.

Every name, comment and provider here is invented and obviously synthetic.
"""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text
from temporalio.testing import WorkflowEnvironment

from models.db import SessionFactory, make_sync_engine
from models.payloads.vocabulary import StaffRole
from tests.support.api import api_client, api_settings, bearer, post_headers, read_headers
from tests.support.sealing import test_key_store
from workers.worker import build_worker

MUNICIPALITY = "ubinskoye_district"
CASES = "/api/v1/cases"


def _distinctive() -> dict[str, str]:
    """This run's own strings, so a clear copy can only be this test's."""
    tag = uuid.uuid4().hex[:8]
    return {
        "registry_id": f"SEAL-{tag}",
        "parent": f"Запечатанная Агриппина {tag}",
        "child": f"Запечатанный Евлампий {tag}",
        "address": f"Секретный тупик, д. {tag}",
        "phone": "+7 913 555-01-99",
        "signal_comment": f"соседи слышали крики {tag}",
        "intake_comment": f"мать просит о помощи {tag}",
        "route_comment": f"маршрут согласован {tag}",
        "route_provider": f"Фонд Вымышленной Поддержки {tag}",
        "plan_comment": f"план подписан матерью {tag}",
        "plan_provider": f"Клиника Синтетическая {tag}",
    }


async def _accepted(
    api: httpx.AsyncClient, path: str, auth: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    response = await api.post(path, headers=post_headers(auth), json=body)
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()
    return view


def _stored(database_url: str, family_key: str, case_id: str) -> bytes:
    """Every value PostgreSQL holds for the family and its case, as psycopg reads it."""
    engine = make_sync_engine(database_url)
    try:
        with engine.connect() as connection:
            family = connection.execute(
                text("SELECT families::text, sealed_record FROM families WHERE family_key = :key"),
                {"key": family_key},
            ).one()
            events = connection.execute(
                text("SELECT case_events::text FROM case_events WHERE case_id = :id"),
                {"id": case_id},
            ).scalars()
            projection = connection.execute(
                text("SELECT case_projections::text FROM case_projections WHERE case_id = :id"),
                {"id": case_id},
            ).scalar_one()
            return b"\n".join(
                [family[0].encode(), bytes(family[1]), *(e.encode() for e in events),
                 projection.encode()]
            )  # fmt: skip
    finally:
        engine.dispose()


async def test_personal_data_is_sealed_at_rest_and_intact_through_the_api(
    dev_env: WorkflowEnvironment, database_url: str, sessions: SessionFactory, task_queue: str
) -> None:
    secret = _distinctive()
    suffix = uuid.uuid4().hex[:8]
    curator = f"curator-{suffix}"
    specialist = bearer(curator, StaffRole.SPECIALIST, (MUNICIPALITY,))
    supervisor = bearer(f"supervisor-{suffix}", StaffRole.SUPERVISOR, (MUNICIPALITY,))
    ministry = bearer(f"ministry-{suffix}", StaffRole.MINISTRY, ())
    family = {
        "registry_id": secret["registry_id"],
        "members": [
            {"role": "parent", "full_name": secret["parent"], "birth_date": "1987-07-07"},
            {"role": "child", "full_name": secret["child"], "birth_date": "2017-08-08"},
        ],
        "address": secret["address"],
        "phone": secret["phone"],
    }
    deadline = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    async with (
        build_worker(
            dev_env.client, task_queue=task_queue, sessions=sessions, keys=test_key_store(sessions)
        ),
        api_client(api_settings(dev_env, database_url, task_queue)) as api,
    ):
        opened = await api.post(
            CASES,
            headers=post_headers(specialist),
            json={
                "source": "agency_referral",
                "municipality": MUNICIPALITY,
                "family": family,
                "comment": secret["signal_comment"],
            },
        )
        assert opened.status_code == 201, opened.text
        case = opened.json()["case"]
        case_id, path = case["case_id"], f"{CASES}/{case['case_id']}"
        family_key = case["workflow_id"].removeprefix("case-")
        await _accepted(api, f"{path}/intake", specialist, {"comment": secret["intake_comment"]})
        await _accepted(
            api,
            f"{path}/assessment",
            specialist,
            {"decision": "need_recognised", "circumstances": ["no_work_no_means"], "level": "L1"},
        )
        await _accepted(
            api,
            f"{path}/route",
            specialist,
            {
                "routes": ["other_providers"],
                "providers": [secret["route_provider"]],
                "comment": secret["route_comment"],
            },
        )
        await _accepted(api, f"{path}/team", specialist, {"curator": curator})
        plan = {
            "items": [
                {
                    "item_id": "item-1",
                    "service_type": "psychological",
                    "provider": secret["plan_provider"],
                    "responsible": curator,
                    "deadline": deadline,
                }
            ],
            "comment": secret["plan_comment"],
        }
        planned = await _accepted(api, f"{path}/plan", supervisor, plan)
        assert planned["stage"] == "support"

        read = await api.get(path, headers=ministry)
        listed = await api.get(CASES, headers=specialist, params={"curator": curator})
        history = await api.get(f"{path}/events", headers=read_headers(supervisor))
        inbox = await api.get("/api/v1/tasks", headers=specialist)

    # At rest: not one of the strings in clear, in any column of the family's or case's rows.
    stored = _stored(database_url, family_key, case_id)
    assert b"sealed:v1:" in stored
    for name, value in secret.items():
        assert value.encode() not in stored, f"{name} is stored in clear"

    # Through the API: each intact where it belongs.
    assert read.status_code == 200, read.text
    view = read.json()
    assert [item["provider"] for item in view["plan_items"]] == [secret["plan_provider"]]
    assert view["details"]["route"]["providers"] == [secret["route_provider"]]
    assert listed.status_code == 200, listed.text
    assert [item["plan_items"] for item in listed.json()["items"]] == [view["plan_items"]]
    assert history.status_code == 200, history.text
    reasons = {event["action"]: event["reason"] for event in history.json()}
    assert reasons["signal_received"] == secret["signal_comment"]
    assert reasons["intake_registered"] == secret["intake_comment"]
    assert reasons["route_set"] == secret["route_comment"]
    assert reasons["plan_approved"] == secret["plan_comment"]
    data = {event["action"]: event["data"] for event in history.json()}
    assert data["route_set"]["providers"] == [secret["route_provider"]]
    assert [item["provider"] for item in data["plan_approved"]["items"]] == [
        secret["plan_provider"]
    ]
    assert inbox.status_code == 200, inbox.text  # it shows no free text, so opens none
    assert case_id in {item["case_id"] for item in inbox.json()}

    # The audit's structure stays queryable in clear: who, role, action, stage, codes.
    engine = make_sync_engine(database_url)
    try:
        with engine.connect() as connection:
            steps = connection.execute(
                text(
                    "SELECT action, actor_role, stage_after, data->>'decision' FROM case_events "
                    "WHERE case_id = :id AND actor_role <> 'system' ORDER BY seq"
                ),
                {"id": case_id},
            ).all()
            projection = connection.execute(
                text(
                    "SELECT stage, level, curator, view->'plan_items'->0->>'service_type' "
                    "FROM case_projections WHERE case_id = :id"
                ),
                {"id": case_id},
            ).one()
    finally:
        engine.dispose()
    assert [tuple(step) for step in steps] == [
        ("signal_received", "specialist", "identified", None),
        ("intake_registered", "specialist", "assessment", None),
        ("assessment_recorded", "specialist", "routing", "need_recognised"),
        ("route_set", "specialist", "team", None),
        ("team_named", "specialist", "planning", None),
        ("plan_approved", "supervisor", "support", None),
    ]
    assert tuple(projection) == ("support", "L1", curator, "psychological")
