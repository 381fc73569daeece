"""Reading a staff directory file row by row: each row an entry or a refusal naming its line,
its column and why, never the cell's value."""

import pytest

from models.payloads.vocabulary import StaffRole
from models.staff_csv import CsvFileError, parse_staff_csv

HEADER = "staff_id,full_name,role,municipalities,email,active\n"


def test_rows_become_entries_whatever_separates_the_codes() -> None:
    parsed = parse_staff_csv(
        (
            HEADER + 'a-1,Тестова Анна,Specialist,"berdsk, iskitim",A@Example.org,\n'
            "\n"
            "m-1,Тестов Министр,ministry,,,нет\n"
            "h-1,Тестов Глава,head,berdsk|iskitim_district,,yes\n"
        ).encode()
    )
    assert parsed.refused == []
    assert [(r.line, r.staff_id) for r in parsed.rows] == [(2, "a-1"), (4, "m-1"), (5, "h-1")]
    first, ministry, head = (row.entry for row in parsed.rows)
    assert first.role is StaffRole.SPECIALIST
    assert first.municipalities == ["berdsk", "iskitim"]
    assert first.email == "a@example.org"
    assert ministry.active is False
    assert ministry.municipalities == []
    assert head.municipalities == ["berdsk", "iskitim_district"]


def test_each_bad_row_is_refused_naming_line_and_column_not_the_value() -> None:
    parsed = parse_staff_csv(
        (
            HEADER + "bad id!,Тестова Анна,specialist,berdsk,,\n"
            "b-1,Тестова Анна,specialist,berdsk,,maybe\n"
            "b-2,Тестова Анна,specialist,berdsk\n"
            f"b-3,{'Я' * 201},specialist,berdsk,,\n"
            "b-4,Тестова Анна,head,,,\n"
        ).encode()
    )
    assert parsed.rows == []
    problems = {r.line: r.problem for r in parsed.refused}
    assert problems[2].startswith("staff_id:")
    assert problems[3] == "active: yes or no"
    assert problems[4] == "4 cells, the header names 6"
    assert problems[5].startswith("full_name:")
    assert "at least one" in problems[6]
    assert [r.staff_id for r in parsed.refused] == [None, "b-1", "b-2", "b-3", "b-4"]
    assert "bad id!" not in " ".join(problems.values())


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "empty"),
        (HEADER.encode(), "no rows"),
        (b"staff_id,full_name,role,role\n", "role appears twice"),
        (b"staff_id,name,role\n", "unknown column name"),
        (b"\xef\xbb\xbfstaff_id,full_name\n", "missing column role"),
        ((HEADER + "a,b\x00,head,berdsk,,\n").encode(), "NUL"),
        ((HEADER + 'a,"unclosed,head\n').encode(), "line"),
    ],
    ids=["empty", "header-only", "repeated", "unknown", "missing-after-bom", "nul", "quote"],
)
def test_a_file_that_cannot_be_read_is_refused_whole(data: bytes, expected: str) -> None:
    with pytest.raises(CsvFileError, match=expected):
        parse_staff_csv(data)
