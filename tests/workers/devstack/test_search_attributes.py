"""A dev server whose database predates some of Kurator's search attributes gets the missing
ones registered by `kurator dev` at start (`start-dev` registers them only on a new database),
and a second start registers nothing."""

from datetime import timedelta

from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment

from workers.devstack.temporal_dev import find_binary, register_missing_search_attributes
from workflows.search_attributes import ALL_SEARCH_ATTRIBUTES, CASE_STAGE, MUNICIPALITY


async def test_the_attributes_added_since_are_registered_once() -> None:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=find_binary("temporal"),
        search_attributes=[CASE_STAGE, MUNICIPALITY],  # as an older Kurator registered them
        data_converter=DataConverter.default,
        dev_server_startup_timeout=timedelta(seconds=60),
    )
    try:
        added = await register_missing_search_attributes(env.client)
        again = await register_missing_search_attributes(env.client)
        listed = await env.client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=env.client.namespace)
        )
    finally:
        await env.shutdown()

    expected = {key.name for key in ALL_SEARCH_ATTRIBUTES}
    assert set(added) == expected - {"CaseStage", "Municipality"}
    assert "CaseNumber" in added
    assert again == []
    assert expected <= set(listed.custom_attributes)
