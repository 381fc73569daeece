"""Writing and reading the resource map. Every write appends its change to the entry's
hash-chained history (`resource_changes`) in the caller's transaction, with the entry's row
locked, so the chain of one entry is extended by one writer at a time."""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.dialects.postgresql import array
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.payloads.resources import ProviderFields
from models.payloads.vocabulary import AccompanimentChannel, ProviderKind, ServiceType, StaffRole
from models.resource_map.history_chain import ResourceAction, change_hash, genesis_hash
from models.tables.resource_change import ResourceChange
from models.tables.resource_provider import ResourceProvider

FIELD_NAMES = tuple(ProviderFields.model_fields)


@dataclass(frozen=True, slots=True)
class Editor:
    """Who changes the map, and why."""

    staff_id: str
    role: StaffRole
    reason: str | None = None


def fields_of(row: ResourceProvider) -> ProviderFields:
    return ProviderFields.model_validate({name: getattr(row, name) for name in FIELD_NAMES})


def _stored(fields: ProviderFields) -> dict[str, Any]:
    return fields.model_dump(mode="json")


async def _append(
    session: AsyncSession,
    row: ResourceProvider,
    *,
    action: ResourceAction,
    changes: dict[str, Any],
    editor: Editor,
    now: datetime,
) -> ResourceChange:
    prev = (
        genesis_hash(row.id)
        if row.version == 0
        else (
            await session.exec(
                select(ResourceChange.hash).where(
                    ResourceChange.provider_id == row.id, ResourceChange.seq == row.version
                )
            )
        ).one()
    )
    content: dict[str, Any] = {
        "id": uuid4(),
        "provider_id": row.id,
        "seq": row.version + 1,
        "action": action.value,
        "actor_id": editor.staff_id,
        "actor_role": editor.role.value,
        "reason": editor.reason,
        "changes": changes,
        "occurred_at": now,
    }
    change = ResourceChange(**content, prev_hash=prev, hash=change_hash(content, prev))
    row.version += 1
    session.add(change)
    session.add(row)
    return change


async def create_provider(
    session: AsyncSession, *, fields: ProviderFields, editor: Editor, now: datetime
) -> ResourceProvider:
    """A new entry, confirmed now. The caller's commit raises IntegrityError when its
    territory already has an entry of that name (`uq_resource_providers_name`)."""
    row = ResourceProvider(**_stored(fields), last_confirmed_at=now, version=0)
    session.add(row)
    await session.flush()  # the row before its history, which references it
    changes = {name: {"before": None, "after": value} for name, value in _stored(fields).items()}
    await _append(
        session, row, action=ResourceAction.CREATED, changes=changes, editor=editor, now=now
    )
    return row


async def locked(session: AsyncSession, provider_id: UUID) -> ResourceProvider | None:
    statement = select(ResourceProvider).where(ResourceProvider.id == provider_id)
    return (await session.exec(statement.with_for_update())).first()


async def locked_by_name(
    session: AsyncSession, *, municipality: str, name: str
) -> ResourceProvider | None:
    statement = select(ResourceProvider).where(
        ResourceProvider.municipality == municipality, ResourceProvider.name == name
    )
    return (await session.exec(statement.with_for_update())).first()


async def change_provider(
    session: AsyncSession,
    row: ResourceProvider,
    *,
    fields: ProviderFields,
    editor: Editor,
    now: datetime,
) -> ResourceChange:
    """Set `row` (locked) to `fields`. An edit by its manager confirms the entry too; an edit
    that changes nothing is recorded as a confirmation. A deactivated entry comes back."""
    before, after = _stored(fields_of(row)), _stored(fields)
    changes = {
        name: {"before": before[name], "after": after[name]}
        for name in FIELD_NAMES
        if before[name] != after[name]
    }
    if not row.active:
        changes["active"] = {"before": False, "after": True}
        row.active = True
    for name in changes:
        if name != "active":
            setattr(row, name, after[name])
    changes["last_confirmed_at"] = {
        "before": row.last_confirmed_at.isoformat(),
        "after": now.isoformat(),
    }
    row.last_confirmed_at = now
    action = ResourceAction.CHANGED if len(changes) > 1 else ResourceAction.CONFIRMED
    return await _append(session, row, action=action, changes=changes, editor=editor, now=now)


async def confirm_provider(
    session: AsyncSession, row: ResourceProvider, *, editor: Editor, now: datetime
) -> ResourceChange:
    return await change_provider(session, row, fields=fields_of(row), editor=editor, now=now)


async def deactivate_provider(
    session: AsyncSession, row: ResourceProvider, *, editor: Editor, now: datetime
) -> ResourceChange | None:
    """Take `row` (locked) off the map; None when it was already off (nothing recorded)."""
    if not row.active:
        return None
    row.active = False
    changes = {"active": {"before": True, "after": False}}
    return await _append(
        session, row, action=ResourceAction.DEACTIVATED, changes=changes, editor=editor, now=now
    )


async def get_provider(session: AsyncSession, provider_id: UUID) -> ResourceProvider | None:
    return await session.get(ResourceProvider, provider_id)


async def providers_by_id(
    session: AsyncSession, ids: Sequence[UUID]
) -> dict[UUID, ResourceProvider]:
    if not ids:
        return {}
    statement = select(ResourceProvider).where(col(ResourceProvider.id).in_(list(ids)))
    return {row.id: row for row in (await session.exec(statement)).all()}


@dataclass(frozen=True, slots=True)
class ProviderFilter:
    """Which entries a listing shows. `territory` None: every municipality (the ministry)."""

    territory: tuple[str, ...] | None
    serving: str | None = None
    kind: ProviderKind | None = None
    service: ServiceType | None = None
    channel: AccompanimentChannel | None = None
    confirmed_before: datetime | None = None  # only the entries overdue for review
    include_inactive: bool = False


async def list_providers(
    session: AsyncSession, *, where: ProviderFilter, limit: int | None = 1000
) -> Sequence[ResourceProvider]:
    """Entries by territory and name. A territory covers the entries it owns and those that
    serve it."""
    statement = select(ResourceProvider)
    if where.territory is not None:
        territory = list(where.territory)
        statement = statement.where(
            col(ResourceProvider.municipality).in_(territory)
            | col(ResourceProvider.served_municipalities).op("&&")(array(territory))
        )
    if where.serving is not None:
        served = col(ResourceProvider.served_municipalities)
        statement = statement.where(served.contains(array([where.serving])))
    if where.kind is not None:
        statement = statement.where(ResourceProvider.kind == where.kind.value)
    if where.service is not None:
        statement = statement.where(
            col(ResourceProvider.services).contains(array([where.service.value]))
        )
    if where.channel is not None:
        statement = statement.where(
            col(ResourceProvider.channels).contains(array([where.channel.value]))
        )
    if where.confirmed_before is not None:
        statement = statement.where(
            col(ResourceProvider.last_confirmed_at) < where.confirmed_before
        )
    if not where.include_inactive:
        statement = statement.where(col(ResourceProvider.active).is_(True))
    statement = statement.order_by(col(ResourceProvider.municipality), col(ResourceProvider.name))
    if limit is not None:
        statement = statement.limit(limit)
    return (await session.exec(statement)).all()


async def history(session: AsyncSession, provider_id: UUID) -> Sequence[ResourceChange]:
    statement = (
        select(ResourceChange)
        .where(ResourceChange.provider_id == provider_id)
        .order_by(col(ResourceChange.seq))
    )
    return (await session.exec(statement)).all()


# A write to one locked entry, as the API and the import apply it.
RowChange = Callable[[AsyncSession, ResourceProvider, Editor, datetime], Awaitable[None]]
