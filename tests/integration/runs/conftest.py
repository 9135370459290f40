"""Fixtures of the runs tests: a local Run Registry."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.run_registry import RunRegistryServer


@pytest.fixture
def rr() -> Iterator[RunRegistryServer]:
    """A local Run Registry API serving the recorded answers of tests/fixtures/rr."""
    server = RunRegistryServer()
    yield server
    server.stop()
