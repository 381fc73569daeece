"""The inbox table: a case's rows rewritten with each stored case view, its social contract's
rows with each stored contract view (each writer clears only its own kind), read as one
indexed query.

The read is a UNION of narrow branches (items addressed to the staff member, to their
role, escalated to their role, approvals for approvers), each per municipality of the caller's
territory, each walking its index in the inbox's order and stopping at the page size; the
outer query merges at most (branches x limit) rows. Its cost follows the page, not the number
of cases.
"""

from collections.abc import Collection
from typing import Any

from sqlalchemy import bindparam, delete, text
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from models.crud.inserts import table_of
from models.inbox import (
    APPROVERS,
    CONTRACT_CONTACT,
    InboxItem,
    contract_items,
    inbox_items,
    roles_answered_by,
)
from models.payloads.actions import Actor
from models.payloads.case_view import CaseView
from models.payloads.social_contract import SocialContractView
from models.tables.case_inbox_item import CaseInboxItem

_ITEMS = table_of(CaseInboxItem)
_OF_CASE = col(CaseInboxItem.case_id) == bindparam("case_id")
_IS_CONTRACTS = col(CaseInboxItem.kind) == CONTRACT_CONTACT
# The case's rows, not its contract's: the contract's workflow writes those (and outlives the
# case, whose last view, closed, holds no deadline).
_CLEAR_CASE = delete(_ITEMS).where(_OF_CASE, ~_IS_CONTRACTS)
_CLEAR_CONTRACT = delete(_ITEMS).where(_OF_CASE, _IS_CONTRACTS)
_ADD = insert(_ITEMS)
_COLUMNS = (
    "case_id, case_number, key, kind, municipality, stage, code, due_at, overdue, "
    "escalation_level, responsible, escalated_to"
)
_ORDER = "overdue DESC, due_at ASC NULLS LAST, case_id, key"


async def replace_inbox_items(session: AsyncSession, *, view: CaseView) -> None:
    """Make the case's inbox rows those of `view` (call it when `view` was stored)."""
    await session.exec(_CLEAR_CASE, params={"case_id": view.case_id})
    rows = [item.model_dump(mode="python") for item in inbox_items(view)]
    if rows:
        await session.exec(_ADD, params=rows)


async def replace_contract_inbox_items(
    session: AsyncSession, *, view: SocialContractView, case_number: str | None
) -> None:
    """Make the rows of the case's social contract those of the contract's `view` (call it
    when `view` was stored): a retry writes the same rows again, a met contact's row goes."""
    await session.exec(_CLEAR_CONTRACT, params={"case_id": view.case_id})
    rows = [item.model_dump(mode="python") for item in contract_items(view, case_number)]
    if rows:
        await session.exec(_ADD, params=rows)


async def list_inbox(
    session: AsyncSession, *, actor: Actor, municipalities: Collection[str] | None, limit: int
) -> list[InboxItem]:
    """The caller's inbox, overdue first, then by due time (approvals last); `municipalities`
    is the caller's territory (None: the whole oblast)."""
    params: dict[str, Any] = {"staff_id": actor.staff_id, "limit": limit}
    conditions = ["responsible = :staff_id"]
    for number, role in enumerate(roles_answered_by(actor)):
        params[f"role_{number}"] = role
        conditions += [f"responsible = :role_{number}", f"escalated_to = :role_{number}"]
    if actor.role in APPROVERS:
        conditions.append("kind = 'approval'")
    places: list[str | None] = [None] if municipalities is None else [*sorted(municipalities)]
    if not places:
        return []
    branches = []
    for place_number, place in enumerate(places):
        where_place = ""
        if place is not None:
            params[f"place_{place_number}"] = place
            where_place = f"municipality = :place_{place_number} AND "
        branches += [
            f"(SELECT {_COLUMNS} FROM case_inbox_items WHERE {where_place}{condition} "
            f"ORDER BY {_ORDER} LIMIT :limit)"
            for condition in conditions
        ]
    # UNION, not UNION ALL: an item can answer two branches (addressed to a role and
    # escalated to it), and is listed once.
    query = f"SELECT * FROM ({' UNION '.join(branches)}) AS branch ORDER BY {_ORDER} LIMIT :limit"
    rows = (await session.exec(text(query), params=params)).mappings().all()  # type: ignore[call-overload]
    return [InboxItem.model_validate(dict(row)) for row in rows]
