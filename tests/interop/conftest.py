"""Fixtures for the interop tests: a running goval server and a Node host for crosis clients."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator

import pytest

from goval.testing import RunningServer, running_server
from tests.interop.crosis_driver import CrosisDriver, crosis_driver


@pytest.fixture
def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.skip("node is not installed: the crosis interop tests need Node.js 20")
    return path


@pytest.fixture
async def rs() -> AsyncIterator[RunningServer]:
    async with running_server() as server:
        yield server


@pytest.fixture
async def driver(node: str, rs: RunningServer) -> AsyncIterator[CrosisDriver]:
    async with crosis_driver(node) as started:
        yield started
