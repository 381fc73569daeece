"""What `make bench` prints: the steps against bare Temporal, intake alone, the worker's
memory per cached case and the replay time of the longest history."""

import math

from rich.console import Console
from rich.table import Table

from models.settings import DEFAULT_MAX_CACHED_WORKFLOWS
from workers.bench.codec_cost import CodecCost
from workers.bench.measure import Side, percentile
from workers.bench.options import BenchOptions, BenchResult
from workers.bench.replay_time import ReplayTime
from workers.bench.worker_memory import WorkerMemory

# Issue 9's targets: a step and an intake as cheap as bare Temporal's.
TARGET_THROUGHPUT_RATIO = 1.0
TARGET_P99_RATIO = 1.2
KURATOR_ONLY = {"PostgreSQL", "API process"}  # processes the bare side does not use


def _ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1000:.1f}"


def _ratio(kurator: float, bare: float) -> str:
    if not bare or math.isnan(bare) or math.isnan(kurator):
        return "-"
    return f"{kurator / bare:.2f}×"


def report(result: BenchResult, options: BenchOptions, console: Console) -> None:
    """Everything `kurator bench` measured, in the order it ran."""
    _steps(result.bare, result.kurator, result.codec, options, console)
    report_intake(result.bare_intake, result.kurator_intake, options, console)
    if result.memory is not None:
        _memory(result.memory, console)
    if result.replay is not None:
        _replay(result.replay, console)
    for note in result.notes:
        console.print(f"[yellow]{note}[/]")


class _Comparison:
    """A table of bare Temporal against Kurator, a ratio (or what Kurator adds) per row."""

    def __init__(self, bare: Side, kurator: Side, title: str, caption: str = "") -> None:
        self.bare, self.kurator = bare, kurator
        self.table = Table(title=title, caption=caption or None)
        self.table.add_column("", no_wrap=True)
        for column in (bare.name, kurator.name, "Kurator / bare"):
            self.table.add_column(column, justify="right")

    def counts(self, label: str, of_bare: int, of_kurator: int) -> None:
        self.table.add_row(label, str(of_bare), str(of_kurator), "")

    def row(
        self, label: str, of_bare: float, of_kurator: float, *, ms: bool = True, added: bool = False
    ) -> None:
        """`added`: bare does next to none of this work, so show what Kurator adds."""
        shown = _ms if ms else (lambda value: f"{value:.1f}")
        versus = f"+{_ms(of_kurator - of_bare)} ms" if added else _ratio(of_kurator, of_bare)
        self.table.add_row(label, shown(of_bare), shown(of_kurator), versus)

    def cpu(self, per: str, bare_calls: int, kurator_calls: int) -> None:
        """CPU per call of each process, and of all of them."""
        bare, kurator = self.bare.cpu, self.kurator.cpu
        for name in sorted(set(bare) | set(kurator)):
            self.row(
                f"CPU/{per}, ms: {name}",
                bare.get(name, 0.0) / max(1, bare_calls),
                kurator.get(name, 0.0) / max(1, kurator_calls),
                added=name in KURATOR_ONLY,
            )
        self.row(
            f"CPU/{per}, ms: all",
            sum(bare.values()) / max(1, bare_calls),
            sum(kurator.values()) / max(1, kurator_calls),
        )


def _steps(
    bare: Side, kurator: Side, codec: CodecCost, options: BenchOptions, console: Console
) -> None:
    where = "in a child process" if options.api_process else "in the bench process"
    compared = _Comparison(
        bare,
        kurator,
        title="Kurator against bare Temporal, same server, same run",
        caption=f"{options.cases} cases × {options.steps} steps a side, {options.concurrency} "
        f"in flight, {options.rounds} alternating rounds; API {where}; Temporal on a file; "
        f"workflow cache {options.cached_workflows} a worker",
    )
    row = compared.row
    compared.counts("cases completed", bare.cases_done, kurator.cases_done)
    compared.counts("steps", len(bare.steps), len(kurator.steps))
    row("wall time, s", bare.elapsed, kurator.elapsed, ms=False)
    row("throughput, steps/s", bare.throughput, kurator.throughput, ms=False)
    row("step p50, ms", percentile(bare.steps, 0.5), percentile(kurator.steps, 0.5))
    row("step p99, ms", percentile(bare.steps, 0.99), percentile(kurator.steps, 0.99))
    row("open p50, ms", percentile(bare.starts, 0.5), percentile(kurator.starts, 0.5))
    row("open p99, ms", percentile(bare.starts, 0.99), percentile(kurator.starts, 0.99))
    for label, fraction in (("step activity p50, ms", 0.5), ("step activity p99, ms", 0.99)):
        activity = (percentile(bare.activity, fraction), percentile(kurator.activity, fraction))
        row(label, *activity, added=True)
    compared.cpu(
        "call", len(bare.steps) + len(bare.starts), len(kurator.steps) + len(kurator.starts)
    )
    table = compared.table
    console.print(table)
    console.print(
        "A step: bare, an update running a no-op activity; Kurator, POST /contacts: token, "
        "case read, update, persist_step activity (one PostgreSQL transaction: events, "
        "notifications, projection), search attributes. Open: update-with-start; bare runs "
        "its start activity, Kurator records the family, gives the policy in the start's "
        "input, numbers the case and persists the intake. "
        "CPU/call: per open or step, by process.",
        highlight=False,
    )
    _stopped_early(bare, kurator, options.max_seconds / 2, options.cases, console)
    console.print(
        f"Codec alone, one contact step's 4 payloads encoded and decoded: sealed "
        f"{codec.sealed_us:.0f} µs, plain {codec.plain_us:.0f} µs ({codec.ratio:.2f}×, "
        f"+{codec.sealed_us - codec.plain_us:.0f} µs a step); stored {codec.sealed_bytes} "
        f"bytes sealed, {codec.plain_bytes} plain."
        + ("" if options.seal else " Kurator ran unsealed (--no-seal) above."),
        highlight=False,
    )
    _round_by_round("Throughput", bare, kurator, console)
    throughput = kurator.throughput / bare.throughput if bare.throughput else math.nan
    p99 = percentile(kurator.steps, 0.99) / percentile(bare.steps, 0.99)
    console.print(_against_targets("Throughput", throughput, p99), highlight=False)


def _against_targets(what: str, throughput: float, p99: float) -> str:
    return (
        f"{what} ratio {throughput:.2f} (target ≥ {TARGET_THROUGHPUT_RATIO}): "
        f"{'met' if throughput >= TARGET_THROUGHPUT_RATIO else 'NOT met'}; "
        f"p99 ratio {p99:.2f} (target ≤ {TARGET_P99_RATIO}): "
        f"{'met' if p99 <= TARGET_P99_RATIO else 'NOT met'}"
    )


def _stopped_early(bare: Side, kurator: Side, budget: float, cases: int, console: Console) -> None:
    """Say which side ran out of its time budget (seconds) before its `cases` were opened."""
    for side in (bare, kurator):
        if side.stopped_early:
            console.print(
                f"[yellow]{side.name} stopped early: its time budget ({budget:.0f} s a side) "
                f"ran out after {len(side.starts)} of {cases} cases opened[/]"
            )


def _round_by_round(what: str, bare: Side, kurator: Side, console: Console) -> None:
    """The throughput ratio of each pair of rounds, and their spread: how far one round's
    figure can be trusted on this machine."""
    spread = [
        kurator_round / bare_round
        for bare_round, kurator_round in zip(
            bare.round_throughput, kurator.round_throughput, strict=False
        )
        if bare_round
    ]
    if spread:
        console.print(
            f"{what} ratio round by round: "
            + ", ".join(f"{ratio:.2f}" for ratio in spread)
            + f" (spread {min(spread):.2f}–{max(spread):.2f})",
            highlight=False,
        )


def report_intake(bare: Side, kurator: Side, options: BenchOptions, console: Console) -> None:
    """Opens alone: bare update-with-start against Kurator's POST /cases, same concurrency."""
    compared = _Comparison(
        bare,
        kurator,
        title="Intake alone: cases opened, no steps, same concurrency",
        caption=f"{options.intake_cases} cases a side, {options.concurrency} in flight, "
        f"{options.rounds} alternating rounds",
    )
    compared.counts("cases opened", len(bare.starts), len(kurator.starts))
    compared.row("wall time, s", bare.elapsed, kurator.elapsed, ms=False)
    compared.row("throughput, cases/s", bare.open_throughput, kurator.open_throughput, ms=False)
    for label, fraction in (("open p50, ms", 0.5), ("open p99, ms", 0.99)):
        compared.row(label, percentile(bare.starts, fraction), percentile(kurator.starts, fraction))
    compared.cpu("open", len(bare.starts), len(kurator.starts))
    table = compared.table
    console.print(table)
    _stopped_early(bare, kurator, options.max_seconds / 4, options.intake_cases, console)
    _round_by_round("Intake throughput", bare, kurator, console)
    ratio = kurator.open_throughput / bare.open_throughput if bare.open_throughput else math.nan
    p99 = percentile(kurator.starts, 0.99) / percentile(bare.starts, 0.99)
    console.print(_against_targets("Intake throughput", ratio, p99), highlight=False)


def _memory(memory: WorkerMemory, console: Console) -> None:
    mib = 1024 * 1024
    full_cache = memory.per_thousand * DEFAULT_MAX_CACHED_WORKFLOWS / 1000
    console.print(
        f"Worker memory: a `kurator worker` process grew by {memory.per_thousand / mib:.0f} MiB "
        f"per 1,000 cached cases ({memory.cases} cases opened, each an intake and a step; "
        f"{memory.cached} in its cache by its own metrics, max_cached_workflows "
        f"{memory.max_cached}; resident {memory.rss_before / mib:.0f} → "
        f"{memory.rss_after / mib:.0f} MiB). At the default KURATOR_MAX_CACHED_WORKFLOWS "
        f"({DEFAULT_MAX_CACHED_WORKFLOWS}) a full cache is about "
        f"{full_cache / mib:.0f} MiB over the worker's base.",
        highlight=False,
    )


def _replay(replay: ReplayTime, console: Console) -> None:
    runs = ", ".join(f"{seconds * 1000:.0f}" for seconds in replay.seconds)
    console.print(
        f"Replay (a cache miss): the longest committed history, {replay.name} "
        f"({replay.workflow_type}, {replay.events} events, {replay.stored_bytes / 1024:.0f} KB), "
        f"replays in {replay.median * 1000:.0f} ms (median of {len(replay.seconds)}: {runs} ms) "
        "in the worker's sandbox, every payload opened.",
        highlight=False,
    )
