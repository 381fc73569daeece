"""`kurator staff` as an operator runs it: add, list, deactivate, and a CSV import that writes
every row or, when any row is refused, none (the report names each refused row and why)."""

import functools
import uuid
from pathlib import Path

import psycopg
import pytest

from tests.workers.conftest import InProcessKurator


@pytest.fixture
def kurator(database_url: str, kurator_in_process: InProcessKurator) -> InProcessKurator:
    """`kurator ...` with the test database as KURATOR_DATABASE_URL."""
    return functools.partial(kurator_in_process, env={"KURATOR_DATABASE_URL": database_url})


def _rows(database_url: str, suffix: str) -> dict[str, tuple[str, list[str], bool]]:
    with psycopg.connect(database_url) as connection:
        found = connection.execute(
            "SELECT staff_id, role, municipalities, active FROM staff_members "
            "WHERE staff_id LIKE %s",
            (f"%-{suffix}",),
        ).fetchall()
    return {staff_id: (role, list(codes), active) for staff_id, role, codes, active in found}


def _history(database_url: str, suffix: str) -> list[tuple[str, str, str, str | None]]:
    with psycopg.connect(database_url) as connection:
        return connection.execute(
            "SELECT staff_id, action, source, reason FROM staff_directory_events "
            "WHERE staff_id LIKE %s ORDER BY seq",
            (f"%-{suffix}",),
        ).fetchall()


def test_a_file_with_a_refused_row_imports_nothing_then_imports_whole_when_fixed(
    database_url: str, kurator: InProcessKurator, tmp_path: Path
) -> None:
    s = uuid.uuid4().hex[:8]
    bad = tmp_path / "staff.csv"
    bad.write_text(
        "staff_id;full_name;role;municipalities;email;active\n"
        f"sp-{s};Тестова Анна;specialist;berdsk;anna@example.org;да\n"
        f"su-{s};Тестов Иван;supervisor;berdsk iskitim_district;ivan@example.org;\n"
        f"bad-role-{s};Тестов Пётр;boss;berdsk;;\n"
        f"bad-mun-{s};Тестова Ольга;specialist;atlantis;;\n"
        f"bad-mail-{s};Тестова Вера;specialist;berdsk;vera-at-example;\n"
        f"sp-{s};Тестова Анна;specialist;ob;;\n"
        f"min-{s};Тестов Министр;ministry;;;\n",
        encoding="utf-8-sig",  # as Excel writes it
    )
    status, output = kurator("staff", "import", str(bad))
    assert status == 1, output
    assert "nothing imported: 4 of 7 rows refused" in output
    for line, why in (("4", "role"), ("5", "atlantis"), ("6", "e-mail"), ("7", "repeats line 2")):
        assert any(
            row.strip().startswith(f"│ {line}") and why in row for row in output.splitlines()
        ), (line, why, output)
    assert _rows(database_url, s) == {}
    assert _history(database_url, s) == []

    good = tmp_path / "fixed.csv"
    good.write_text(
        "\n".join(
            bad.read_text(encoding="utf-8-sig").splitlines()[:3]
            + bad.read_text(encoding="utf-8-sig").splitlines()[7:]
        )
        + "\n"
    )
    status, output = kurator("staff", "import", str(good), "--check")
    assert status == 0, output
    assert "checked, would import 3 rows: 3 created" in output
    assert _rows(database_url, s) == {}

    status, output = kurator("staff", "import", str(good), "--reason", "staff list 2026")
    assert status == 0, output
    assert "imported 3 rows: 3 created" in output
    assert _rows(database_url, s) == {
        f"sp-{s}": ("specialist", ["berdsk"], True),
        f"su-{s}": ("supervisor", ["berdsk", "iskitim_district"], True),
        f"min-{s}": ("ministry", [], True),
    }
    status, output = kurator("staff", "import", str(good))
    assert status == 0, output
    assert "imported 3 rows: 3 unchanged" in output
    assert [(a, src, r) for _, a, src, r in _history(database_url, s)] == [
        ("created", "import", "staff list 2026")
    ] * 3


def test_add_list_deactivate_from_the_console(database_url: str, kurator: InProcessKurator) -> None:
    s = uuid.uuid4().hex[:8]
    add = ["staff", "add", "--staff", f"c-{s}", "--name", "Тестова Мария", "--role", "head"]
    status, output = kurator(*add, "--municipality", "ob", "--by", "hr-1")
    assert status == 0, output
    assert f"c-{s}: created" in output
    status, output = kurator(*add, "--municipality", "atlantis")
    assert status == 2, output
    assert "unknown municipality atlantis" in output
    status, output = kurator("staff", "list", "--municipality", "ob")
    assert status == 0, output
    assert f"c-{s}" in output
    status, output = kurator("staff", "deactivate", f"c-{s}", "--reason", "left")
    assert status == 0, output
    assert f"c-{s}: deactivated" in output
    assert _rows(database_url, s) == {f"c-{s}": ("head", ["ob"], False)}
    status, output = kurator("staff", "deactivate", f"nobody-{s}", "--reason", "x")
    assert status == 1, output
    assert "no member has that staff id" in output
    assert [(a, src, r) for _, a, src, r in _history(database_url, s)] == [
        ("created", "cli", None),
        ("deactivated", "cli", "left"),
    ]
