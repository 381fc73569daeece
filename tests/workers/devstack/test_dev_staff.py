"""`kurator dev`'s staff: the file is valid, imported whole, and a second start changes nothing."""

import csv

import psycopg

from workers.devstack.dev_staff import DEV_STAFF_FILE, seed_dev_staff


async def test_the_dev_staff_are_imported_and_a_restart_writes_nothing(database_url: str) -> None:
    await seed_dev_staff(database_url)
    assert await seed_dev_staff(database_url) == 0
    with DEV_STAFF_FILE.open(encoding="utf-8") as file:
        wanted = {row["staff_id"]: row["role"] for row in csv.DictReader(file)}
    assert {"demo-ministry", "staff-101", "staff-201"} <= wanted.keys()
    with psycopg.connect(database_url) as connection:
        stored: dict[str, str] = dict(
            connection.execute(
                "SELECT staff_id, role FROM staff_members WHERE active AND staff_id = ANY(%s)",
                (list(wanted),),
            ).fetchall()
        )
    assert stored == wanted
