"""Waiting for effects that happen asynchronously (a worker writing a row)."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]],
    accept: Callable[[T], bool],
    *,
    within: float = 20,
    what: str = "condition",
) -> T:
    """Call `probe` until `accept` holds for its result; fail with the last result otherwise."""
    deadline = time.monotonic() + within
    while True:
        result = await probe()
        if accept(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached in {within}s; last result: {result!r}")
        await asyncio.sleep(0.1)
