"""Ports for the servers a test starts, safe when the suite runs on several processes.

A port the OS hands out for `bind(0)` comes from the ephemeral range (32768–60999 on Linux),
the same range every outgoing connection of every process draws from: between the probe and
the server's own bind, another test process's connection could take it ("port … is not
free"). These come from below that range, from a block of its own for each pytest-xdist
process, each handed out once per session and checked free first.
"""

import itertools
import os
import socket

_FIRST = 20_000
_BLOCK = 1_500  # ports per test process: the suite uses a few hundred
_MAX_PROCESSES = 8  # 20000–31999: below the ephemeral range


def _worker_index() -> int:
    name = os.environ.get("PYTEST_XDIST_WORKER", "gw0")  # gw0, gw1, …; unset: one process
    index = int(name.removeprefix("gw")) if name.removeprefix("gw").isdigit() else 0
    return index % _MAX_PROCESSES


_candidates = itertools.cycle(
    range(_FIRST + _worker_index() * _BLOCK, _FIRST + (_worker_index() + 1) * _BLOCK)
)


def server_port(host: str = "127.0.0.1") -> int:
    """A port on `host` nothing listens on now, which no other test process will pick."""
    for _ in range(_BLOCK):
        port = next(_candidates)
        with socket.socket() as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port left in this test process's block on {host}")
