"""Child processes of `kurator dev`: started in their own session, stopped in order."""

import asyncio
import ctypes
import os
import signal
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # If `kurator dev` itself is killed (SIGKILL cannot be handled), the kernel sends the child
    # SIGTERM, so no server outlives it. Runs in the child between fork and exec.
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Child:
    """A started component: its name for messages, its process, and where its output goes."""

    name: str
    process: asyncio.subprocess.Process
    log_file: Path | None = None

    def exited(self) -> bool:
        return self.process.returncode is not None

    def log_tail(self, lines: int = 5) -> str:
        if self.log_file is None or not self.log_file.exists():
            return ""
        tail = self.log_file.read_text(errors="replace").strip().splitlines()[-lines:]
        return " / ".join(tail)

    async def stop(self, grace_seconds: float = 15) -> None:
        """SIGTERM, then SIGKILL if it has not exited within the grace period."""
        if self.exited():
            return
        self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), grace_seconds)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


async def spawn(
    name: str, command: Sequence[str], *, env: dict[str, str], log_file: Path | None = None
) -> Child:
    """Start a component. Its own session keeps a terminal's Ctrl-C away from it: the parent
    receives the signal and stops the components in order."""
    output: IO[bytes] | None = log_file.open("ab") if log_file is not None else None
    try:
        process = await asyncio.create_subprocess_exec(
            *command,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=output,
            stderr=output,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    finally:
        if output is not None:
            output.close()
    return Child(name=name, process=process, log_file=log_file)


def port_problem(host: str, port: int) -> str | None:
    """None when `port` can be bound on `host`, else why not."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # Ignore sockets in TIME_WAIT from a previous run; a live listener still conflicts.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            return os.strerror(error.errno) if error.errno else str(error)
    return None


def free_port(host: str = "127.0.0.1") -> int:
    """A port on `host` that nothing listens on now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
