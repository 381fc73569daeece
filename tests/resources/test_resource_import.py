"""`kurator resources import FILE.csv` as a process: every row checked, a report of the
refused ones, and nothing half-imported."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg

MUNICIPALITY = "tatarsk_district"
HEADER = (
    "name,kind,municipality,served_municipalities,services,channels,capacity,capacity_unit,"
    "contact_phone,contact_email,contact_address"
)


def _kurator(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KURATOR_DATABASE_URL": database_url, "KURATOR_LOG_FORMAT": "console"}
    command = [sys.executable, "-m", "workers.cli", "resources", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def _entries(owner_database_url: str, names: list[str]) -> dict[str, tuple[int, int]]:
    """Each named entry's capacity and version."""
    with psycopg.connect(owner_database_url) as connection:
        rows = connection.execute(
            "SELECT name, capacity, version FROM resource_providers WHERE name = ANY(%s)",
            (names,),
        ).fetchall()
    return {name: (capacity, version) for name, capacity, version in rows}


def test_a_file_with_a_bad_row_imports_nothing_and_says_why(
    database_url: str, owner_database_url: str, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:6]
    good, also_good = f"Центр занятости {tag}", f"Школа {tag}"
    csv_file = tmp_path / "map.csv"
    csv_file.write_text(
        "\n".join(
            [
                HEADER,
                f"{good},employment_centre,{MUNICIPALITY},{MUNICIPALITY},labour,social,40,"
                "places,+7 383 000-00-01,czn@example.org,",
                f"Клиника {tag},clinic,{MUNICIPALITY},{MUNICIPALITY},surgery,,5,places,,,",
                f"{also_good},school,{MUNICIPALITY},{MUNICIPALITY},pedagogical,,-3,places,,,",
                f"{good},ngo,{MUNICIPALITY},{MUNICIPALITY},legal,,1,places,,,",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    done = _kurator(
        database_url, "import", str(csv_file), "--staff-id", "min-imp-1", "--role", "ministry"
    )
    assert done.returncode == 1, done.stderr
    report = done.stdout
    assert "line 3: refused" in report
    assert "services.0: Input should be" in report
    assert "line 4: refused" in report
    assert "capacity: Input should be greater than or equal to 0" in report
    assert "line 5: refused" in report
    assert "the same entry as on line 2" in report
    assert "3 of 4 rows refused: nothing was imported" in report
    assert _entries(owner_database_url, [good, also_good]) == {}


def test_a_clean_file_imports_and_a_second_import_changes_what_changed(
    database_url: str, owner_database_url: str, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:6]
    names = [f"Центр {tag}", f"НКО {tag}"]
    rows = [
        f"{names[0]},state_centre,{MUNICIPALITY},{MUNICIPALITY};chany_district,"
        "psychological;legal,psychological,12,places,,,",
        f"{names[1]},ngo,{MUNICIPALITY},{MUNICIPALITY},everyday,,80,hours_a_month,,,",
    ]
    csv_file = tmp_path / "map.csv"
    csv_file.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    args = ("import", str(csv_file), "--staff-id", "min-imp-2", "--role", "ministry")
    done = _kurator(database_url, *args)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 rows imported: 2 created" in done.stdout
    assert _entries(owner_database_url, names) == {names[0]: (12, 1), names[1]: (80, 1)}

    rows[1] = rows[1].replace(",80,", ",60,")
    csv_file.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    again = _kurator(database_url, *args)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "2 rows imported: 1 changed, 1 confirmed" in again.stdout
    assert _entries(owner_database_url, names) == {names[0]: (12, 2), names[1]: (60, 2)}


def test_a_head_imports_only_their_territory(database_url: str, tmp_path: Path) -> None:
    csv_file = tmp_path / "map.csv"
    csv_file.write_text(
        f"{HEADER}\nЧужой центр,ngo,chany_district,chany_district,legal,,3,places,,,\n",
        encoding="utf-8",
    )
    done = _kurator(
        database_url, "import", str(csv_file), "--staff-id", "head-imp-1", "--role", "head",
        "--municipality", MUNICIPALITY,
    )  # fmt: skip
    assert done.returncode == 1
    assert "outside your territory" in done.stdout
    assert "nothing was imported" in done.stdout


def test_a_file_that_is_not_a_resource_map_is_refused_whole(
    database_url: str, tmp_path: Path
) -> None:
    csv_file = tmp_path / "map.csv"
    csv_file.write_text("name,colour\nА,red\n", encoding="utf-8")
    done = _kurator(database_url, "import", str(csv_file), "--staff-id", "min-imp-3")
    assert done.returncode == 1
    assert "unknown columns: colour" in done.stdout
    assert "missing columns: capacity, kind" in done.stdout
