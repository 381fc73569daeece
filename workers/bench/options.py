"""What `kurator bench` is asked to run, and what it measured."""

from dataclasses import dataclass, field

from models.settings import DEFAULT_MAX_CACHED_WORKFLOWS
from workers.bench.codec_cost import CodecCost
from workers.bench.measure import Side
from workers.bench.replay_time import ReplayTime
from workers.bench.worker_memory import WorkerMemory


@dataclass(frozen=True)
class BenchOptions:
    cases: int
    steps: int
    concurrency: int
    max_seconds: float
    warmup_cases: int
    api_process: bool
    rounds: int
    seal: bool = True  # False: Kurator talks to Temporal in plain JSON (`--no-seal`)
    cached_workflows: int = DEFAULT_MAX_CACHED_WORKFLOWS  # each worker's max_cached_workflows
    memory_cases: int = 500  # cases cached by the worker whose memory is read; 0: not measured
    replays: int = 5  # timed replays of the longest committed history; 0: not measured
    intake_cases: int = 160  # cases opened alone per side, for the intake's figures


@dataclass
class BenchResult:
    bare: Side  # steps (each round's cases opened, then stepped)
    kurator: Side
    bare_intake: Side  # opens alone
    kurator_intake: Side
    codec: CodecCost
    memory: WorkerMemory | None = None
    replay: ReplayTime | None = None
    notes: list[str] = field(default_factory=list)  # what was not measured, and why
