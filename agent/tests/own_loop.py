"""Scenarios run on an event loop of their own, in a thread of their own: whatever loop the test
process's main thread holds (a browser driver's, when the whole suite runs), asyncio.run works."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run(scenario: Coroutine[Any, Any, T]) -> T:
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="scenario") as thread:
        return thread.submit(asyncio.run, scenario).result()
