"""`python -m bench soak`: one deployment under steady load for minutes; RSS growth and errors."""

from __future__ import annotations

import argparse

from bench.manifest import Deployment


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare this command's options on its subparser."""


def run(args: argparse.Namespace, deployments: list[Deployment]) -> int:
    """Run the command; return the process exit code."""
    raise NotImplementedError
