"""Today's workflow code replays the committed histories of earlier cases without a
non-determinism error.

A case lives for up to two years, so the code that resumes it after a deploy is not the code
that started it: every history in `histories/` must replay step for step. The histories are
recorded by `python -m tests.workflows.record_histories` (see its docstring for when to do it).
"""

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import Replayer

from workflows.case import CaseWorkflow
from workflows.follow_up import CaseFollowUpWorkflow

HISTORIES = Path(__file__).resolve().parent / "histories"
PATHS = sorted(HISTORIES.glob("*.json"))


def _load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))


def _workflow_type(path: Path) -> str:
    first = json.loads(path.read_text(encoding="utf-8"))["events"][0]
    name: str = first["workflowExecutionStartedEventAttributes"]["workflowType"]["name"]
    return name


def test_the_committed_histories_are_found() -> None:
    assert len(PATHS) >= 3, f"expected at least 3 histories in {HISTORIES}, found {PATHS}"
    assert {_workflow_type(path) for path in PATHS} == {"CaseWorkflow", "CaseFollowUpWorkflow"}


@pytest.mark.parametrize("path", PATHS, ids=[path.stem for path in PATHS])
async def test_history_replays_deterministically(path: Path, data_converter: DataConverter) -> None:
    replayer = Replayer(
        workflows=[CaseWorkflow, CaseFollowUpWorkflow], data_converter=data_converter
    )
    # Raises (temporalio.workflow.NondeterminismError among others) when the code would take
    # another path than the history did.
    result = await replayer.replay_workflow(_load(path))
    assert result.replay_failure is None
