"""The ministry's read of a case's history as one statement: the territory check, the access
log's row, the family's data key and the events of both chains (the case's, its social
contract's).

One statement because a read of a history was six round trips (the case's address, its
family, the events, the keys, the log's row and the commit), each a wake-up of PostgreSQL and
of the API on shared cores, and its p99 was theirs. Run in autocommit, the statement is its
own transaction: the access log's row (a data-modifying WITH, which PostgreSQL runs to
completion whatever the query reads of it) commits with the read or neither happens, so no
history is read unlogged. A case outside the reader's territory, or none, matches no address:
nothing is read and nothing logged, and the caller answers 404 as for a missing case.

The family is found as `workflows.ids.family_key_of` finds it, in PostgreSQL
(`CASE_WORKFLOW_ID_REGEX`); its data key's row comes back beside the events so that opening
their sealed text needs no second lookup (`FamilyKeyStore.by_ids(read=...)`).
"""

from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Select,
    String,
    Uuid,
    any_,
    bindparam,
    case,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from models.crud.access_log import Access, access_row
from models.crud.audit_events import HOLDS_SEALED, StoredRow, holds_sealed
from models.crud.family_data_keys import StoredKey
from models.crud.inserts import table_of
from models.tables.case_event import CaseEvent
from models.tables.case_projection import CaseProjection
from models.tables.family import Family
from models.tables.family_access import FamilyAccess
from models.tables.family_data_key import FamilyDataKey
from workflows.ids import CASE_WORKFLOW_ID_REGEX, CASE_WORKFLOW_PREFIX

_EVENTS = table_of(CaseEvent)
_PROJECTIONS = table_of(CaseProjection)
_FAMILIES = table_of(Family)
_KEYS = table_of(FamilyDataKey)
_ACCESS_LOG = table_of(FamilyAccess)

# The access log's columns the statement writes (its `at` is the transaction's time).
_LOGGED = (
    "id",
    "family_id",
    "case_id",
    "staff_id",
    "role",
    "action",
    "what",
    "purpose_code",
    "purpose",
)
_EVENT_COLUMNS = (*(column.key for column in _EVENTS.c), HOLDS_SEALED)
_KEY_COLUMNS = ("key_id", "family_key", "wrapped", "master_key_id", "destroyed_at")


@dataclass(frozen=True)
class AuditedHistory:
    """What the read found: the case's municipality, each chain's events as stored (oldest
    first), and its family's data key as stored (None: the family has none)."""

    municipality: str
    chains: dict[UUID, list[StoredRow]]
    family_key: StoredKey | None


async def audited_history(
    session: AsyncSession,
    *,
    case_id: UUID,
    contract_id: UUID,
    territory: Collection[str] | None,
    access: Access,
) -> AuditedHistory | None:
    """The case's history read and its access logged, in one statement (run it in an
    autocommit session: it is then its own transaction); None when the case does not exist
    or lies outside `territory` (None: every municipality), in which case nothing is logged."""
    parameters: dict[str, Any] = {
        "case_id": case_id,
        "contract_id": contract_id,
        **{f"log_{name}": value for name, value in access_row(access, None, case_id).items()},
    }
    if territory is not None:
        parameters["territory"] = list(territory)
    connection = await session.connection()
    # Core, past the ORM: plain tuples.
    rows = (await connection.execute(_statement(territory is not None), parameters)).all()
    if not rows:
        return None
    first = rows[0]
    key_fields = dict(zip(_KEY_COLUMNS, first[1 : 1 + len(_KEY_COLUMNS)], strict=True))
    family_key = None if key_fields["key_id"] is None else StoredKey(**key_fields)
    chains: dict[UUID, list[StoredRow]] = {case_id: [], contract_id: []}
    offset = 1 + len(_KEY_COLUMNS)
    for row in rows:
        event = dict(zip(_EVENT_COLUMNS, row[offset:], strict=True))
        if event["case_id"] is not None:  # None: a case with no event (the outer join's row)
            chains[event["case_id"]].append(event)
    return AuditedHistory(municipality=first[0], chains=chains, family_key=family_key)


@lru_cache(maxsize=2)
def _statement(in_territory: bool) -> Select[Any]:
    """The statement, built once per kind of reader (the ministry's, a territory's)."""
    address = select(
        _PROJECTIONS.c.case_id, _PROJECTIONS.c.workflow_id, _PROJECTIONS.c.municipality
    ).where(_PROJECTIONS.c.case_id == bindparam("case_id", type_=Uuid()))
    if in_territory:
        territory = bindparam("territory", type_=ARRAY(String()))
        address = address.where(_PROJECTIONS.c.municipality == any_(territory))
    found = address.cte("address")
    workflow_id = found.c.workflow_id
    family_key = case(
        (
            workflow_id.regexp_match(CASE_WORKFLOW_ID_REGEX),
            func.substr(workflow_id, len(CASE_WORKFLOW_PREFIX) + 1),
        ),
        else_=None,
    )
    family_id = select(_FAMILIES.c.id).where(_FAMILIES.c.family_key == family_key).scalar_subquery()
    # The row `access_row` describes, its family and case those of the address found.
    logged_values: dict[str, ColumnElement[Any]] = {
        name: bindparam(f"log_{name}", type_=_ACCESS_LOG.c[name].type) for name in _LOGGED
    }
    logged_values |= {"family_id": family_id, "case_id": found.c.case_id}
    logged = (
        insert(_ACCESS_LOG)
        .from_select(
            list(_LOGGED), select(*(logged_values[name] for name in _LOGGED)).select_from(found)
        )
        .cte("logged")
    )
    chain_ids = [found.c.case_id, bindparam("contract_id", type_=Uuid())]
    joined = found.outerjoin(_KEYS, _KEYS.c.family_key == family_key).outerjoin(
        _EVENTS, _EVENTS.c.case_id.in_(chain_ids)
    )
    return (
        select(
            found.c.municipality,
            *(_KEYS.c[name] for name in _KEY_COLUMNS),
            *_EVENTS.c,
            holds_sealed(),
        )
        .select_from(joined)
        .order_by(_EVENTS.c.case_id, _EVENTS.c.seq)
        .add_cte(logged)
    )
