"""Who may change which entry of the resource map (PRODUCT.md §3 by analogy: territory is the
municipality). The ministry manages every entry; a head manages their own territory's: the
entry belongs to it and serves only it. Everyone on staff may read the map."""

from collections.abc import Collection

from models.payloads.resources import ProviderFields
from models.payloads.vocabulary import StaffRole

MANAGERS = frozenset({StaffRole.HEAD, StaffRole.MINISTRY})


def role_refusal(role: StaffRole) -> str | None:
    if role in MANAGERS:
        return None
    return f"the resource map is managed by a head or the ministry, not by a {role}"


def territory_refusal(
    role: StaffRole, municipalities: Collection[str], fields: ProviderFields
) -> str | None:
    """Why `role` on `municipalities` may not hold this entry (as it is, or as it would
    become), or None."""
    refusal = role_refusal(role)
    if refusal is not None or role is StaffRole.MINISTRY:
        return refusal
    if fields.municipality not in municipalities:
        return f"the entry belongs to {fields.municipality}, outside your territory"
    outside = sorted(set(fields.served_municipalities) - set(municipalities))
    if outside:
        return (
            f"served_municipalities names {', '.join(outside)}, outside your territory: "
            "the ministry records providers serving several territories"
        )
    return None
