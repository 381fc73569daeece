"""The resource map through the API: who manages which entries, what a bad entry gets, and
the append-only, hash-chained history every change leaves."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from models.crud.notifications import list_for_case
from models.crud.resource_map import Editor, create_provider
from models.crud.resource_reviews import flag_overdue_reviews
from models.db import SessionFactory
from models.payloads.resources import ProviderFields
from models.payloads.vocabulary import StaffRole
from models.resource_map.policy import shipped_resource_policy
from tests.support.api import api_client, api_settings, bearer, post_headers
from tests.support.resources import provider_body

# Municipalities no other test uses.
HOME = "kupino_district"
NEIGHBOUR = "kyshtovka_district"
RESOURCES = "/api/v1/resources"

HEAD = bearer("head-res-1", StaffRole.HEAD, (HOME,))
OTHER_HEAD = bearer("head-res-2", StaffRole.HEAD, (NEIGHBOUR,))
SPECIALIST = bearer("spec-res-1", StaffRole.SPECIALIST, (HOME,))
SUPERVISOR = bearer("sup-res-1", StaffRole.SUPERVISOR, (HOME,))
MINISTRY = bearer("min-res-1", StaffRole.MINISTRY, ())


@pytest_asyncio.fixture
async def api(
    time_skipping_env: WorkflowEnvironment, database_url: str, task_queue: str
) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(api_settings(time_skipping_env, database_url, task_queue)) as client:
        yield client


async def _create(api: httpx.AsyncClient, auth: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {"provider": provider_body(HOME, **fields), "reason": "новый партнёр"}
    response = await api.post(RESOURCES, headers=post_headers(auth), json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_a_head_keeps_their_territorys_entries_and_every_change_is_chained(
    api: httpx.AsyncClient,
) -> None:
    entry = await _create(api, HEAD, capacity=5)
    assert (entry["version"], entry["active"], entry["review_overdue"]) == (1, True, False)
    assert entry["services"] == ["psychological"]
    path = f"{RESOURCES}/{entry['id']}"

    changed_fields = provider_body(HOME, name=entry["name"], capacity=8, channels=["social"])
    change = {"provider": changed_fields, "reason": "расширили группу"}
    key = "change-key-0001"
    response = await api.put(path, headers=post_headers(HEAD, key), json=change)
    assert response.status_code == 200, response.text
    assert (response.json()["capacity"], response.json()["version"]) == (8, 2)
    # The same request again (a retry) changes nothing more.
    again = await api.put(path, headers=post_headers(HEAD, key), json=change)
    assert (again.status_code, again.json()["version"]) == (200, 2)

    confirmed = await api.post(f"{path}/confirm", headers=post_headers(HEAD), json={})
    assert confirmed.json()["version"] == 3
    off = await api.post(
        f"{path}/deactivate", headers=post_headers(HEAD), json={"reason": "закрылся"}
    )
    assert off.json()["active"] is False

    history = (await api.get(f"{path}/history", headers=SUPERVISOR)).json()
    assert history["chain_verified"] is True
    actions = [(c["seq"], c["action"], c["actor_id"]) for c in history["changes"]]
    assert actions == [
        (1, "created", "head-res-1"),
        (2, "changed", "head-res-1"),
        (3, "confirmed", "head-res-1"),
        (4, "deactivated", "head-res-1"),
    ]
    second = history["changes"][1]
    assert second["reason"] == "расширили группу"
    assert second["changes"]["capacity"] == {"before": 5, "after": 8}
    assert second["changes"]["channels"] == {"before": [], "after": ["social"]}
    assert (
        history["changes"][0]["prev_hash"] != second["prev_hash"] == history["changes"][0]["hash"]
    )

    listed = (await api.get(RESOURCES, headers=SPECIALIST)).json()
    assert entry["id"] not in [e["id"] for e in listed]  # deactivated
    everything = await api.get(RESOURCES, headers=SPECIALIST, params={"include_inactive": True})
    assert entry["id"] in [e["id"] for e in everything.json()]


async def test_who_may_not_change_the_map(api: httpx.AsyncClient) -> None:
    body = {"provider": provider_body(HOME)}
    for auth, needle in ((SPECIALIST, "head or the ministry"), (OTHER_HEAD, "outside your")):
        response = await api.post(RESOURCES, headers=post_headers(auth), json=body)
        assert response.status_code == 403, response.text
        assert needle in response.json()["message"]
    wide = {"provider": provider_body(HOME, served_municipalities=[HOME, NEIGHBOUR])}
    refused = await api.post(RESOURCES, headers=post_headers(HEAD), json=wide)
    assert refused.status_code == 403
    assert NEIGHBOUR in refused.json()["message"]
    # The ministry records a provider serving several territories; the neighbour's head sees it
    # but may not change it.
    accepted = await api.post(RESOURCES, headers=post_headers(MINISTRY), json=wide)
    assert accepted.status_code == 201, accepted.text
    path = f"{RESOURCES}/{accepted.json()['id']}"
    assert (await api.get(path, headers=OTHER_HEAD)).status_code == 200
    confirm = await api.post(f"{path}/confirm", headers=post_headers(OTHER_HEAD), json={})
    assert confirm.status_code == 403
    elsewhere = bearer("spec-res-9", StaffRole.SPECIALIST, ("chulym_district",))
    assert (await api.get(path, headers=elsewhere)).status_code == 404
    history = await api.get(f"{path}/history", headers=SPECIALIST)
    assert history.status_code == 403


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"services": ["astrology"]}, "provider.services.0"),
        ({"services": [], "channels": []}, "at least one service or channel"),
        ({"served_municipalities": []}, "provider.served_municipalities"),
        ({"served_municipalities": ["atlantis"]}, "unknown municipality code"),
        ({"capacity": -1}, "provider.capacity"),
        ({"contact_email": "not-an-address"}, "provider.contact_email"),
        ({"name": "   "}, "must not be blank"),
        ({"kind": "castle"}, "provider.kind"),
    ],
)
async def test_a_bad_entry_is_refused_naming_the_problem(
    api: httpx.AsyncClient, fields: dict[str, Any], named: str
) -> None:
    body = {"provider": provider_body(HOME, **fields)}
    response = await api.post(RESOURCES, headers=post_headers(HEAD), json=body)
    assert response.status_code == 422, response.text
    assert named in response.text


async def test_a_name_is_taken_once_per_territory(api: httpx.AsyncClient) -> None:
    entry = await _create(api, HEAD)
    body = {"provider": provider_body(HOME, name=entry["name"])}
    response = await api.post(RESOURCES, headers=post_headers(HEAD), json=body)
    assert (response.status_code, response.json()["code"]) == (409, "name_taken")


async def test_the_history_is_append_only(api: httpx.AsyncClient, owner_database_url: str) -> None:
    entry = await _create(api, HEAD)
    with psycopg.connect(owner_database_url, autocommit=True) as connection:
        for statement in (
            "UPDATE resource_changes SET reason = 'x' WHERE provider_id = %s",
            "DELETE FROM resource_changes WHERE provider_id = %s",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                connection.execute(statement, (entry["id"],))


async def test_an_entry_not_confirmed_in_time_is_flagged_to_its_head_once(
    api: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    policy = shipped_resource_policy()
    long_ago = datetime.now(UTC) - timedelta(days=200)
    fields = ProviderFields.model_validate(provider_body(HOME))
    async with sessions() as session, session.begin():
        row = await create_provider(
            session,
            fields=fields,
            editor=Editor(staff_id="min-res-1", role=StaffRole.MINISTRY),
            now=long_ago,
        )
    overdue = await api.get(RESOURCES, headers=HEAD, params={"review_overdue": True})
    flagged = {e["id"]: e for e in overdue.json()}
    assert str(row.id) in flagged
    assert flagged[str(row.id)]["review_overdue"] is True

    now = datetime.now(UTC)
    for expected_new in (True, False):
        async with sessions() as session, session.begin():
            new = await flag_overdue_reviews(session, policy=policy, now=now)
        assert (new >= 1) is expected_new
    async with sessions() as session:
        messages = await list_for_case(session, case_id=row.id)
    assert [(m.recipient, m.kind, m.municipality) for m in messages] == [
        ("head", "resource_review_due", HOME)
    ]
    assert fields.name not in messages[0].message

    confirmed = await api.post(f"{RESOURCES}/{row.id}/confirm", headers=post_headers(HEAD), json={})
    assert confirmed.json()["review_overdue"] is False
    overdue = await api.get(RESOURCES, headers=HEAD, params={"review_overdue": True})
    assert str(row.id) not in [e["id"] for e in overdue.json()]


async def test_a_change_altered_behind_the_triggers_back_breaks_the_chain(
    api: httpx.AsyncClient, owner_database_url: str
) -> None:
    entry = await _create(api, HEAD)
    path = f"{RESOURCES}/{entry['id']}"
    await api.post(f"{path}/confirm", headers=post_headers(HEAD), json={"reason": "проверено"})
    with psycopg.connect(owner_database_url, autocommit=True) as connection:
        # A superuser can switch triggers off for a session: what the chain is for.
        connection.execute("SET session_replication_role = replica")
        connection.execute(
            "UPDATE resource_changes SET reason = 'подменено' WHERE provider_id = %s AND seq = 1",
            (entry["id"],),
        )
    history = (await api.get(f"{path}/history", headers=HEAD)).json()
    assert (history["chain_verified"], history["broken_seq"]) == (False, 1)


async def test_the_list_filters_and_a_repeated_create_answers_the_first_entry(
    api: httpx.AsyncClient,
) -> None:
    clinic = await _create(api, HEAD, kind="clinic", services=["medical"], channels=["medical"])
    school = await _create(api, HEAD, kind="school", services=["pedagogical"])
    ours = {clinic["id"], school["id"]}

    async def listed(**query: Any) -> set[str]:
        response = await api.get(RESOURCES, headers=SPECIALIST, params=query)
        assert response.status_code == 200, response.text
        return {entry["id"] for entry in response.json()} & ours

    assert await listed() == ours
    assert await listed(kind="clinic") == {clinic["id"]}
    assert await listed(service="pedagogical") == {school["id"]}
    assert await listed(channel="medical") == {clinic["id"]}
    assert await listed(municipality=HOME) == ours
    assert await listed(municipality=NEIGHBOUR) == set()
    unknown = await api.get(RESOURCES, headers=SPECIALIST, params={"municipality": "atlantis"})
    assert unknown.status_code == 422
    assert "municipality" in unknown.json()["message"]

    body = {"provider": provider_body(HOME)}
    headers = post_headers(HEAD, "create-key-0001-" + clinic["id"][:8])
    first = await api.post(RESOURCES, headers=headers, json=body)
    again = await api.post(RESOURCES, headers=headers, json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["version"] == 1
    other = await api.post(RESOURCES, headers=headers, json={"provider": provider_body(HOME)})
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
