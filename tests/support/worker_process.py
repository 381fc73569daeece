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
def worker_process(
    dev_env: WorkflowEnvironment, database_url: str, task_queue: str, log: Path, **settings: str
) -> Iterator[subprocess.Popen[bytes]]:
    """The worker on `task_queue`, its output appended to `log`; `settings` are more KURATOR_*
    variables. Stopped (SIGTERM, then SIGKILL) at the end unless the test ended it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KURATOR_")}
    env.update(
        KURATOR_DATABASE_URL=database_url,
        KURATOR_TEMPORAL_ADDRESS=dev_env.client.service_client.config.target_host,
        KURATOR_TASK_QUEUE=task_queue,
        KURATOR_LOG_FORMAT="json",
        KURATOR_MASTER_KEY_FILE=str(TEST_MASTER_KEY_FILE),
        **settings,
    )
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "workers.cli", "worker"],
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
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
