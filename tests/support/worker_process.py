"""`kurator worker` as production runs it, in a process of its own, for tests that kill it or
scrape it."""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from tests.support.sealing import TEST_MASTER_KEY_FILE

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def kurator_process(
    command: str, log: Path, settings: dict[str, str], *, stop_within: float = 30
) -> Iterator[subprocess.Popen[bytes]]:
    """`kurator <command>` with only the given KURATOR_* variables (this process's others
    left out), its output appended to `log`. Stopped (SIGTERM, then SIGKILL after
    `stop_within` seconds) at the end unless the test ended it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KURATOR_")}
    env.update(KURATOR_LOG_FORMAT="json", **settings)
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "workers.cli", command],
            env=env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=output,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=stop_within)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def worker_process(
    dev_env: WorkflowEnvironment, database_url: str, task_queue: str, log: Path, **settings: str
) -> Iterator[subprocess.Popen[bytes]]:
    """The worker on `task_queue`; `settings` are more KURATOR_* variables."""
    wanted = {
        "KURATOR_DATABASE_URL": database_url,
        "KURATOR_TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
        "KURATOR_TASK_QUEUE": task_queue,
        "KURATOR_MASTER_KEY_FILE": str(TEST_MASTER_KEY_FILE),
        **settings,
    }
    with kurator_process("worker", log, wanted) as process:
        yield process
