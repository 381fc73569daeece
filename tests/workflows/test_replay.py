"""Today's workflow code replays the committed histories of earlier cases without a
non-determinism error, through Kurator's sealing converter.

A case lives for up to two years, so the code that resumes it after a deploy is not the code
that started it: every committed history must replay step for step. Two sets, of the same
scenarios, recorded by `python -m tests.workflows.record_histories` (see its docstring for
when to do it):

- `histories/sealed/`: every payload sealed with its family's data key; the keys come from
  the committed fixture `histories/sealed/data-keys.json`, not from a database.
- `histories/legacy/`: plain payloads, as histories recorded before sealing hold them; they
  replay because the codec passes unsealed payloads through.
"""

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import Replayer

from infra.sealing.codec import is_sealed, key_id_of
from infra.sealing.converter import sealing_data_converter
from infra.sealing.payloads import payloads_of
from tests.support.sealing import StaticKeySource
from workflows.case import CaseWorkflow
from workflows.follow_up import CaseFollowUpWorkflow

HISTORIES = Path(__file__).resolve().parent / "histories"
SEALED = sorted((HISTORIES / "sealed").glob("*.json"))
LEGACY = sorted((HISTORIES / "legacy").glob("*.json"))
DATA_KEYS = HISTORIES / "sealed" / "data-keys.json"
SEALED_HISTORIES = [path for path in SEALED if path != DATA_KEYS]
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
        if "search_attributes" not in where
    ]


@pytest.fixture(scope="module")
def fixture_keys() -> StaticKeySource:
    return StaticKeySource.read(DATA_KEYS)


@pytest.fixture(scope="module")
def converter(fixture_keys: StaticKeySource) -> DataConverter:
    """The sealing converter over the fixture's keys alone: no database is involved."""
    return sealing_data_converter(fixture_keys)


def test_the_committed_histories_are_found() -> None:
    for histories in (SEALED_HISTORIES, LEGACY):
        assert len(histories) >= 3, f"expected at least 3 histories, found {histories}"
        found = {_workflow_type(path) for path in histories}
        assert found == {"CaseWorkflow", "CaseFollowUpWorkflow"}
    assert [p.name for p in SEALED_HISTORIES] == [p.name for p in LEGACY]  # the same scenarios


@pytest.mark.parametrize("path", SEALED_HISTORIES, ids=[p.stem for p in SEALED_HISTORIES])
def test_a_sealed_history_is_sealed_throughout(path: Path, fixture_keys: StaticKeySource) -> None:
    payloads = _payloads(path)
    assert len(payloads) >= 10
    assert [where for where, sealed, _ in payloads if not sealed] == []
    [key_id] = {key_id for _, _, key_id in payloads}  # one family's key for the whole history
    assert key_id in {str(key.key_id) for key in fixture_keys.keys}


@pytest.mark.parametrize("path", LEGACY, ids=[p.stem for p in LEGACY])
def test_a_legacy_history_is_in_clear(path: Path) -> None:
    """The old histories hold plain payloads: replaying them tests the pass-through."""
    assert not any(sealed for _, sealed, _ in _payloads(path))


@pytest.mark.parametrize("path", ALL, ids=[f"{p.parent.name}/{p.stem}" for p in ALL])
async def test_history_replays_deterministically(
    path: Path, converter: DataConverter, fixture_keys: StaticKeySource
) -> None:
    replayer = Replayer(workflows=[CaseWorkflow, CaseFollowUpWorkflow], data_converter=converter)
    # Raises (temporalio.workflow.NondeterminismError among others) when the code would take
    # another path than the history did, or when a payload does not open.
    # A sealed history replays under its recorded workflow id, so that the codec finds the
    # family's key for what the replay encodes, as a worker resuming the case would.
    history = _load(path, fixture_keys.workflow_ids.get(path.stem) if path in SEALED else None)
    result = await replayer.replay_workflow(history)
    assert result.replay_failure is None
