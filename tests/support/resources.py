"""Resource-map entries for tests: invented organisations in a test's own municipalities."""

import uuid
from typing import Any


def provider_body(municipality: str, **overrides: Any) -> dict[str, Any]:
    """An entry's fields: a synthetic organisation with its public (invented) contacts."""
    fields: dict[str, Any] = {
        "name": f"Тестовый центр {uuid.uuid4().hex[:8]}",
        "kind": "ngo",
        "municipality": municipality,
        "served_municipalities": [municipality],
        "services": ["psychological"],
        "channels": [],
        "capacity": 10,
        "capacity_unit": "places",
        "contact_phone": "+7 383 000-00-00",
        "contact_email": "desk@example.org",
        "contact_address": "г. Тестовск, ул. Синтетическая, 1",
        **overrides,
    }
    return fields
