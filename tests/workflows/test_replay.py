"""Today's workflow code replays the committed histories of earlier cases without a
non-determinism error, through Kurator's sealing converter.

A case lives for up to two years, so the code that resumes it after a deploy is not the code
that started it: every committed history must replay step for step. Three sets, of the same
scenarios, recorded by `python -m tests.workflows.record_histories` (see its docstring for
when to do it):

- `histories/compact/`: as Kurator writes them now: each case opened with its policy in the
  start's input (as the API opens it), each payload compressed against payload dictionary 1
  and sealed with its family's data key (the keys come from the committed
  fixture `data-keys.json` beside them, not from a database), each step persisted by a
  local activity, each case numbered at intake;
- `histories/case_number/`: the same, recorded before the payload dictionary (zlib alone)
  and before the API gave the policy (the case loads it by an activity);
- `histories/local_persist/`: the same, recorded before cases were numbered (before the
  `case-number-at-intake` patch): running cases without a number;
- `histories/sealed/`: sealed, recorded when each step was persisted by a regular activity
  (before the `persist-step-as-local-activity` patch);
- `histories/legacy/`: plain payloads and regular activities, as histories recorded before
  sealing hold them; they replay because the codec passes unsealed payloads through.
"""

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from infra.sealing.codec import (
    SEALED_ENCODING,
    UNPRIMED_SEALED_ENCODING,
    is_sealed,
    key_id_of,
)
from infra.sealing.converter import sealing_data_converter
from infra.sealing.payloads import payloads_of
from infra.sealing.static_keys import StaticKeySource
from tests.support.sdk_markers import sdk_marker_record
from workers.worker import SHARED_MODULES, workflow_runner
from workflows.case import CaseWorkflow
from workflows.follow_up import CaseFollowUpWorkflow
from workflows.social_contract import SocialContractWorkflow

HISTORIES = Path(__file__).resolve().parent / "histories"
SEALED_SETS = ("compact", "case_number", "local_persist", "sealed")
NUMBERED_SETS = ("compact", "case_number")
# The sets whose envelopes are compressed against payload dictionary 1.
PRIMED_SETS = ("compact",)
# The sets whose cases were opened with their policy context in the start's input.
API_CONTEXT_SETS = ("compact",)
LEGACY = sorted((HISTORIES / "legacy").glob("*.json"))
KEYS_FILE = "data-keys.json"
SEALED_HISTORIES = [
    path
    for name in SEALED_SETS
    for path in sorted((HISTORIES / name).glob("*.json"))
    if path.name != KEYS_FILE
]
ALL = SEALED_HISTORIES + LEGACY


def _load(path: Path, workflow_id: str | None = None) -> WorkflowHistory:
    return WorkflowHistory.from_json(workflow_id or path.stem, path.read_text(encoding="utf-8"))


def _workflow_type(path: Path) -> str:
    first = json.loads(path.read_text(encoding="utf-8"))["events"][0]
    name: str = first["workflowExecutionStartedEventAttributes"]["workflowType"]["name"]
    return name


def _payloads(path: Path) -> list[tuple[str, bool, str | None]]:
    """(path, sealed, key id) of each payload but search attributes (by design in clear)."""
    return [
        (where, is_sealed(payload), str(key_id_of(payload)) if is_sealed(payload) else None)
        for event in _load(path).events
        for where, payload in payloads_of(event, f"event {event.event_id}")
        if "search_attributes" not in where and not sdk_marker_record(where, payload)
    ]


def _keys_of(path: Path) -> StaticKeySource | None:
    """The data keys a sealed history's set was recorded with; None for a legacy one."""
    keys = path.parent / KEYS_FILE
    return StaticKeySource.read(keys) if path in SEALED_HISTORIES else None


def _ids(paths: list[Path]) -> list[str]:
    return [f"{p.parent.name}/{p.stem}" for p in paths]


def _persisted_by(path: Path) -> set[str]:
    """How the history's steps were persisted: by `activity` tasks, by `local` activities."""
    found = set()
    for event in _load(path).events:
        scheduled = event.activity_task_scheduled_event_attributes
        if scheduled.activity_type.name == "persist_step":
            found.add("activity")
        marker = event.marker_recorded_event_attributes
        if marker.marker_name == "core_local_activity":
            found.add("local")
    return found


# Scenarios recorded after the other sets were frozen: only in `local_persist` and the sets
# recorded since (the service agreement and a social contract's workflow, issue 13).
LATER_SCENARIOS = {"case_agreement_social_contract.json", "social_contract_monitored.json"}


def test_the_committed_histories_are_found() -> None:
    sets = [[p for p in SEALED_HISTORIES if p.parent.name == name] for name in SEALED_SETS]
    for histories in [*sets, LEGACY]:
        assert len(histories) >= 3, f"expected at least 3 histories, found {histories}"
        earlier = [p for p in histories if p.name not in LATER_SCENARIOS]
        found = {_workflow_type(path) for path in earlier}
        assert found == {"CaseWorkflow", "CaseFollowUpWorkflow"}
        assert [p.name for p in earlier] == [p.name for p in LEGACY]  # the same scenarios
    for name in ("compact", "local_persist"):
        histories = sets[SEALED_SETS.index(name)]
        later = {p.name: _workflow_type(p) for p in histories if p.name in LATER_SCENARIOS}
        assert later == {
            "case_agreement_social_contract.json": "CaseWorkflow",
            "social_contract_monitored.json": "SocialContractWorkflow",
        }, name


@pytest.mark.parametrize("path", ALL, ids=_ids(ALL))
def test_each_set_persists_its_steps_as_recorded(path: Path) -> None:
    """The sets cover both sides of the local-activity patch."""
    local = ("compact", "case_number", "local_persist")
    expected = {"local"} if path.parent.name in local else {"activity"}
    assert _persisted_by(path) == expected


def _numbered(path: Path) -> bool:
    """Whether the history's workflow showed a `CaseNumber` (given at intake, carried on to the
    follow-ups)."""
    return any(
        "CaseNumber"
        in event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
        for event in _load(path).events
    )


@pytest.mark.parametrize("path", ALL, ids=_ids(ALL))
def test_only_the_newest_set_numbers_its_cases(path: Path) -> None:
    """The older sets stand for cases opened before numbers: they replay without one. (A
    social contract's own workflow shows none in any set: its case's number is the case's.)"""
    case_history = _workflow_type(path) != "SocialContractWorkflow"
    assert _numbered(path) is (path.parent.name in NUMBERED_SETS and case_history)


@pytest.mark.parametrize("path", SEALED_HISTORIES, ids=_ids(SEALED_HISTORIES))
def test_a_sealed_history_is_sealed_throughout(path: Path) -> None:
    keys = _keys_of(path)
    assert keys is not None
    payloads = _payloads(path)
    assert len(payloads) >= 10
    assert [where for where, sealed, _ in payloads if not sealed] == []
    [key_id] = {key_id for _, _, key_id in payloads}  # one family's key for the whole history
    assert key_id in {str(key.key_id) for key in keys.keys}


CASE_STARTS = [p for p in ALL if p.stem.startswith("case_") and not p.stem.endswith("_run_2")]


@pytest.mark.parametrize("path", CASE_STARTS, ids=_ids(CASE_STARTS))
def test_each_set_gives_a_new_case_its_policy_as_recorded(path: Path) -> None:
    """The sets cover both sides of the API's policy context: the compact set's cases were
    opened with the policy in the start's input, the older ones loaded it by an activity."""
    loaded = [
        event
        for event in _load(path).events
        if event.activity_task_scheduled_event_attributes.activity_type.name == "load_case_policy"
    ]
    assert len(loaded) == (0 if path.parent.name in API_CONTEXT_SETS else 1)


@pytest.mark.parametrize("path", SEALED_HISTORIES, ids=_ids(SEALED_HISTORIES))
def test_each_set_seals_its_payloads_as_recorded(path: Path) -> None:
    """The sets cover both envelopes: compressed against the dictionary, and by zlib alone."""
    expected = SEALED_ENCODING if path.parent.name in PRIMED_SETS else UNPRIMED_SEALED_ENCODING
    encodings = {
        payload.metadata["encoding"]
        for event in _load(path).events
        for _, payload in payloads_of(event)
        if is_sealed(payload)
    }
    assert encodings == {expected}


@pytest.mark.parametrize("path", LEGACY, ids=[p.stem for p in LEGACY])
def test_a_legacy_history_is_in_clear(path: Path) -> None:
    """The old histories hold plain payloads: replaying them tests the pass-through."""
    assert not any(sealed for _, sealed, _ in _payloads(path))


def _helpers_sandboxed() -> SandboxedWorkflowRunner:
    """A sandbox that re-imports the workflow helper modules the worker passes through, so
    that a non-deterministic call in them (the clock, randomness, I/O) is caught."""
    restrictions = SandboxRestrictions.default.with_passthrough_modules(*SHARED_MODULES)
    return SandboxedWorkflowRunner(restrictions=restrictions)


RUNNERS = {"worker sandbox": workflow_runner, "helpers sandboxed": _helpers_sandboxed}


@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize("path", ALL, ids=_ids(ALL))
async def test_history_replays_deterministically(path: Path, runner: str) -> None:
    keys = _keys_of(path)
    # The sealing converter over the set's keys alone: no database is involved (a legacy
    # history's plain payloads pass through it).
    converter = sealing_data_converter(keys or StaticKeySource([], {}))
    # In the worker's own sandbox (what is passed through there must replay as well), and in
    # one that re-imports the workflow helpers, where the sandbox checks every call they make.
    replayer = Replayer(
        workflows=[CaseWorkflow, CaseFollowUpWorkflow, SocialContractWorkflow],
        data_converter=converter,
        workflow_runner=RUNNERS[runner](),
    )
    # Raises (temporalio.workflow.NondeterminismError among others) when the code would take
    # another path than the history did, or when a payload does not open.
    # A sealed history replays under its recorded workflow id, so that the codec finds the
    # family's key for what the replay encodes, as a worker resuming the case would.
    history = _load(path, None if keys is None else keys.workflow_ids.get(path.stem))
    result = await replayer.replay_workflow(history)
    assert result.replay_failure is None
