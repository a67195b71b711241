"""`python -m bench crosscheck`: wrk against the REST scenario of each deployment, compared
with Locust's figures of a stored run."""

from __future__ import annotations

import argparse

from bench.manifest import Deployment


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare this command's options on its subparser."""


def run(args: argparse.Namespace, deployments: list[Deployment]) -> int:
    """Run the command; return the process exit code."""
    raise NotImplementedError
