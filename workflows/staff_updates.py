"""Workflow Updates derived from the staff-action catalogue (models/lifecycle/actions.py).

`staff_update(Action.X)` in a workflow class body makes a real `@workflow.update` named after
the action, taking the action's command type, with a validator: the Web UI, the SDK's client
and replay see exactly what hand-written handlers would give them. Both the validator and the
handler ask the catalogue's row (stage, role, territory, precondition); the handler applies its
transition as one step of the workflow (`CaseRuntime._take`).
"""

from collections.abc import Callable
from typing import Any, TypeVar, cast

from temporalio import workflow
from temporalio.workflow import UpdateMethodMultiParam

with workflow.unsafe.imports_passed_through():
    from models.lifecycle.actions import ACTIONS, Action
    from models.lifecycle.state import CaseState
    from models.payloads.actions import StaffAction
    from models.payloads.case_view import CaseView

from workflows.case_runtime import CaseRuntime

Result = TypeVar("Result")


def _view(state: CaseState, view: CaseView) -> CaseView:
    return view


def staff_update(action: Action) -> UpdateMethodMultiParam[[Any, StaffAction], CaseView]:
    """The update for `action`, answering with the case's new view."""
    return staff_update_answering(action, CaseView, _view)


def staff_update_answering(
    action: Action, result: type[Result], answer: Callable[[CaseState, CaseView], Result]
) -> UpdateMethodMultiParam[[Any, StaffAction], Result]:
    """The update for `action`, answering with `answer(new state, new view)`."""
    spec = ACTIONS[action]

    async def handler(self: CaseRuntime, command: StaffAction) -> Result:
        state, view = await self._take(spec, command)
        return answer(state, view)

    def validator(self: CaseRuntime, command: StaffAction) -> None:
        self._validate(spec, command)

    # The SDK reads the payload types from the annotations: the command type of this action.
    for function in (handler, validator):
        function.__annotations__ = {"command": spec.command, "return": None}
    handler.__annotations__["return"] = result
    handler.__name__ = handler.__qualname__ = action.value
    update = workflow.update(description=spec.summary)(handler)
    update.validator(validator)
    # The SDK's protocol types the result as the coroutine; clients see `Result`.
    return cast(UpdateMethodMultiParam[[Any, StaffAction], Result], update)
