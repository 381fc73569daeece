"""The folders' boundaries, as the README's layout states them: the API and the worker never
import each other, and what both share (infra/ and below) imports neither."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imported_packages(path: Path) -> set[str]:
    """The top-level packages and first subpackages a module imports (`workers.worker`, ...)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        found.update(".".join(name.split(".")[:2]) for name in names)
    return found


def modules(*folders: str) -> list[Path]:
    return [path for folder in folders for path in sorted((ROOT / folder).rglob("*.py"))]


@pytest.mark.parametrize("path", modules("api"), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_api_never_imports_the_workers(path: Path) -> None:
    assert not {p for p in imported_packages(path) if p.split(".")[0] == "workers"}


def test_the_worker_never_imports_the_api() -> None:
    assert not {p for p in imported_packages(ROOT / "workers/worker.py") if p.startswith("api")}


@pytest.mark.parametrize(
    "path",
    modules("infra", "models", "workflows", "activities", "deploy"),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_shared_code_imports_neither_composition_root(path: Path) -> None:
    roots = {p for p in imported_packages(path) if p.split(".")[0] in {"api", "workers"}}
    assert not roots, f"{path.relative_to(ROOT)} imports {sorted(roots)}"
