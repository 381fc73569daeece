"""Storing and reading a social contract's latest view (models/tables/social_contract.py), its
`income_after` sealed with the family's key like other free text; storing it also rewrites
the contract's rows of the staff inbox (models/crud/inbox.py)."""

from typing import Any
from uuid import UUID

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.sql.dml import ReturningInsert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from infra.sealing.columns import (
    KeyLookup,
    keys_for,
    open_free_text,
    seal_free_text,
    sealed_key_ids,
)
from infra.sealing.family_keys import DataKey
from models.crud.case_numbers import given_number
from models.crud.inbox import replace_contract_inbox_items
from models.crud.inserts import table_of
from models.payloads.social_contract import SocialContractView
from models.tables.social_contract import SocialContractRow

_CONTRACTS = table_of(SocialContractRow)


def _save_statement() -> ReturningInsert[tuple[UUID]]:
    statement = insert(_CONTRACTS)
    changed = {
        column.name: statement.excluded[column.name]
        for column in _CONTRACTS.c
        if column.name not in ("contract_id", "updated_at")
    }
    upsert = statement.on_conflict_do_update(
        index_elements=[_CONTRACTS.c.contract_id],
        set_={**changed, "updated_at": func.now()},
        where=_CONTRACTS.c.version < statement.excluded.version,  # only ever forward
    )
    return upsert.returning(_CONTRACTS.c.contract_id)


_SAVE = _save_statement()


def contract_view_field(contract_id: UUID) -> str:
    """What the sealed values of a contract's stored view are bound to: its row."""
    return f"social_contracts.view:{contract_id}"


async def save_contract_view(
    session: AsyncSession, *, view: SocialContractView, key: DataKey
) -> bool:
    """Store `view` unless the stored one is as new or newer, and with it the contract's inbox
    rows (its open monitoring contacts, under its case's id and number). True if a row changed;
    a retry, or an older view landing after a newer one, changes nothing."""
    row: dict[str, Any] = {
        "contract_id": view.contract_id,
        "case_id": view.case_id,
        "workflow_id": view.workflow_id,
        "municipality": view.municipality,
        "version": view.version,
        "phase": view.phase.value,
        "view": seal_free_text(
            key, view.model_dump(mode="json"), field=contract_view_field(view.contract_id)
        ),
    }
    written = (await session.exec(_SAVE, params=row)).first() is not None
    if written:
        number = await given_number(session, case_id=view.case_id)
        await replace_contract_inbox_items(session, view=view, case_number=number)
    return written


async def get_contract_view(
    session: AsyncSession, *, case_id: UUID, keys: KeyLookup
) -> SocialContractView | None:
    """The case's social contract as last stored, its sealed values opened; None if none."""
    statement = select(SocialContractRow.view).where(col(SocialContractRow.case_id) == case_id)
    stored = (await session.exec(statement)).first()
    if stored is None:
        return None
    opening = await keys_for(keys, sealed_key_ids(stored))
    contract_id = UUID(stored["contract_id"])
    return SocialContractView.model_validate(
        open_free_text(stored, opening, field=contract_view_field(contract_id))
    )
