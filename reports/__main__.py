"""python -m reports [--run DIR] [--out DIR]: the HTML report of one stored benchmark run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reports import DEFAULT_RUN, OUTPUT_DIR
from reports.build import build
from reports.inputs import RunError

EXIT_USAGE = 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports", description=__doc__)
    parser.add_argument(
        "--run", type=Path, default=DEFAULT_RUN, help=f"stored run folder (default: {DEFAULT_RUN})"
    )
    parser.add_argument(
        "--out", type=Path, default=OUTPUT_DIR, help=f"output root (default: {OUTPUT_DIR})"
    )
    args = parser.parse_args(argv)
    try:
        path = build(args.run, args.out)
    except RunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
