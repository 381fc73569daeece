"""The synthetic staff `kurator dev` puts in an empty directory, so that the escalations of
`kurator demo` reach someone: for each municipality the demo uses, its specialist, psychologist,
supervisor and head (the staff ids the demo's tokens carry), the README's `staff-101`,
`staff-201` and `staff-701`, and one ministry official. Addresses are `@kurator.example`:
invented, and caught by the dev SMTP catcher anyway.

A directory that already has members is left as it is."""

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from models.db import make_sync_engine
from models.payloads.vocabulary import StaffRole
from models.tables.staff_member import StaffMember
from workers.demo.scenarios import OTHERS, PILOTS


def dev_staff() -> list[dict[str, Any]]:
    rows = []
    for municipality in (*PILOTS, *OTHERS):
        for kind, role in (
            ("specialist", StaffRole.SPECIALIST),
            ("psychologist", StaffRole.SPECIALIST),
            ("supervisor", StaffRole.SUPERVISOR),
            ("head", StaffRole.HEAD),
        ):
            rows.append(_member(f"demo-{kind}-{municipality}", role, [municipality]))
    rows.append(_member("staff-101", StaffRole.SPECIALIST, ["berdsk"]))
    rows.append(_member("staff-201", StaffRole.SUPERVISOR, ["berdsk"]))
    rows.append(_member("staff-701", StaffRole.MINISTRY, []))
    rows.append(_member("demo-ministry", StaffRole.MINISTRY, []))
    return rows


def _member(staff_id: str, role: StaffRole, municipalities: list[str]) -> dict[str, Any]:
    return {
        "staff_id": staff_id,
        "full_name": f"Демо-сотрудник {staff_id}",
        "role": role.value,
        "municipalities": municipalities,
        "email": f"{staff_id}@kurator.example",
        "active": True,
    }


def seed_dev_directory(owner_url: str) -> int:
    """Fill an empty directory with the dev staff; how many were added."""
    engine = make_sync_engine(owner_url)
    try:
        with engine.begin() as connection:
            if connection.execute(select(func.count()).select_from(StaffMember)).scalar():
                return 0
            rows = dev_staff()
            connection.execute(insert(StaffMember).on_conflict_do_nothing(), rows)
            return len(rows)
    finally:
        engine.dispose()
