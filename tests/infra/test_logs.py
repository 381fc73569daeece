"""Temporal's workflow and activity details become log fields, not message suffixes."""

import json
import logging

from infra.logs import build_formatter


def _record(**extra: object) -> logging.LogRecord:
    record = logging.LogRecord(
        "temporalio.workflow", logging.INFO, __file__, 1, "case opened", None, None
    )
    record.__dict__.update(extra)
    return record


def test_workflow_details_become_fields() -> None:
    record = _record(
        temporal_workflow={
            "workflow_id": "case-abc",
            "run_id": "run-1",
            "workflow_type": "CaseWorkflow",
            "namespace": "default",
            "attempt": 1,
        }
    )
    line = json.loads(build_formatter(console=False).format(record))
    assert line["event"] == "case opened"
    assert line["workflow_id"] == "case-abc"
    assert line["run_id"] == "run-1"
    assert line["workflow_type"] == "CaseWorkflow"
    assert "temporal_workflow" not in line
    assert line["level"] == "info"


def test_activity_details_become_fields() -> None:
    record = _record(
        temporal_activity={
            "activity_id": "7",
            "activity_type": "persist_step",
            "workflow_id": "case-abc",
            "workflow_run_id": "run-1",
        }
    )
    line = json.loads(build_formatter(console=False).format(record))
    assert line["activity_type"] == "persist_step"
    assert line["workflow_id"] == "case-abc"
    assert line["run_id"] == "run-1"
