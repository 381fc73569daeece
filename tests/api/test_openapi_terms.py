"""The OpenAPI description names the domain's terms in Russian beside English (PRODUCT.md):
the stages, the family's category, the service agreement, the social contract, the closure
reasons, and who decides a prolongation."""

import json
from typing import Any

import pytest

from api.app import create_app
from models.policy import ClosureReason, SocialContractDirection
from models.settings import Settings


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    described: dict[str, Any] = create_app(Settings.model_construct()).openapi()
    return described


def test_the_description_carries_the_glossary(openapi: dict[str, Any]) -> None:
    description = openapi["info"]["description"]
    for term in (
        "выявление",
        "снятие с сопровождения",
        "социально опасное положение, СОП",
        "договор о социальном обслуживании (442-ФЗ ст. 17)",
        "социальный контракт",
        "консилиум",
        "рабочая группа",
    ):
        assert term in description


def test_every_closure_reason_and_direction_is_named_in_russian(openapi: dict[str, Any]) -> None:
    schemas = openapi["components"]["schemas"]
    closure = schemas["ClosureRequestBody"]["properties"]["reason"]["description"]
    for reason in ClosureReason:
        assert f"{reason}" in closure
    assert "решение суда" in closure
    assert "ликвидация поставщика" in closure
    route = json.dumps(schemas["RouteBody"], ensure_ascii=False)
    for direction in SocialContractDirection:
        assert direction.value in route
    assert "личное подсобное хозяйство" in route


def test_the_new_actions_have_russian_summaries(openapi: dict[str, Any]) -> None:
    summaries = {
        path: operation["summary"]
        for path, operations in openapi["paths"].items()
        for operation in operations.values()
    }
    assert "договор о социальном обслуживании" in summaries["/api/v1/cases/{case_id}/agreement"]
    assert "социальный контракт" in summaries["/api/v1/cases/{case_id}/social-contract"]
    assert "ежемесячный мониторинг" in summaries["/api/v1/cases/{case_id}/social-contract/contacts"]
    assert "итог" in summaries["/api/v1/cases/{case_id}/social-contract/outcome"]
