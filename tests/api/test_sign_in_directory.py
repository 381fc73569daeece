"""Every request's token is checked against the staff directory, at once: an unknown or
deactivated member is 401, a role or territory the directory no longer grants is 403, and the
actor's role and territory are the directory's, not the token's."""

from temporalio.testing import WorkflowEnvironment

from models.payloads.vocabulary import StaffRole
from tests.support.api import bearer
from tests.support.staff_api import STAFF, directory, member

CASES = "/api/v1/cases"
SIGN_IN = "/api/v1/codec/sign-in"


async def test_a_token_of_staff_the_directory_does_not_list_is_401(
    dev_env: WorkflowEnvironment, database_url: str
) -> None:
    async with directory(dev_env, database_url) as d:
        stranger = bearer(d.staff_id("stranger"), StaffRole.SPECIALIST, ("berdsk",))
        for answer in (
            await d.api.get(CASES, headers=stranger),
            await d.api.post(SIGN_IN, json={"token": stranger["Authorization"][7:]}),
        ):
            assert answer.status_code == 401, answer.text
            assert answer.json()["code"] == "unknown_staff"
            assert "not in the staff directory" in answer.json()["message"]
            assert d.staff_id("stranger") not in answer.text
        assert (await d.api.get(CASES, headers=stranger)).headers["WWW-Authenticate"] == "Bearer"


async def test_deactivation_refuses_the_members_next_request(
    dev_env: WorkflowEnvironment, database_url: str
) -> None:
    async with directory(dev_env, database_url) as d:
        specialist = d.register("leaver", StaffRole.SPECIALIST, ("berdsk",))
        assert (await d.api.get(CASES, headers=specialist)).status_code == 200
        # The codec's cookie sign-in holds a token too: it is refused the same way.
        signed_in = await d.api.post(SIGN_IN, json={"token": specialist["Authorization"][7:]})
        assert signed_in.status_code == 200, signed_in.text

        off = await d.api.patch(
            f"{STAFF}/{d.staff_id('leaver')}",
            headers=d.head,
            json={"active": False, "reason": "left the centre"},
        )
        assert off.status_code == 200, off.text
        assert off.json()["action"] == "deactivated"

        refused = await d.api.get(CASES, headers=specialist)
        assert refused.status_code == 401, refused.text
        assert refused.json()["code"] == "staff_deactivated"
        # The client keeps the sign-in cookie and sends it, as a browser does.
        assert "kurator_codec_token" in [cookie.name for cookie in d.api.cookies.jar]
        decode = await d.api.post("/api/v1/codec/decode", json={"payloads": []})
        assert decode.status_code == 401, decode.text
        assert decode.json()["code"] == "staff_deactivated"
        assert "sign in again" in decode.json()["message"]

        back = await d.api.patch(
            f"{STAFF}/{d.staff_id('leaver')}", headers=d.head, json={"active": True}
        )
        assert back.json()["action"] == "reactivated"
        assert (await d.api.get(CASES, headers=specialist)).status_code == 200


async def test_a_role_or_territory_the_directory_no_longer_grants_is_403(
    dev_env: WorkflowEnvironment, database_url: str
) -> None:
    async with directory(dev_env, database_url) as d:
        path = f"{STAFF}/{d.staff_id('mover')}"
        token = d.register("mover", StaffRole.SUPERVISOR, ("berdsk", "iskitim_district"))
        assert (await d.api.get(CASES, headers=token)).status_code == 200

        moved = await d.api.patch(path, headers=d.head, json={"municipalities": ["berdsk"]})
        assert moved.status_code == 200, moved.text
        refused = await d.api.get(CASES, headers=token)
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "territory_not_granted"
        assert "iskitim_district" in refused.json()["message"]

        demoted = await d.api.patch(
            path, headers=d.head, json={"role": "specialist", "municipalities": ["berdsk"]}
        )
        assert demoted.status_code == 200, demoted.text
        refused = await d.api.get(CASES, headers=token)
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "role_not_granted"
        assert "supervisor" in refused.json()["message"]


async def test_the_actor_gets_the_directorys_territory_not_the_tokens(
    dev_env: WorkflowEnvironment, database_url: str
) -> None:
    async with directory(dev_env, database_url) as d:
        put = await d.api.put(
            f"{STAFF}/{d.staff_id('wide')}",
            headers=d.ministry,
            json=member("head", ["berdsk", "iskitim_district"]),
        )
        assert put.status_code == 201, put.text
        # A token naming only berdsk: the directory grants both, and the actor gets both.
        narrow = bearer(d.staff_id("wide"), StaffRole.HEAD, ("berdsk",))
        wide_query = {"municipality": "iskitim_district"}
        answer = await d.api.get(STAFF, headers=narrow, params=wide_query)
        assert answer.status_code == 200, answer.text
        assert d.staff_id("wide") in [m["staff_id"] for m in answer.json()]

        await d.api.patch(
            f"{STAFF}/{d.staff_id('wide')}", headers=d.ministry, json={"municipalities": ["berdsk"]}
        )
        answer = await d.api.get(STAFF, headers=narrow, params=wide_query)
        assert answer.status_code == 403, answer.text
        assert "outside your territory" in answer.json()["message"]
