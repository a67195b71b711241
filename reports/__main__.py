"""python -m reports [--run DIR] [--out DIR] [--reference DIR]: the HTML report of one stored
benchmark run; python -m reports compare [RUN] [--reference DIR] [--json FILE]: does a stored
run reproduce a reference run? python -m reports publish [RUN] [--to DIR]: make a stored run
the published reference (reports/publish.py). python -m reports agreement --before RUN...
--after RUN...: does changed measuring code measure what the code before it did
(reports/agreement.py)?"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.store.files import atomic_write_text
from reports import DEFAULT_RUN, OUTPUT_DIR, REFERENCE_DIR, agreement, inputs, reproduction
from reports.build import build
from reports.inputs import RunError
from reports.publish import publish
from reports.reproduction_text import as_record, as_text

EXIT_USAGE = 2
EXIT_NOT_REPRODUCED = 1
COMPARE = "compare"
PUBLISH = "publish"
AGREEMENT = "agreement"
EXIT_DISAGREE = 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # A subcommand beside the options of old: `python -m reports --run DIR` keeps its meaning.
    if argv[:1] == [COMPARE]:
        return compare_main(argv[1:])
    if argv[:1] == [PUBLISH]:
        return publish_main(argv[1:])
    if argv[:1] == [AGREEMENT]:
        return agreement_main(argv[1:])
    return build_main(argv)


def build_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reports",
        description="The HTML report of one stored benchmark run "
        f"(`python -m reports {COMPARE} --help`: the reproduction check).",
    )
    parser.add_argument(
        "--run", type=Path, default=DEFAULT_RUN, help=f"stored run folder (default: {DEFAULT_RUN})"
    )
    parser.add_argument(
        "--out", type=Path, default=OUTPUT_DIR, help=f"output root (default: {OUTPUT_DIR})"
    )
    parser.add_argument(
        "--reference",
        type=Path,
        default=None,
        help=f"reference run for the reproduction section (default: {REFERENCE_DIR} if it "
        "holds a run)",
    )
    args = parser.parse_args(argv)
    try:
        path = build(args.run, args.out, reference=args.reference)
    except RunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(path)
    return 0


def compare_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog=f"python -m reports {COMPARE}",
        description="Line a stored run up against a reference run: framework ratios and claim "
        "verdicts first, absolute throughput (machine-dependent) second. Exit 0: reproduced or "
        "undecided; 1: not reproduced; 2: bad input.",
    )
    parser.add_argument(
        "run",
        type=Path,
        nargs="?",
        default=DEFAULT_RUN,
        help=f"stored run folder (default: {DEFAULT_RUN})",
    )
    parser.add_argument(
        "--reference",
        type=Path,
        default=REFERENCE_DIR,
        help=f"reference run folder (default: {REFERENCE_DIR})",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the comparison here")
    args = parser.parse_args(argv)
    try:
        reference = reproduction.load_reference(args.reference)
        comparison = reproduction.compare_runs(inputs.load(args.run), reference)
    except RunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json is not None:
        try:
            atomic_write_text(args.json, json.dumps(as_record(comparison), indent=2) + "\n")
        except OSError as exc:
            print(f"error: cannot write {args.json}: {exc.strerror}", file=sys.stderr)
            return EXIT_USAGE
    print(as_text(comparison))
    return EXIT_NOT_REPRODUCED if comparison.outcome == reproduction.NOT_REPRODUCED else 0


def publish_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog=f"python -m reports {PUBLISH}",
        description="Make a finished stored run the published reference: its results without "
        "raw logs, and its report built from them, replace the reference folder at once.",
    )
    parser.add_argument(
        "run", type=Path, nargs="?", default=DEFAULT_RUN,
        help=f"stored run folder (default: {DEFAULT_RUN})",
    )  # fmt: skip
    parser.add_argument(
        "--to", type=Path, default=REFERENCE_DIR,
        help=f"reference folder (default: {REFERENCE_DIR})",
    )  # fmt: skip
    args = parser.parse_args(argv)
    try:
        page = publish(args.run, args.to)
    except RunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(page)
    return 0


def agreement_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog=f"python -m reports {AGREEMENT}",
        description="Line up stored runs of one plan made by the measuring code before a change "
        "and after it, taken in turns: each level's median throughput with its [min, max] on "
        f"both sides. Exit 0: every level's medians inside the other's range; "
        f"{EXIT_DISAGREE}: some are not; {EXIT_USAGE}: bad input.",
    )
    for side in ("before", "after"):
        parser.add_argument(
            f"--{side}", type=Path, nargs="+", required=True, metavar="RUN",
            help=f"the runs {side} the change: run folders, or folders of them",
        )  # fmt: skip
    args = parser.parse_args(argv)
    try:
        before, after = agreement.run_folders(args.before), agreement.run_folders(args.after)
        lines = agreement.compare(before, after)
    except RunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(agreement.as_text(lines, len(before), len(after)))
    return 0 if all(line.verdict == agreement.INSIDE for line in lines) else EXIT_DISAGREE


if __name__ == "__main__":
    sys.exit(main())
