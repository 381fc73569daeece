"""The oblast's territory, the family pseudonym and the family intake rules (pure)."""

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from models.family_records import OBLAST_TIMEZONE, FamilyIn, FamilyMemberIn, FamilyRole
from models.identity import family_key
from models.territory import (
    CODE_PATTERN,
    MUNICIPALITIES,
    MUNICIPALITY_CODES,
    PILOT_CODES,
    MunicipalityKind,
    by_code,
)

SECRET = b"test-pseudonym-secret"


def test_the_oblast_has_five_city_districts_and_thirty_municipal_districts() -> None:
    kinds = [m.kind for m in MUNICIPALITIES]
    assert len(MUNICIPALITIES) == 35
    assert kinds.count(MunicipalityKind.CITY_DISTRICT) == 5
    assert kinds.count(MunicipalityKind.MUNICIPAL_DISTRICT) == 30


def test_codes_and_names_are_unique_and_codes_are_stable_ascii() -> None:
    assert len({m.code for m in MUNICIPALITIES}) == 35
    assert len({m.name_ru for m in MUNICIPALITIES}) == 35
    assert {m.code for m in MUNICIPALITIES} == MUNICIPALITY_CODES
    assert all(CODE_PATTERN.fullmatch(m.code) for m in MUNICIPALITIES)


def test_city_districts_are_the_five_named_in_the_product_spec() -> None:
    cities = {m.code: m.name_ru for m in MUNICIPALITIES if m.kind == "city_district"}
    assert cities == {
        "novosibirsk": "город Новосибирск",
        "berdsk": "город Бердск",
        "iskitim": "город Искитим",
        "ob": "город Обь",
        "koltsovo": "рабочий посёлок Кольцово",
    }


def test_every_municipal_district_is_a_raion_with_a_district_code() -> None:
    districts = [m for m in MUNICIPALITIES if m.kind == "municipal_district"]
    assert all(m.name_ru.endswith(" район") for m in districts)
    assert all(m.code.endswith("_district") for m in districts)


def test_the_pilot_sites_and_the_codes_tests_rely_on_exist() -> None:
    assert by_code("berdsk").name_ru == "город Бердск"
    assert by_code("iskitim_district").name_ru == "Искитимский район"
    assert by_code("iskitim").kind is MunicipalityKind.CITY_DISTRICT
    assert by_code("novosibirsk_district").name_ru == "Новосибирский район"
    assert {"berdsk", "iskitim_district"} == PILOT_CODES
    assert PILOT_CODES <= MUNICIPALITY_CODES


def test_an_unknown_code_raises_a_value_error_naming_it() -> None:
    with pytest.raises(ValueError, match="'atlantis'"):
        by_code("atlantis")


def test_the_family_key_ignores_case_spaces_and_dashes() -> None:
    key = family_key("123-456-789 01", SECRET)
    assert key == family_key(" 12345678901 ", SECRET)
    assert family_key("ab-12 cd", SECRET) == family_key("AB12CD", SECRET)
    assert len(key) == 32
    assert all(c in "0123456789abcdef" for c in key)
    assert key != family_key("12345678902", SECRET)


def test_the_family_key_depends_on_the_secret() -> None:
    assert family_key("12345678901", SECRET) != family_key("12345678901", b"another-secret")


@pytest.mark.parametrize(("registry_id", "secret"), [("12345", b""), (" - - ", SECRET)])
def test_the_family_key_refuses_an_empty_secret_or_id(registry_id: str, secret: bytes) -> None:
    with pytest.raises(ValueError, match="empty"):
        family_key(registry_id, secret)


def _family(**changes: Any) -> dict[str, Any]:
    family: dict[str, Any] = {
        "registry_id": "SYN-000-001",
        "members": [
            {
                "role": "parent",
                "full_name": "Тестова Анна Синтетическая",
                "birth_date": "1990-01-01",
            },
            {"role": "child", "full_name": "Тестов Пётр Вымышленный", "birth_date": "2015-06-01"},
        ],
        "address": "Синтетическая ул., д. 0",
        "phone": "+7 000 000-00-00",
    }
    return family | changes


def test_a_valid_family_is_accepted() -> None:
    family = FamilyIn.model_validate(_family())
    assert [m.role for m in family.members] == [FamilyRole.PARENT, FamilyRole.CHILD]


def test_a_family_without_a_child_is_rejected_naming_the_rule() -> None:
    parents_only = _family(members=[_family()["members"][0]])
    with pytest.raises(ValidationError, match="at least one member with role 'child'"):
        FamilyIn.model_validate(parents_only)


def test_a_birth_date_in_the_future_is_rejected() -> None:
    # Two days on: the future in every time zone, whatever the machine's own.
    later = date.today() + timedelta(days=2)
    with pytest.raises(ValidationError, match="in the future"):
        FamilyMemberIn(role=FamilyRole.CHILD, full_name="Тестов Будущий", birth_date=later)


def test_a_birth_date_today_in_the_oblast_is_accepted() -> None:
    today = datetime.now(OBLAST_TIMEZONE).date()
    member = FamilyMemberIn(
        role=FamilyRole.CHILD, full_name="Тестов Новорождённый", birth_date=today
    )
    assert member.birth_date == today


def test_a_birth_date_before_1900_is_rejected() -> None:
    with pytest.raises(ValidationError, match="birth_date"):
        FamilyMemberIn(
            role=FamilyRole.PARENT, full_name="Тестов Старый", birth_date=date(1899, 12, 31)
        )


@pytest.mark.parametrize(
    "changes",
    [
        {"registry_id": "12"},
        {"registry_id": "12345;DROP"},
        {"registry_id": "- - - -"},
        {"phone": "call me"},
        {"address": "x" * 301},
        {"members": []},
        {"members": [_family()["members"][1]] * 21},
        {"members": [{"role": "child", "full_name": "", "birth_date": "2015-06-01"}]},
        {"members": [{"role": "cousin", "full_name": "Тестов", "birth_date": "2015-06-01"}]},
        {"nickname": "unexpected field"},
    ],
)
def test_malformed_family_data_is_rejected(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        FamilyIn.model_validate(_family(**changes))
