"""The API's action routes are derived from the action catalogue: one POST per row, at its
path, with its summary and its body type."""

from typing import Any

import pytest
from fastapi.routing import APIRoute

from api.routes.actions import router
from models.lifecycle.actions import ACTIONS, StaffActionSpec

ROUTES = {route.path: route for route in router.routes if isinstance(route, APIRoute)}


@pytest.mark.parametrize("spec", ACTIONS.values(), ids=lambda spec: spec.path)
def test_each_action_has_its_route(spec: StaffActionSpec[Any]) -> None:
    route = ROUTES[f"/api/v1/cases/{{case_id}}/{spec.path}"]
    assert route.methods == {"POST"}
    assert route.summary == spec.summary
    assert route.body_field is not None
    assert route.body_field.field_info.annotation is spec.body


def test_there_is_no_route_without_a_row() -> None:
    assert len(ROUTES) == len(ACTIONS)
