"""The soak command's options, each checked as it is parsed."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from bench import RESULTS_DIR
from bench.run.soak_model import DEFAULT_MINUTES, DEFAULT_USERS, DEFAULT_WARMUP_S, DEFAULT_WINDOW_S
from bench.targets import cores


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare this command's options on its subparser."""
    parser.add_argument("name", help="deployment name, e.g. flask, django, streamlit")
    parser.add_argument(
        "--config", default="default", help="server configuration from its manifest"
    )
    parser.add_argument(
        "--minutes", type=positive_float, default=DEFAULT_MINUTES,
        help=f"recorded load, in minutes (default {DEFAULT_MINUTES:g}; fractions allowed)",
    )  # fmt: skip
    parser.add_argument(
        "--users", type=positive_int, default=DEFAULT_USERS,
        help=f"concurrent closed-loop users (default {DEFAULT_USERS})",
    )  # fmt: skip
    parser.add_argument("--scenario", help="scenario (default: the deployment's first)")
    parser.add_argument(
        "--warmup", type=non_negative_float, default=DEFAULT_WARMUP_S, metavar="SECONDS",
        help=f"unrecorded load before the first minute (default {DEFAULT_WARMUP_S:g} s)",
    )  # fmt: skip
    parser.add_argument(
        "--window", type=positive_float, default=DEFAULT_WINDOW_S, metavar="SECONDS",
        help=f"length of each recorded window, one Locust run each (default {DEFAULT_WINDOW_S:g})",
    )  # fmt: skip
    parser.add_argument("--port", type=port_number, help="port (default: the manifest's)")
    parser.add_argument("--wait", action="store_true", help="wait for a running benchmark to end")
    parser.add_argument(
        "--results", type=Path, default=RESULTS_DIR,
        help=f"results folder; the soak goes to its soak/ folder (default {RESULTS_DIR})",
    )  # fmt: skip
    cores.add_arguments(parser)


def parsed(kind: type[int] | type[float], text: str) -> float:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not {'an integer' if kind is int else 'a number'}: {text!r}"
        ) from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


def positive_float(text: str) -> float:
    value = parsed(float, text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
    return value


def non_negative_float(text: str) -> float:
    value = parsed(float, text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return value


def positive_int(text: str) -> int:
    value = int(parsed(int, text))
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {text}")
    return value


def port_number(text: str) -> int:
    port = int(parsed(int, text))
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 1 to 65535, not {text}")
    return port
