from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.probes_compose.lab import lab_up

if TYPE_CHECKING:
    from docker import DockerClient


@pytest.fixture(scope="session")
def lab_engine() -> Iterator[DockerClient]:
    """A client of the lab's engine, started (with image and Compose CLIs) by docker-up.sh."""
    import docker

    lab_up()
    client = docker.DockerClient(base_url="unix:///var/run/docker.sock", timeout=30)
    try:
        yield client
    finally:
        client.close()
