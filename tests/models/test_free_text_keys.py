"""FREE_TEXT_KEYS names every free-text field of the bodies staff send: PostgreSQL seals the
values under those JSON keys (infra/sealing/columns.py), so a FreeText field under another name
would be stored in clear. A new one must be added to the set, and a stale name removed."""

import inspect
from types import ModuleType
from typing import Annotated, Any, get_args, get_origin, get_type_hints

import pytest
from pydantic import BaseModel

import api.schemas
import models.payloads.actions
import models.payloads.social_contract
from models.payloads.fields import FREE_TEXT_KEYS, FreeText

# The metadata object FreeText carries: how its uses are told from any other string.
_FREE_TEXT_MARK = get_args(FreeText)[1]
_BODY_MODULES = [models.payloads.actions, models.payloads.social_contract, api.schemas]


def _holds_free_text(annotation: Any) -> bool:
    """True for FreeText itself, or a type built of it (Optional, list, Annotated further)."""
    if get_origin(annotation) is Annotated and any(
        meta is _FREE_TEXT_MARK for meta in get_args(annotation)[1:]
    ):
        return True
    return any(_holds_free_text(argument) for argument in get_args(annotation))


def _models(module: ModuleType) -> list[type[BaseModel]]:
    return [
        value
        for value in vars(module).values()
        if inspect.isclass(value)
        and issubclass(value, BaseModel)
        and value.__module__ == module.__name__
    ]


def _free_text_fields(model: type[BaseModel]) -> set[str]:
    hints = get_type_hints(model, include_extras=True)
    return {name for name in model.model_fields if _holds_free_text(hints.get(name))}


@pytest.mark.parametrize(
    "model",
    [model for module in _BODY_MODULES for model in _models(module)],
    ids=lambda model: model.__name__,
)
def test_every_free_text_field_is_named_in_the_set(model: type[BaseModel]) -> None:
    unnamed = _free_text_fields(model) - FREE_TEXT_KEYS
    assert not unnamed, f"{model.__name__}: add {sorted(unnamed)} to FREE_TEXT_KEYS"


def test_the_set_names_only_free_text_fields_that_exist() -> None:
    found = {
        name for module in _BODY_MODULES for model in _models(module)
        for name in _free_text_fields(model)
    }  # fmt: skip
    assert found == FREE_TEXT_KEYS
