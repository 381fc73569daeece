"""The ranking rules and the resource policy, as pure functions: hours-a-month capacity, the
caseload limit's warnings, and a policy file that lacks a figure."""

import uuid
from pathlib import Path

import pytest

from models.payloads.vocabulary import (
    AccompanimentChannel,
    CapacityUnit,
    NeedCircumstance,
    ServiceType,
    StaffRole,
)
from models.policy.codes import AccompanimentLevel
from models.policy.loader import PolicyFileError
from models.resource_map.csv_rows import AcceptedRow, read_rows
from models.resource_map.curators import rank_curators
from models.resource_map.policy import (
    RESOURCE_POLICY_FILE,
    load_resource_policy,
    shipped_resource_policy,
)
from models.resource_map.proposals import Candidate, needs_of, rank_providers


def _candidate(name: str, capacity: int, unit: CapacityUnit) -> Candidate:
    return Candidate(
        id=uuid.uuid4(),
        name=name,
        municipality="berdsk",
        services=frozenset({ServiceType.LABOUR}),
        channels=frozenset(),
        capacity=capacity,
        capacity_unit=unit,
        review_overdue=False,
    )


def test_a_crisis_level_adds_urgent_services_to_the_circumstances_needs() -> None:
    policy = shipped_resource_policy()
    needs = needs_of([NeedCircumstance.NO_WORK_NO_MEANS], AccompanimentLevel.L3, policy)
    assert ServiceType.LABOUR in needs.services
    assert ServiceType.URGENT in needs.services
    assert AccompanimentChannel.SOCIAL in needs.channels
    calmer = needs_of([NeedCircumstance.NO_WORK_NO_MEANS], AccompanimentLevel.L1, policy)
    assert ServiceType.URGENT not in calmer.services


def test_hours_capacity_counts_each_open_item_by_the_policys_hours() -> None:
    policy = shipped_resource_policy()
    hours = _candidate("Часы", 8, CapacityUnit.HOURS_A_MONTH)
    places = _candidate("Места", 3, CapacityUnit.PLACES)
    needs = needs_of([NeedCircumstance.NO_WORK_NO_MEANS], None, policy)
    ranked = rank_providers(
        [hours, places],
        needs=needs,
        municipality="berdsk",
        open_items={hours.id: 2, places.id: 2},
        policy=policy,
    )
    # Two items take 2 x 4 hours: the hours provider is full; the other has a place left.
    assert [(p.name, p.in_use, p.at_capacity) for p in ranked] == [
        ("Места", 2.0, False),
        ("Часы", 8.0, True),
    ]
    assert "8 из 8 ч в месяц" in ranked[1].reasons[-1].text_ru


def test_curators_over_the_limit_are_warned_and_ordered_by_weighted_caseload() -> None:
    policy = shipped_resource_policy()
    levels = AccompanimentLevel
    ranked = rank_curators(
        [("c-heavy", "Тестов А"), ("c-light", "Тестов Б"), ("c-edge", "Тестов В")],
        open_cases={
            "c-heavy": {levels.L3: 11},  # 33 > 30
            "c-light": {levels.L0: 2, None: 1},  # 0.5 x 2 + 1
            "c-edge": {levels.L2: 14, levels.L1: 1},  # 29: an L2 case more makes 31
        },
        policy=policy,
        adding=levels.L2,
    )
    assert [(c.staff_id, c.caseload, c.over_limit) for c in ranked] == [
        ("c-light", 2.0, False),
        ("c-edge", 29.0, True),
        ("c-heavy", 33.0, True),
    ]
    assert ranked[1].warning_ru == "С этим случаем нагрузка 31 превысит предел 30"
    assert ranked[2].warning_ru == "Нагрузка 33 превышает предел 30"


def test_every_figure_of_the_resource_policy_names_its_source(tmp_path: Path) -> None:
    policy = shipped_resource_policy()
    assert policy.review_period.source == "default"
    assert str(policy.review_period.value) == "P6M"
    assert all(needs.source for needs in policy.needs.values())
    shipped = (Path(__file__).parents[2] / "models" / "policy" / RESOURCE_POLICY_FILE).read_text(
        encoding="utf-8"
    )
    broken = tmp_path / "resources.toml"
    broken.write_text(
        shipped.replace('review_period = { value = "P6M", source = "default" }', ""),
        encoding="utf-8",
    )
    with pytest.raises(PolicyFileError, match="review_period"):
        load_resource_policy(broken)
    working_days = tmp_path / "wd.toml"
    working_days.write_text(shipped.replace('"P6M"', '"5WD"'), encoding="utf-8")
    with pytest.raises(PolicyFileError, match="calendar span"):
        load_resource_policy(working_days)


def test_the_demo_map_imports_cleanly_and_puts_the_employment_centre_first_for_no_work() -> None:
    demo = Path(__file__).parents[2] / "workers" / "demo" / "resource_map.csv"
    rows = list(
        read_rows(demo.read_text(encoding="utf-8"), role=StaffRole.MINISTRY, municipalities=())
    )
    assert all(isinstance(row, AcceptedRow) for row in rows), rows
    entries = [row.fields for row in rows if isinstance(row, AcceptedRow)]
    candidates = [
        Candidate(
            id=uuid.uuid4(),
            name=e.name,
            municipality=e.municipality,
            services=frozenset(e.services),
            channels=frozenset(e.channels),
            capacity=e.capacity,
            capacity_unit=e.capacity_unit,
            review_overdue=False,
        )
        for e in entries
        if "iskitim_district" in e.served_municipalities
    ]
    policy = shipped_resource_policy()
    needs = needs_of([NeedCircumstance.NO_WORK_NO_MEANS], AccompanimentLevel.L1, policy)
    ranked = rank_providers(
        candidates, needs=needs, municipality="iskitim_district", open_items={}, policy=policy
    )
    assert ranked[0].name == "Центр занятости «Пример» (демо)"
    assert ranked[0].matching_services == [ServiceType.LABOUR, ServiceType.LEGAL]
