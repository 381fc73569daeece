"""The staff `kurator dev` puts into its directory at every start (dev_staff.csv: invented
names, example.org addresses), so the README's `kurator token --staff staff-101 ...` examples
and `kurator demo` (which registers its own staff as `demo-ministry`) work on a fresh stack.

Imported like any file (all rows or none, the change in the directory's history); rows already
as the directory holds them change nothing, so a restart writes nothing. A member deactivated
or changed by hand is put back as the file says at the next start: this is a dev stack.
"""

from pathlib import Path

from workers.staff_directory import Console, import_csv

DEV_STAFF_FILE = Path(__file__).with_name("dev_staff.csv")


async def seed_dev_staff(database_url: str) -> int:
    """The rows created or changed (0 when the directory already held them all)."""
    outcome = await import_csv(
        Console(database_url, "kurator-dev"),
        DEV_STAFF_FILE.read_bytes(),
        check_only=False,
        reason="kurator dev: the development stack's staff",
    )
    if outcome.refused:
        problems = "; ".join(f"line {r.line}: {r.problem}" for r in outcome.refused)
        raise ValueError(f"{DEV_STAFF_FILE.name} is refused: {problems}")
    return sum(count for what, count in outcome.counts.items() if what != "unchanged")
