"""`Policy`: the shipped policy files, their figures, serialisation, and validation errors."""

import ast
import copy
import sys
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from temporalio.contrib.pydantic import pydantic_data_converter

import models.policy
from models.policy import (
    AccompanimentLevel,
    ClosureReason,
    DeadlineCode,
    Duration,
    Policy,
    Role,
    SocialContractDirection,
    WorkingCalendar,
)
from models.policy.loader import PolicyFileError, load_calendar, load_policy

PACKAGE = Path(models.policy.__file__).parent
L3 = AccompanimentLevel.L3


@pytest.fixture(scope="module")
def default() -> Policy:
    return load_policy("default")


@pytest.fixture(scope="module")
def compressed() -> Policy:
    return load_policy("compressed")


def raw(name: str) -> dict[str, Any]:
    with (PACKAGE / f"{name}.toml").open("rb") as file:
        return tomllib.load(file)


def d(text: str) -> Duration:
    return Duration.parse(text)


def durations(value: object) -> Iterator[Duration]:
    """Every Duration inside a policy (or a part of one)."""
    if isinstance(value, Duration):
        yield value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from durations(getattr(value, name))
    elif isinstance(value, dict):
        for item in value.values():
            yield from durations(item)
    elif isinstance(value, tuple | list):
        for item in value:
            yield from durations(item)


def test_the_default_policy_figures(default: Policy) -> None:
    assert default.version == "2026.12-default"
    assert default.utc_offset_hours == 7
    deadlines = default.deadlines
    assert deadlines[DeadlineCode.T1].due == d("1WD")
    assert deadlines[DeadlineCode.T1].due_child_safety == d("0WD")
    assert deadlines[DeadlineCode.T1].basis == "default; 120-ФЗ ст. 9"
    assert deadlines[DeadlineCode.T2].due == d("5WD")
    assert deadlines[DeadlineCode.T2].basis == "442-ФЗ ст. 15 ч. 2"
    assert deadlines[DeadlineCode.T3].due == d("10WD")
    assert deadlines[DeadlineCode.T3].basis == "442-ФЗ ст. 16 ч. 3, ст. 22"
    assert deadlines[DeadlineCode.T4].due_l3 == d("0WD")
    assert deadlines[DeadlineCode.T7].opens_before == d("10WD")
    assert deadlines[DeadlineCode.T8].due == d("P3Y")
    assert deadlines[DeadlineCode.T8].basis == "442-ФЗ ст. 16 ч. 2"
    assert [f.value for f in default.follow_ups] == [d("P3M"), d("P6M")]
    assert default.total_term_without_consilium.value == d("P12M")
    assert default.max_total_term.value == d("P24M")


def test_the_default_levels(default: Policy) -> None:
    table = {
        level: (str(p.contact_every), str(p.review_every), str(p.initial_term))
        for level, p in default.levels.items()
    }
    assert table == {
        AccompanimentLevel.L0: ("None", "None", "P30D"),
        AccompanimentLevel.L1: ("P30D", "P3M", "P6M"),
        AccompanimentLevel.L2: ("P15D", "P1M", "P6M"),
        AccompanimentLevel.L3: ("P7D", "P2W", "P3M"),
    }
    assert default.levels[L3].first_contact == d("0WD")


def test_the_legal_deadlines_escalate_to_the_ministry(default: Policy) -> None:
    t2 = default.deadlines[DeadlineCode.T2]
    assert t2.reminder_before == d("1WD")
    assert [(r.level, str(r.after_due), r.notify, r.marks_overdue) for r in t2.ladder] == [
        (1, "PT0S", Role.SUPERVISOR, True),
        (2, "1WD", Role.HEAD, False),
        (3, "2WD", Role.MINISTRY, False),
    ]
    assert default.deadlines[DeadlineCode.T3].ladder == t2.ladder
    assert default.deadlines[DeadlineCode.T10].ladder[0].notify is Role.RESPONSIBLE
    assert default.deadlines[DeadlineCode.T9].overdue_rung.notify is Role.CURATOR


def test_due_variants(default: Policy) -> None:
    t1, t4 = default.deadlines[DeadlineCode.T1], default.deadlines[DeadlineCode.T4]
    assert t1.due_for() == d("1WD")
    assert t1.due_for(child_safety=True) == d("0WD")
    assert t4.due_for(level=AccompanimentLevel.L2) == d("3WD")
    assert t4.due_for(level=L3) == d("0WD")
    assert default.deadlines[DeadlineCode.T5].due_for(level=L3) is None


def test_closure_approvals(default: Policy) -> None:
    # The eleven first reasons, and 442-ФЗ ст. 18's: death_or_missing split in two (the old
    # value stays readable), a court decision, breach of the agreement, liquidation.
    assert len(ClosureReason) == 16
    assert not default.needs_approval(ClosureReason.DUPLICATE)
    assert not default.needs_approval(ClosureReason.NO_MINOR_CHILDREN)
    assert default.needs_approval(ClosureReason.NO_CONTACT)
    assert default.needs_approval(ClosureReason.GOALS_ACHIEVED)
    for reason in ("death", "missing", "court_decision", "agreement_breach"):
        assert default.needs_approval(ClosureReason(reason))
    assert default.needs_approval(ClosureReason.PROVIDER_LIQUIDATED)
    assert len(default.closures_needing_approval) == 14


def test_social_contract(default: Policy) -> None:
    terms = {k: str(v.value) for k, v in default.social_contract_terms.items()}
    assert terms == {
        SocialContractDirection.JOB_SEARCH: "P9M",
        SocialContractDirection.ENTREPRENEURSHIP: "P12M",
        SocialContractDirection.SUBSIDIARY_FARMING: "P12M",
        SocialContractDirection.OTHER: "P6M",
    }
    assert default.social_contract_monitoring.every == d("P1M")
    assert default.social_contract_monitoring.after_end == d("P12M")


def test_every_figure_has_a_source(default: Policy) -> None:
    sources = [p.source for p in default.levels.values()]
    sources += [p.basis for p in default.deadlines.values()]
    sources += [p.escalation_basis for p in default.deadlines.values()]
    sources += [f.source for f in default.follow_ups]
    sources += [t.source for t in default.social_contract_terms.values()]
    assert all(source.strip() for source in sources)


def test_the_compressed_policy_runs_on_seconds(compressed: Policy, default: Policy) -> None:
    assert compressed.version == "compressed-2"
    assert compressed.deadlines[DeadlineCode.T2].due == d("PT50S")
    found = list(durations(compressed))
    assert len(found) == len(list(durations(default)))  # the same structure
    assert not [x for x in found if x.is_working_days or x.calendar_months]
    # Reminders come before any due they can precede, so each is actually sent.
    shortest_due = min(
        x.fixed_part
        for x in [
            *(dl.due_for(child_safety=True) for dl in compressed.deadlines.values()),
            *(dl.due_for(level=L3) for dl in compressed.deadlines.values()),
        ]
        if x is not None and not x.is_zero_span
    )
    for code in (DeadlineCode.T1, DeadlineCode.T4, DeadlineCode.T5):
        reminder = compressed.deadlines[code].reminder_before
        assert reminder is not None
        assert reminder.fixed_part < shortest_due


def test_json_round_trip(default: Policy, compressed: Policy) -> None:
    for policy in (default, compressed):
        text = policy.model_dump_json()
        assert Policy.model_validate_json(text) == policy
    assert '"due":"5WD"' in default.model_dump_json()


def test_temporal_pydantic_converter_round_trip(default: Policy) -> None:
    converter = pydantic_data_converter.payload_converter
    calendar = load_calendar()
    payloads = converter.to_payloads([default, calendar])
    assert converter.from_payloads(payloads, [Policy, WorkingCalendar]) == [default, calendar]


def test_path_and_name_load_the_same(default: Policy) -> None:
    assert load_policy(PACKAGE / "default.toml") == default
    assert load_policy(str(PACKAGE / "default.toml")) == default


def test_frozen(default: Policy) -> None:
    with pytest.raises(ValueError, match="frozen"):
        default.version = "x"  # type: ignore[misc]


Mutation = Callable[[dict[str, Any]], None]


def _drop_level(p: dict[str, Any]) -> None:
    del p["levels"]["L2"]


def _drop_deadline(p: dict[str, Any]) -> None:
    del p["deadlines"]["T6"]


def _bad_duration(p: dict[str, Any]) -> None:
    p["deadlines"]["T2"]["due"] = "5 WD"


def _non_increasing_rungs(p: dict[str, Any]) -> None:
    p["deadlines"]["T3"]["ladder"][2]["level"] = 2


def _rungs_not_from_one(p: dict[str, Any]) -> None:
    for rung in p["deadlines"]["T4"]["ladder"]:
        rung["level"] += 1


def _two_overdue_rungs(p: dict[str, Any]) -> None:
    p["deadlines"]["T2"]["ladder"][1]["marks_overdue"] = True


def _rungs_out_of_time_order(p: dict[str, Any]) -> None:
    p["deadlines"]["T2"]["ladder"][2]["after_due"] = "PT0S"


def _wrong_code(p: dict[str, Any]) -> None:
    p["deadlines"]["T8"]["code"] = "T9"


def _due_where_the_level_decides(p: dict[str, Any]) -> None:
    p["deadlines"]["T5"]["due"] = "P7D"


def _missing_due(p: dict[str, Any]) -> None:
    del p["deadlines"]["T3"]["due"]


def _no_prolongation_window(p: dict[str, Any]) -> None:
    del p["deadlines"]["T7"]["opens_before"]


def _typo(p: dict[str, Any]) -> None:
    p["deadlines"]["T1"]["reminder_befor"] = p["deadlines"]["T1"].pop("reminder_before")


def _unknown_level(p: dict[str, Any]) -> None:
    p["levels"]["L4"] = p["levels"]["L3"]


def _follow_ups_out_of_order(p: dict[str, Any]) -> None:
    p["follow_ups"].reverse()


def _terms_out_of_order(p: dict[str, Any]) -> None:
    p["max_total_term"]["value"] = "P6M"


def _blank_source(p: dict[str, Any]) -> None:
    p["levels"]["L1"]["source"] = " "


def _missing_direction(p: dict[str, Any]) -> None:
    del p["social_contract_terms"]["other"]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (_drop_level, "levels.L2: missing"),
        (_drop_deadline, "deadlines.T6: missing"),
        (_bad_duration, "deadlines.T2.due: invalid duration '5 WD'"),
        (_non_increasing_rungs, "deadlines.T3.ladder: rung levels must start at 1 and strictly"),
        (_rungs_not_from_one, "deadlines.T4.ladder: rung levels must start at 1"),
        (_two_overdue_rungs, "deadlines.T2.ladder: exactly one rung must mark overdue"),
        (_rungs_out_of_time_order, "deadlines.T2.ladder: rung 3 (PT0S) would fire before"),
        (_wrong_code, "deadlines.T8.code: is T9, must match its key T8"),
        (_due_where_the_level_decides, "deadlines.T5.due: must be absent"),
        (_missing_due, "deadlines.T3.due: missing"),
        (_no_prolongation_window, "deadlines.T7.opens_before: missing"),
        (_typo, "deadlines.T1.reminder_befor: Extra inputs are not permitted"),
        (_unknown_level, "levels.L4.[key]: Input should be 'L0', 'L1', 'L2' or 'L3'"),
        (_follow_ups_out_of_order, "follow_ups[1]: P3M must come after P6M"),
        (_terms_out_of_order, "max_total_term: shorter than total_term_without_consilium"),
        (_blank_source, "levels.L1.source: String should match pattern"),
        (_missing_direction, "social_contract_terms.other: missing"),
    ],
)
def test_a_broken_policy_names_the_key(tmp_path: Path, mutate: Mutation, expected: str) -> None:
    data = copy.deepcopy(raw("default"))
    mutate(data)
    path = tmp_path / "broken.toml"
    path.write_text(_to_toml(data), encoding="utf-8")
    with pytest.raises(PolicyFileError) as caught:
        load_policy(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: invalid policy:")
    assert expected in message


def test_missing_and_malformed_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError, match=r"nope\.toml: no such policy file.*compressed"):
        load_policy("nope")
    bad = tmp_path / "bad.toml"
    bad.write_text("version = \n", encoding="utf-8")
    with pytest.raises(PolicyFileError, match=r"bad\.toml: not valid TOML"):
        load_policy(bad)


def test_policy_modules_import_only_the_standard_library_and_pydantic() -> None:
    # Workflow code imports these inside the Temporal sandbox: no holidays, no file reading.
    for name in ("codes", "durations", "calendar", "deadlines", "policy", "__init__"):
        tree = ast.parse((PACKAGE / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                roots = [(node.module or "").split(".")[0]]
                if node.module and node.module.startswith("models.policy.loader"):
                    roots = ["loader"]
            else:
                continue
            for root in roots:
                allowed = root in sys.stdlib_module_names or root in ("pydantic", "pydantic_core")
                assert allowed or root == "models", f"{name}.py imports {root}"
                assert root not in ("tomllib", "loader"), f"{name}.py imports {root}"


def _to_toml(value: dict[str, Any]) -> str:
    """A minimal TOML writer for the test's mutated policies (inline tables throughout)."""
    return "\n".join(f"{key} = {_toml_value(item)}" for key, item in value.items()) + "\n"


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f'"{k}" = {_toml_value(v)}' for k, v in value.items()) + "}"
    raise TypeError(value)


@pytest.mark.parametrize("name", ["default", "compressed"])
def test_every_figure_of_the_issue_13_additions_names_its_source(name: str) -> None:
    policy = load_policy(name)
    assert policy.social_contract_min_term is not None
    assert policy.social_contract_min_term.source.strip()
    assert policy.prolongation_approvers is not None
    assert policy.prolongation_approvers.source.strip()
    for code in (DeadlineCode.T11, DeadlineCode.T12, DeadlineCode.T13):
        rules = policy.deadlines[code]
        assert rules.basis.strip()
        assert rules.escalation_basis.strip()
    assert "442-ФЗ ст. 17" in policy.deadlines[DeadlineCode.T11].basis
    assert all(
        "1931" in term.source for term in load_policy("default").social_contract_terms.values()
    )


def test_a_policy_written_before_t11_to_t13_still_loads() -> None:
    """An older case keeps the policy it started under (in its workflow state): one without
    the later deadlines and sections must still validate, or its history would not replay."""
    data = load_policy("default").model_dump(mode="json")
    for code in ("T11", "T12", "T13"):
        del data["deadlines"][code]
    del data["social_contract_min_term"], data["prolongation_approvers"]
    older = Policy.model_validate(data)
    assert DeadlineCode.T11 not in older.deadlines
    assert older.prolongation_approvers is None
