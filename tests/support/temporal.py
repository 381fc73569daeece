"""Real Temporal servers for tests, from the pip-installed binaries (no downloads)."""

from datetime import timedelta

from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment

from workers.devstack.temporal_dev import find_binary
from workflows.search_attributes import ALL_SEARCH_ATTRIBUTES


async def start_time_skipping(data_converter: DataConverter) -> WorkflowEnvironment:
    """The time-skipping test server with Kurator's search attributes registered (an
    unregistered attribute would make every workflow task fail)."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=find_binary("temporal-test-server"),
        data_converter=data_converter,
    )
    await register_search_attributes(env.client)
    return env


async def start_dev_server(data_converter: DataConverter, *extra_args: str) -> WorkflowEnvironment:
    """The dev server on 127.0.0.1 (a free port), with Kurator's search attributes."""
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=find_binary("temporal"),
        search_attributes=ALL_SEARCH_ATTRIBUTES,
        data_converter=data_converter,
        dev_server_extra_args=list(extra_args),
        dev_server_startup_timeout=timedelta(seconds=60),
    )


async def register_search_attributes(client: Client) -> None:
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=client.namespace,
            search_attributes={
                key.name: key.indexed_value_type.value  # type: ignore[misc]
                for key in ALL_SEARCH_ATTRIBUTES
            },
        )
    )
