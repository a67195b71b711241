"""`python -m bench worker`'s option parsing and its probe of the master's port."""

import argparse
import socket

import pytest

from bench.load.locust import free_port
from bench.load.worker import unreachable
from bench.targets.cores import core_list


@pytest.mark.parametrize(
    ("text", "cores"), [("0", [0]), ("0-3", [0, 1, 2, 3]), ("2,0", [0, 2]), ("0-1,4", [0, 1, 4])]
)
def test_cores_are_read_as_ranges_and_lists(text, cores):
    assert core_list(text) == cores


@pytest.mark.parametrize("text", ["", ",", "a", "0-b", "1-"])
def test_bad_cores_are_refused(text):
    with pytest.raises(argparse.ArgumentTypeError):
        core_list(text)


def test_the_probe_tells_a_listening_port_from_a_closed_one():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        assert unreachable("127.0.0.1", listener.getsockname()[1]) is None
    assert "refused" in unreachable("127.0.0.1", free_port()).lower()
