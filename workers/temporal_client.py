"""Connecting to Temporal with Kurator's data converter (pydantic payloads)."""

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter


async def connect_temporal(address: str, namespace: str, *, lazy: bool = False) -> Client:
    """A client for `namespace`. `lazy` defers the connection to the first call, so the API can
    start (and serve reads and /health) while Temporal is still down."""
    return await Client.connect(
        address, namespace=namespace, data_converter=pydantic_data_converter, lazy=lazy
    )
