"""Start-up details of ``shared.serve`` that a user sees: a clear error for a taken port, and no
long garbage-collector pauses over the objects built at start-up."""

from __future__ import annotations

import gc
import socket
from collections.abc import Iterator

import pytest

from shared.serve import PortInUse, bind_socket, freeze_startup_objects


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()


def test_objects_built_before_serving_are_left_out_of_collections(unfrozen: None) -> None:
    built_at_startup = [{"route": n} for n in range(1000)]
    freeze_startup_objects()
    assert gc.get_freeze_count() >= len(built_at_startup)
    # A full collection now walks only what was allocated after start-up.
    assert len(gc.get_objects()) < gc.get_freeze_count()


def test_a_taken_port_names_the_setting_to_change() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortInUse, match=f"127.0.0.1:{port} is already in use; set CUSTOMER_PORT"):
            bind_socket("127.0.0.1", port, "CUSTOMER_PORT")
