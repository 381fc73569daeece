"""Who may change which entry of the staff directory: pure rules, shared by the API and the CSV
import (PRODUCT.md §3: a head manages the staff of their own centre, the ministry everyone)."""

from models.payloads.actions import Actor
from models.payloads.vocabulary import StaffRole

MANAGERS = (StaffRole.HEAD, StaffRole.MINISTRY)


def management_refusal(
    actor: Actor,
    *,
    before: tuple[StaffRole, list[str]] | None,
    after: tuple[StaffRole, list[str]],
) -> str | None:
    """Why `actor` may not turn the entry `before` (role, municipalities; None: a new member)
    into `after`, or None when they may. A head may touch only members whose municipalities
    all lie within the head's own, before and after the change, and never a ministry member."""
    if actor.role is StaffRole.MINISTRY:
        return None
    if actor.role is not StaffRole.HEAD:
        return f"role {actor.role.value} may not manage the staff directory (head or ministry)"
    for label, entry in (("the member", before), ("the change", after)):
        if entry is None:
            continue
        role, municipalities = entry
        if role is StaffRole.MINISTRY:
            return f"{label}: a head may not create or change ministry members"
        outside = sorted(set(municipalities) - set(actor.municipalities))
        if outside:
            return f"{label}: municipalities outside your territory: {', '.join(outside)}"
    return None
