"""Managing the staff directory through the API: the ministry everyone, a head only members
wholly within the head's territory and never a ministry member; bad entries are 422 naming
the field; every change is in the directory's chained history, readable by heads and the
ministry."""

import asyncio

import psycopg
import pytest
from temporalio.testing import WorkflowEnvironment

from models.payloads.vocabulary import StaffRole
from tests.support.staff_api import STAFF, directory, member

HISTORY = "/api/v1/audit/staff-directory"


async def test_a_head_manages_members_within_the_heads_territory_only(
    dev_env: WorkflowEnvironment, database_url: str
) -> None:
    async with directory(dev_env, database_url) as d:
        path = f"{STAFF}/{d.staff_id('spec')}"
        created = await d.api.put(path, headers=d.head, json=member("specialist", ["berdsk"]))
        assert created.status_code == 201, created.text
        assert created.json()["action"] == "created"
        assert created.json()["member"]["municipalities"] == ["berdsk"]
        again = await d.api.put(path, headers=d.head, json=member("specialist", ["berdsk"]))
        assert again.status_code == 200, again.text
        assert again.json()["action"] is None  # the same entry: no change, no history

        refusals = {
            "ministry member": member("ministry", []),
            "outside": member("specialist", ["berdsk", "novosibirsk"]),
        }
        expected = {"ministry member": "ministry members", "outside": "novosibirsk"}
        for what, body in refusals.items():
            answer = await d.api.put(f"{STAFF}/{d.staff_id('refused')}", headers=d.head, json=body)
            assert answer.status_code == 403, (what, answer.text)
            assert expected[what] in answer.json()["message"], answer.json()
        refused = await d.api.get(f"{STAFF}/{d.staff_id('refused')}", headers=d.ministry)
        assert refused.status_code == 404  # nothing was written

        # A member elsewhere, created by the ministry: the head neither sees nor changes them.
        elsewhere = f"{STAFF}/{d.staff_id('far')}"
        made = await d.api.put(elsewhere, headers=d.ministry, json=member("supervisor", ["ob"]))
        assert made.status_code == 201, made.text
        assert (await d.api.get(elsewhere, headers=d.head)).status_code == 404
        assert (
            await d.api.patch(elsewhere, headers=d.head, json={"active": False})
        ).status_code == 404
        taken = await d.api.put(elsewhere, headers=d.head, json=member("supervisor", ["berdsk"]))
        assert taken.status_code == 403, taken.text
        listed = await d.api.get(STAFF, headers=d.head)
        ids = [entry["staff_id"] for entry in listed.json()]
        assert d.staff_id("spec") in ids
        assert d.staff_id("far") not in ids
        assert d.staff_id("far") in [
            e["staff_id"] for e in (await d.api.get(STAFF, headers=d.ministry)).json()
        ]


async def test_specialists_and_supervisors_may_not_manage_the_directory(
    dev_env: WorkflowEnvironment, database_url: str
) -> None:
    async with directory(dev_env, database_url) as d:
        for role in (StaffRole.SPECIALIST, StaffRole.SUPERVISOR):
            auth = d.register(f"x-{role.value}", role, ("berdsk",))
            for answer in (
                await d.api.get(STAFF, headers=auth),
                await d.api.put(
                    f"{STAFF}/{d.staff_id('new')}",
                    headers=auth,
                    json=member("specialist", ["berdsk"]),
                ),
            ):
                assert answer.status_code == 403, answer.text
                assert role.value in answer.json()["message"]
        assert (
            await d.api.get(f"{STAFF}/{d.staff_id('new')}", headers=d.ministry)
        ).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (member("specialist", ["atlantis"]), "unknown municipality atlantis"),
        (member("specialist", ["berdsk"], email="ivanov"), "email"),
        (member("specialist", ["berdsk"], email="a@b.ru\n"), "email"),
        (member("specialist", []), "municipalities"),
        (member("ministry", ["berdsk"]), "municipalities"),
        (member("boss", ["berdsk"]), "role"),
        (member("specialist", ["berdsk"], full_name="   "), "full_name"),
        ({**member("specialist", ["berdsk"]), "extra": 1}, "extra"),
    ],
    ids=[
        "municipality",
        "email",
        "email-newline",
        "no-territory",
        "ministry-territory",
        "role",
        "blank-name",
        "extra",
    ],
)
async def test_a_bad_entry_is_422_naming_the_field_and_writes_nothing(
    dev_env: WorkflowEnvironment, database_url: str, body: dict[str, object], field: str
) -> None:
    async with directory(dev_env, database_url) as d:
        path = f"{STAFF}/{d.staff_id('bad')}"
        answer = await d.api.put(path, headers=d.ministry, json=body)
        assert answer.status_code == 422, answer.text
        assert field in answer.json()["message"], answer.json()
        assert (await d.api.get(path, headers=d.ministry)).status_code == 404


async def test_patch_changes_the_fields_sent_and_refuses_a_null_name(
    dev_env: WorkflowEnvironment, database_url: str
) -> None:
    async with directory(dev_env, database_url) as d:
        path = f"{STAFF}/{d.staff_id('p')}"
        await d.api.put(path, headers=d.head, json=member("specialist", ["berdsk"]))
        changed = await d.api.patch(path, headers=d.head, json={"email": None, "reason": "no mail"})
        assert changed.status_code == 200, changed.text
        assert changed.json()["member"]["email"] is None
        assert changed.json()["member"]["role"] == "specialist"
        null_name = await d.api.patch(path, headers=d.head, json={"full_name": None})
        assert null_name.status_code == 422, null_name.text
        assert "full_name" in null_name.json()["message"]
        missing = await d.api.patch(
            f"{STAFF}/{d.staff_id('nobody')}", headers=d.head, json={"active": False}
        )
        assert missing.status_code == 404


async def test_every_change_is_in_the_chained_history_heads_see_their_territorys(
    dev_env: WorkflowEnvironment, database_url: str
) -> None:
    async with directory(dev_env, database_url) as d:
        mine, far = f"{STAFF}/{d.staff_id('h1')}", f"{STAFF}/{d.staff_id('h2')}"
        await d.api.put(mine, headers=d.head, json=member("specialist", ["berdsk"], reason="hired"))
        await d.api.patch(mine, headers=d.head, json={"active": False, "reason": "left"})
        await d.api.put(far, headers=d.ministry, json=member("specialist", ["ob"]))

        history = await d.api.get(
            HISTORY, headers=d.ministry, params={"staff_id": d.staff_id("h1")}
        )
        assert history.status_code == 200, history.text
        body = history.json()
        assert body["chain"]["verified"] is True, body["chain"]
        events = body["events"]
        assert [e["action"] for e in events] == ["created", "deactivated"]
        assert events[0]["actor_id"] == f"head-{d.suffix}"
        assert events[0]["actor_role"] == "head"
        assert events[0]["reason"] == "hired"
        assert events[1]["before"]["active"] is True
        assert events[1]["after"]["active"] is False
        assert events[1]["seq"] == events[0]["seq"] + 1
        assert events[1]["prev_hash"] == events[0]["hash"]

        for_head = await d.api.get(HISTORY, headers=d.head, params={"after": events[0]["seq"] - 1})
        staff_ids = {e["staff_id"] for e in for_head.json()["events"]}
        assert d.staff_id("h1") in staff_ids
        assert d.staff_id("h2") not in staff_ids
        specialist = d.register("reader", StaffRole.SPECIALIST, ("berdsk",))
        assert (await d.api.get(HISTORY, headers=specialist)).status_code == 403


def test_the_history_is_append_only_for_the_application(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as connection:
        for statement in (
            "UPDATE staff_directory_events SET reason = 'rewritten'",
            "DELETE FROM staff_directory_events",
            "TRUNCATE staff_directory_events",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                connection.execute(statement)


def test_the_trigger_refuses_even_the_owner(owner_database_url: str) -> None:
    with psycopg.connect(owner_database_url, autocommit=True) as connection:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            connection.execute("UPDATE staff_directory_events SET reason = 'rewritten'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            connection.execute("TRUNCATE staff_directory_events")


async def test_concurrent_creations_of_one_member_take_turns(
    dev_env: WorkflowEnvironment, database_url: str
) -> None:
    async with directory(dev_env, database_url) as d:
        path = f"{STAFF}/{d.staff_id('race')}"
        bodies = [member("specialist", ["berdsk"], email=f"n{n}@example.org") for n in range(6)]
        answers = await asyncio.gather(
            *(d.api.put(path, headers=d.ministry, json=body) for body in bodies)
        )
        assert sorted(a.status_code for a in answers) == [200] * 5 + [201], [
            a.text for a in answers
        ]
        history = await d.api.get(
            HISTORY, headers=d.ministry, params={"staff_id": d.staff_id("race")}
        )
        events = history.json()["events"]
        assert [e["action"] for e in events] == ["created"] + ["changed"] * 5
        assert history.json()["chain"]["verified"] is True
