"""The runtime directory the embedded PostgreSQL's service user is given, as root: made safely
in a world-writable place, and the reachability checks that decide when it is needed."""

import os
import pwd
import stat
from pathlib import Path

import pytest

from workers.devstack import service_access
from workers.devstack.service_access import ServiceAccessError

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the service user exists for root only")


@pytest.fixture(scope="module")
def user() -> pwd.struct_passwd:
    return service_access.ensure_service_user()


def test_runtime_dir_is_made_root_owned_and_open_to_read(tmp_path: Path) -> None:
    path = tmp_path / "runtime"
    service_access.make_runtime_dir(path)
    status = path.lstat()
    assert (status.st_uid, stat.S_IMODE(status.st_mode)) == (0, 0o755)
    service_access.make_runtime_dir(path)  # taken up again on the next run


@pytest.mark.parametrize("made_by", ["someone else", "anyone can write", "a symlink"])
def test_runtime_dir_made_by_someone_else_is_refused(
    tmp_path: Path, user: pwd.struct_passwd, made_by: str
) -> None:
    path = tmp_path / "runtime"
    if made_by == "a symlink":
        (tmp_path / "elsewhere").mkdir()
        path.symlink_to(tmp_path / "elsewhere")
    else:
        path.mkdir()
        if made_by == "someone else":
            os.chown(path, user.pw_uid, user.pw_gid)
        else:
            path.chmod(0o777)
    with pytest.raises(ServiceAccessError, match="refusing to use"):
        service_access.make_runtime_dir(path)


def test_a_private_parent_blocks_the_service_user(tmp_path: Path, user: pwd.struct_passwd) -> None:
    private = tmp_path / "private"
    inner = private / "inner"
    inner.mkdir(parents=True)
    private.chmod(0o700)
    assert not service_access.can_enter(inner, user)
    assert service_access.can_enter(Path("/var/tmp"), user)


def test_runtime_dirs_differ_per_data_dir() -> None:
    first = service_access.runtime_dir_for(Path("/srv/a/postgres"))
    assert first == service_access.runtime_dir_for(Path("/srv/a/postgres"))
    assert first != service_access.runtime_dir_for(Path("/srv/b/postgres"))
