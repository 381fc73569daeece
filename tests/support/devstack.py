"""Running `kurator dev` as a user would, in a subprocess, on free ports."""

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from tests.support.ports import server_port


@dataclass
class RunningDev:
    process: subprocess.Popen[str]
    api_port: int
    temporal_port: int
    ui_port: int
    data_dir: Path
    worker_metrics_port: int
    api_metrics_port: int

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def descendants(self) -> list[psutil.Process]:
        children: list[psutil.Process] = psutil.Process(self.process.pid).children(recursive=True)
        return children

    def wait_healthy(self, within: float = 60) -> float:
        """Seconds until /health answered 200; fails with the output if it never does."""
        started = time.monotonic()
        while time.monotonic() - started < within:
            if self.process.poll() is not None:
                raise AssertionError(f"kurator dev exited early: {self.output()}")
            try:
                if httpx.get(f"{self.api}/health", timeout=5).status_code == 200:
                    return time.monotonic() - started
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        raise AssertionError(f"/health not 200 within {within}s")

    def interrupt(self, within: float = 60) -> int:
        """Ctrl-C, as a terminal would send it; the exit status."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=within)

    def output(self) -> str:
        if self.process.poll() is None:
            return "(still running)"
        assert self.process.stderr is not None
        return self.process.stderr.read()


def start_dev(
    data_dir: Path,
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    **settings: str,
) -> RunningDev:
    """`kurator dev` on free ports; `env` (default: this process's, less KURATOR_*) and `cwd`
    let it run from another checkout."""
    if env is None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KURATOR_")}
    env = dict(env)
    ports = {"api": server_port(), "temporal": server_port(), "ui": server_port()}
    ports |= {"worker_metrics": server_port(), "api_metrics": server_port(), "smtp": server_port()}
    env.update(
        KURATOR_DATA_DIR=str(data_dir),
        KURATOR_API_PORT=str(ports["api"]),
        KURATOR_TEMPORAL_PORT=str(ports["temporal"]),
        KURATOR_TEMPORAL_UI_PORT=str(ports["ui"]),
        KURATOR_WORKER_METRICS_PORT=str(ports["worker_metrics"]),
        KURATOR_API_METRICS_PORT=str(ports["api_metrics"]),
        KURATOR_DEV_SMTP_PORT=str(ports["smtp"]),
        KURATOR_LOG_FORMAT="json",
    )
    env.update(settings)
    ports["api"] = int(env["KURATOR_API_PORT"])
    process = subprocess.Popen(
        [sys.executable, "-m", "workers.cli", "dev"],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    return RunningDev(
        process,
        ports["api"],
        ports["temporal"],
        ports["ui"],
        data_dir,
        int(env["KURATOR_WORKER_METRICS_PORT"]),
        int(env["KURATOR_API_METRICS_PORT"]),
    )
