"""Changing the staff directory: every write goes through `apply_entry`, which changes the
member's row and appends the change to the directory's chained history in the caller's
transaction (the caller runs it inside `session.begin()`, so a refused import writes nothing).

An entry that is already what the directory holds is no change: no row is touched and no event
is written, so importing the same file twice changes nothing the second time.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import array
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from infra.audit.staff_chain import GENESIS_HASH, directory_chain_problem, directory_event_hash
from models.payloads.staff import StaffEntry
from models.payloads.vocabulary import StaffRole
from models.tables.staff_directory_event import StaffDirectoryEvent
from models.tables.staff_member import StaffMember

# Serialises the appends to the one chain (a transaction-scoped advisory lock: released at
# commit or rollback). The number is arbitrary, fixed, and used for nothing else.
_CHAIN_LOCK = 0x6B75726174_5354  # "kurat" "ST"


class DirectoryAction(StrEnum):
    CREATED = "created"
    CHANGED = "changed"
    DEACTIVATED = "deactivated"
    REACTIVATED = "reactivated"


@dataclass(frozen=True)
class ChangedBy:
    """Who changes the directory, through what, and why (the history's who and why)."""

    actor_id: str
    actor_role: str  # a StaffRole value, or "operator" for `kurator staff` at the console
    source: str  # api, cli, import
    reason: str | None = None


def entry_of(member: StaffMember) -> StaffEntry:
    return StaffEntry(
        full_name=member.full_name,
        role=StaffRole(member.role),
        municipalities=list(member.municipalities),
        email=member.email,
        active=member.active,
    )


def _action(before: StaffEntry | None, after: StaffEntry) -> DirectoryAction:
    if before is None:
        return DirectoryAction.CREATED
    if before.active and not after.active:
        return DirectoryAction.DEACTIVATED
    if not before.active and after.active:
        return DirectoryAction.REACTIVATED
    return DirectoryAction.CHANGED


async def lock_directory(session: AsyncSession) -> None:
    """Directory writes take turns until the transaction ends: two creations of one staff id
    cannot race to the insert (the second waits, then finds the first's row), a rights check
    made on the entry read after this holds at the write, and the chain stays one line. Take
    it before reading what a change depends on; taking it again in the same transaction is
    free."""
    await session.exec(text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=_CHAIN_LOCK))  # type: ignore[call-overload]


async def apply_entry(
    session: AsyncSession, *, staff_id: str, entry: StaffEntry, by: ChangedBy
) -> DirectoryAction | None:
    """Make the directory hold `entry` for `staff_id`; the action recorded, or None when the
    directory already held exactly that."""
    await lock_directory(session)
    member = await session.get(StaffMember, staff_id, with_for_update=True, populate_existing=True)
    before = None if member is None else entry_of(member)
    if before == entry:
        return None
    if member is None:
        member = StaffMember(staff_id=staff_id, **entry.model_dump())
    else:
        for name, value in entry.model_dump().items():
            setattr(member, name, value)
    session.add(member)
    action = _action(before, entry)
    await _append(session, staff_id=staff_id, action=action, before=before, after=entry, by=by)
    await session.flush()
    return action


async def _append(
    session: AsyncSession,
    *,
    staff_id: str,
    action: DirectoryAction,
    before: StaffEntry | None,
    after: StaffEntry,
    by: ChangedBy,
) -> None:
    head = (
        await session.exec(
            select(StaffDirectoryEvent.seq, StaffDirectoryEvent.hash)
            .order_by(col(StaffDirectoryEvent.seq).desc())
            .limit(1)
        )
    ).first()
    seq, prev_hash = (1, GENESIS_HASH) if head is None else (head[0] + 1, head[1])
    row: dict[str, Any] = {
        "seq": seq,
        "staff_id": staff_id,
        "action": action.value,
        "actor_id": by.actor_id,
        "actor_role": by.actor_role,
        "source": by.source,
        "reason": by.reason,
        "before": None if before is None else before.model_dump(mode="json"),
        "after": after.model_dump(mode="json"),
        # Microseconds kept as PostgreSQL keeps them: the hash is recomputed from the stored row.
        "occurred_at": datetime.now(UTC),
    }
    session.add(
        StaffDirectoryEvent(**row, prev_hash=prev_hash, hash=directory_event_hash(row, prev_hash))
    )


async def list_members(
    session: AsyncSession,
    *,
    territory: Sequence[str] | None,
    role: StaffRole | None = None,
    active: bool | None = None,
) -> Sequence[StaffMember]:
    """Members by staff id; `territory` None for all, else those serving any of its codes."""
    statement = select(StaffMember)
    if territory is not None:
        statement = statement.where(
            col(StaffMember.municipalities).op("&&")(array(list(territory)))
        )
    if role is not None:
        statement = statement.where(StaffMember.role == role.value)
    if active is not None:
        statement = statement.where(col(StaffMember.active).is_(active))
    return (await session.exec(statement.order_by(col(StaffMember.staff_id)))).all()


async def directory_events(
    session: AsyncSession,
    *,
    territory: Sequence[str] | None,
    staff_id: str | None = None,
    after_seq: int = 0,
    limit: int = 500,
) -> Sequence[StaffDirectoryEvent]:
    """Events in seq order; `territory` None for all, else those about a member serving any of
    its codes before or after the change."""
    statement = select(StaffDirectoryEvent).where(col(StaffDirectoryEvent.seq) > after_seq)
    if staff_id is not None:
        statement = statement.where(StaffDirectoryEvent.staff_id == staff_id)
    if territory is not None:
        codes = array(list(territory))
        statement = statement.where(
            col(StaffDirectoryEvent.after)["municipalities"].has_any(codes)
            | col(StaffDirectoryEvent.before)["municipalities"].has_any(codes)
        )
    return (await session.exec(statement.order_by(col(StaffDirectoryEvent.seq)).limit(limit))).all()


async def check_directory_chain(session: AsyncSession) -> tuple[int, tuple[int, str] | None]:
    """The chain's head seq (0: empty) and its first break (seq, why), or None when it holds.
    The directory's history is small (a row per change of a member): read whole."""
    rows = (
        await session.exec(select(StaffDirectoryEvent).order_by(col(StaffDirectoryEvent.seq)))
    ).all()
    broken = directory_chain_problem(row.model_dump() for row in rows)
    return (rows[-1].seq if rows else 0), broken
