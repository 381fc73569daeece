"""Where PostgreSQL's service user can reach its binaries and data, when Kurator runs as root.

PostgreSQL refuses to run as root, so as root the embedded server runs as a system user. That
user must enter every directory above its binaries (in the venv) and its data directory. A
checkout in a directory only its owner may enter (`mktemp -d` makes 0700 ones; root's home is
0700) blocks it. We never open up the user's directories: what the service user cannot reach
is placed in a runtime directory of Kurator's own instead, one per data directory, owned by
root, mode 0755, under /var/tmp, and removed again when the server stops.
"""

import contextlib
import errno
import hashlib
import os
import pwd
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

SERVICE_USER = "embedded_postgres"
# /var/tmp rather than /tmp: /tmp is often a tmpfs, so moving a cluster there from the user's
# disk would copy it; and anyone can enter either. Not $TMPDIR: it may itself be private.
RUNTIME_PARENTS = (Path("/var/tmp"), Path("/tmp"))


class ServiceAccessError(RuntimeError):
    """The runtime directory cannot be used safely; says why."""


def ensure_service_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", SERVICE_USER], check=True)
        return pwd.getpwnam(SERVICE_USER)


def _allows(status: os.stat_result, user: pwd.struct_passwd, bits: int) -> bool:
    """Do the mode bits grant `bits` (as "other" bits, e.g. S_IXOTH) to `user`? It runs with
    its own group only (see EmbeddedPostgres), so owner, group and other are all there is."""
    if status.st_uid == user.pw_uid:
        shift = 6
    elif status.st_gid == user.pw_gid:
        shift = 3
    else:
        shift = 0
    return (status.st_mode >> shift) & bits == bits


def can_enter(directory: Path, user: pwd.struct_passwd) -> bool:
    """May `user` reach into `directory`: search permission on it and on every parent?"""
    return all(_allows(path.stat(), user, stat.S_IXOTH) for path in [directory, *directory.parents])


def _walk(top: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(top):
        for name in [*dirs, *files]:
            yield Path(root) / name


def _readable(path: Path, status: os.stat_result, user: pwd.struct_passwd) -> bool:
    if stat.S_ISDIR(status.st_mode):
        return _allows(status, user, stat.S_IROTH | stat.S_IXOTH)
    executable = bool(status.st_mode & stat.S_IXUSR)
    return _allows(status, user, stat.S_IROTH | (stat.S_IXOTH if executable else 0))


def tree_is_readable(tops: list[Path], user: pwd.struct_passwd) -> bool:
    """Can `user` reach and read every file under `tops` (and run the executables)?"""
    for top in tops:
        if not can_enter(top, user):
            return False
        for path in _walk(top):
            if not path.is_symlink() and not _readable(path, path.stat(), user):
                return False
    return True


def runtime_dir_for(data_dir: Path) -> Path:
    """The runtime directory of one data directory: the same one on every run, so a run that
    died can be recovered, and different for different data directories."""
    parent = next((p for p in RUNTIME_PARENTS if p.is_dir()), RUNTIME_PARENTS[-1])
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:16]
    return parent / f"kurator-postgres-{digest}"


def make_runtime_dir(path: Path) -> None:
    """Create `path` owned by root, mode 0755; refuse one someone else made or can write to
    (its parent is world-writable, so anyone could have made it first)."""
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o755)
    status = path.lstat()
    if not stat.S_ISDIR(status.st_mode) or status.st_uid != 0 or status.st_mode & 0o022:
        raise ServiceAccessError(
            f"refusing to use {path}: it is not a directory owned by root and writable only "
            "by root; remove it"
        )
    path.chmod(0o755)  # the umask may have taken bits away


def _link_or_copy(source: str, target: str) -> None:
    # A hard link shares the file's mode: use one only where the mode already lets the service
    # user read (and run) the file, so that nothing in the venv is ever chmod-ed.
    status = os.stat(source)
    if status.st_mode & stat.S_IROTH and (
        status.st_mode & stat.S_IXOTH or not status.st_mode & stat.S_IXUSR
    ):
        try:
            os.link(source, target)
            return
        except OSError as error:
            if error.errno not in {errno.EXDEV, errno.EPERM, errno.EMLINK}:
                raise
    shutil.copy2(source, target)
    executable = stat.S_IXOTH if status.st_mode & stat.S_IXUSR else 0
    os.chmod(target, stat.S_IMODE(status.st_mode) | stat.S_IROTH | executable)


def place_install(site_packages: Path, parts: list[str], target: Path) -> None:
    """Put the folders `parts` (relative to `site_packages`) into `target` at the same relative
    places, hard-linked where possible: the binaries find libpq through an RPATH relative to
    themselves. Directories are made 0755; files keep what the service user needs."""
    if target.exists():
        shutil.rmtree(target)
    for part in parts:
        destination = target / part
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(site_packages / part, destination, copy_function=_link_or_copy)
    for path in [target, *_walk(target)]:
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)


def chown_tree(top: Path, user: pwd.struct_passwd) -> None:
    """Give `top` and everything in it to `user`, never following a symbolic link."""
    for path in [top, *_walk(top)]:
        if path.lstat().st_uid != user.pw_uid:
            os.chown(path, user.pw_uid, user.pw_gid, follow_symlinks=False)
