"""`POST /api/v1/staff/import`: a CSV file, all of it or none of it, with each refused row
named; a head's rows are bounded by the head's territory as in the one-by-one routes."""

from temporalio.testing import WorkflowEnvironment

from tests.support.staff_api import STAFF, directory

IMPORT = f"{STAFF}/import"
CSV = {"Content-Type": "text/csv"}


async def test_a_heads_import_refuses_rows_outside_the_territory_and_writes_none(
    dev_env: WorkflowEnvironment, database_url: str
) -> None:
    async with directory(dev_env, database_url) as d:
        a, b, c = d.staff_id("a"), d.staff_id("b"), d.staff_id("c")
        text = (
            "staff_id,full_name,role,municipalities,email\n"
            f"{a},Тестова Анна,specialist,berdsk,a@example.org\n"
            f"{b},Тестов Борис,supervisor,novosibirsk,\n"
            f"{c},Тестов Виктор,ministry,,\n"
        )
        refused = await d.api.post(IMPORT, headers={**d.head, **CSV}, content=text.encode())
        assert refused.status_code == 422, refused.text
        report = refused.json()
        assert report["written"] is False
        assert report["counts"] == {}
        assert [(r["line"], r["staff_id"]) for r in report["refused"]] == [(3, b), (4, c)]
        assert "novosibirsk" in report["refused"][0]["problem"]
        assert "ministry" in report["refused"][1]["problem"]
        assert (await d.api.get(f"{STAFF}/{a}", headers=d.ministry)).status_code == 404

        fixed = "\n".join(text.splitlines()[:2]) + "\n"
        checked = await d.api.post(
            IMPORT, headers={**d.head, **CSV}, content=fixed.encode(), params={"check": "true"}
        )
        assert checked.status_code == 200, checked.text
        assert checked.json()["written"] is False
        assert checked.json()["counts"] == {"created": 1}
        assert (await d.api.get(f"{STAFF}/{a}", headers=d.ministry)).status_code == 404

        done = await d.api.post(IMPORT, headers={**d.head, **CSV}, content=fixed.encode())
        assert done.status_code == 200, done.text
        assert done.json() == {"rows": 1, "written": True, "counts": {"created": 1}, "refused": []}
        assert (await d.api.get(f"{STAFF}/{a}", headers=d.head)).json()["email"] == "a@example.org"


async def test_an_unreadable_file_is_422_and_a_json_body_415(
    dev_env: WorkflowEnvironment, database_url: str
) -> None:
    async with directory(dev_env, database_url) as d:
        cases = {
            b"\xff\xfe not utf-8": "not UTF-8",
            b"": "empty",
            b"staff_id,full_name\n": "missing column role",
            b"staff_id,full_name,role,salary\nx,y,head,1\n": "unknown column salary",
        }
        for body, expected in cases.items():
            answer = await d.api.post(IMPORT, headers={**d.ministry, **CSV}, content=body)
            assert answer.status_code == 422, answer.text
            assert answer.json()["code"] == "invalid_file"
            assert expected in answer.json()["message"], answer.json()
        wrong_type = await d.api.post(IMPORT, headers=d.ministry, json={"rows": []})
        assert wrong_type.status_code == 415, wrong_type.text
