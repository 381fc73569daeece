"""The workflows' staff updates are derived from the action catalogue, one for each row: real
`@workflow.update`s with validators, taking the row's command type, on the right workflow."""

from typing import Any

import pytest
from temporalio import workflow

from models.lifecycle.actions import ACTIONS, Action, StaffActionSpec, TakenBy
from models.payloads.actions import Actor
from models.payloads.case_start import SignalOutcome
from models.payloads.case_view import CaseView
from workflows.case import CaseWorkflow
from workflows.follow_up import CaseFollowUpWorkflow

WORKFLOWS: dict[TakenBy, type[Any]] = {
    TakenBy.CASE: CaseWorkflow,
    TakenBy.FOLLOW_UP: CaseFollowUpWorkflow,
}


@pytest.mark.parametrize("spec", ACTIONS.values(), ids=lambda spec: spec.action)
def test_each_action_is_an_update_with_a_validator(spec: StaffActionSpec[Any]) -> None:
    definition = workflow._Definition.from_class(WORKFLOWS[spec.taken_by])
    assert definition is not None
    update = definition.updates[spec.action.value]
    assert update.validator is not None
    assert update.arg_types == [spec.command]
    expected = SignalOutcome if spec.action is Action.RECEIVE_SIGNAL else CaseView
    assert update.ret_type is expected
    assert update.description == spec.summary


def test_no_workflow_has_an_update_the_catalogue_does_not_describe() -> None:
    for taken_by, workflow_class in WORKFLOWS.items():
        definition = workflow._Definition.from_class(workflow_class)
        assert definition is not None
        described = {spec.action.value for spec in ACTIONS.values() if spec.taken_by is taken_by}
        assert set(definition.updates) == described


def test_a_command_is_its_body_with_who_acts() -> None:
    body = ACTIONS[Action.RECORD_CONTACT].body(reached=False, comment="synthetic")
    actor = {"staff_id": "staff-1", "role": "specialist", "municipalities": ["berdsk"]}
    command = body.by(Actor.model_validate(actor))
    assert isinstance(command, ACTIONS[Action.RECORD_CONTACT].body)
    # The same flat JSON the committed histories hold: the body's fields beside `actor`.
    assert command.model_dump(mode="json") == {**body.model_dump(mode="json"), "actor": actor}
