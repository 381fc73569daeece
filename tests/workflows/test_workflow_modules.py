"""The worker passes the workflow helper modules through its sandbox (workers/worker.py): each
`workflows` module is either a helper, with no workflow definition, or a workflow's own, which
stays sandboxed. A new module must be put on one side: a workflow passed through by mistake
would run unchecked, a helper left out would be re-imported for every case."""

import importlib
import inspect
import pkgutil

import pytest

import workflows
from workers.worker import WORKFLOW_HELPER_MODULES, WORKFLOWS


def _workflow_definitions(module_name: str) -> set[str]:
    """The workflow classes `module_name` defines (not those it imports)."""
    module = importlib.import_module(module_name)
    return {
        name
        for name, member in inspect.getmembers(module, inspect.isclass)
        if member.__module__ == module_name and hasattr(member, "__temporal_workflow_definition")
    }


WORKFLOW_MODULES = sorted(f"workflows.{m.name}" for m in pkgutil.iter_modules(workflows.__path__))


def test_every_workflow_module_is_a_helper_or_a_registered_workflows_own() -> None:
    registered = {workflow.__module__ for workflow in WORKFLOWS}
    assert set(WORKFLOW_HELPER_MODULES) <= set(WORKFLOW_MODULES)  # no stale name
    assert set(WORKFLOW_MODULES) == set(WORKFLOW_HELPER_MODULES) | registered
    assert not set(WORKFLOW_HELPER_MODULES) & registered


@pytest.mark.parametrize("module_name", WORKFLOW_HELPER_MODULES)
def test_a_helper_module_defines_no_workflow(module_name: str) -> None:
    assert _workflow_definitions(module_name) == set()


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.__name__)
def test_a_workflows_module_defines_it(workflow: type) -> None:
    assert workflow.__name__ in _workflow_definitions(workflow.__module__)
