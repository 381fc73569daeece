"""What a cache miss costs: the replay time of a recorded history with the real workflow code.

A worker that no longer holds a case in its cache (evicted, or restarted) replays the case's
whole history before it can take the next step. The histories replayed are the committed
lifecycles in tests/workflows/histories/ (recorded by tests.workflows.record_histories from
the demo's scenarios, sealed with their families' keys from the `data-keys.json` beside
them), so the bench need not run the demo (minutes of compressed-policy timers) to have one.
The replay runs in the worker's own sandbox and through the sealing converter: opening each
payload is part of a miss. Only in a checkout: an installed Kurator ships no histories.
"""

import json
import statistics
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from infra.sealing.converter import sealing_data_converter
from infra.sealing.static_keys import StaticKeySource
from workers.worker import WORKFLOWS, workflow_runner

HISTORIES = Path(__file__).resolve().parents[2] / "tests" / "workflows" / "histories"
# The set Kurator writes today (sealed against payload dictionary 1, steps as local
# activities, cases numbered).
CURRENT_SET = "compact"
KEYS_FILE = "data-keys.json"


@dataclass(frozen=True)
class ReplayTime:
    name: str  # "<set>/<file stem>", e.g. "compact/case_l2_goals_achieved"
    workflow_type: str
    events: int
    stored_bytes: int  # the history's events as protobuf, as Temporal stores them
    seconds: list[float]  # one replay each, after an unmeasured first one

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def committed_histories(root: Path = HISTORIES / CURRENT_SET) -> list[Path]:
    """The set's history files (not its key fixture), in a stable order."""
    return sorted(path for path in root.glob("*.json") if path.name != KEYS_FILE)


def event_count(path: Path) -> int:
    return len(json.loads(path.read_text(encoding="utf-8"))["events"])


def longest(paths: list[Path]) -> Path:
    """The history with the most events (the first of equals)."""
    if not paths:
        raise FileNotFoundError("no committed histories to replay (only a checkout has them)")
    return max(paths, key=event_count)


def _recorded(path: Path) -> tuple[StaticKeySource, WorkflowHistory]:
    """The history at `path` and the keys of its set (a few files of a few KB: read at once)."""
    keys = StaticKeySource.read(path.parent / KEYS_FILE)
    # Replayed under the id it was recorded with, so that the codec finds its family's key.
    workflow_id = keys.workflow_ids.get(path.stem, path.stem)
    return keys, WorkflowHistory.from_json(workflow_id, path.read_text(encoding="utf-8"))


async def replay_time(path: Path, repetitions: int = 5) -> ReplayTime:
    """Replay `path` once unmeasured (the sandbox's first imports), then `repetitions` times
    one after another in one replayer, timing each. Raises if it does not replay."""
    keys, history = _recorded(path)
    replayer = Replayer(
        workflows=list(WORKFLOWS),
        data_converter=sealing_data_converter(keys),
        workflow_runner=workflow_runner(),
    )
    fed: list[float] = []

    async def histories() -> AsyncIterator[WorkflowHistory]:
        for _ in range(repetitions + 1):
            fed.append(time.perf_counter())
            yield history

    seconds: list[float] = []
    async with replayer.workflow_replay_iterator(histories()) as results:
        async for result in results:
            if result.replay_failure is not None:
                raise result.replay_failure
            seconds.append(time.perf_counter() - fed[len(seconds)])
    started = history.events[0].workflow_execution_started_event_attributes
    return ReplayTime(
        name=f"{path.parent.name}/{path.stem}",
        workflow_type=started.workflow_type.name,
        events=len(history.events),
        stored_bytes=sum(event.ByteSize() for event in history.events),
        seconds=seconds[1:],
    )
