"""python -m bench {list,serve,verify,run,crosscheck,soak,worker}: the benchmark's commands."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from bench import RESULTS_DIR
from bench.checks.verify import CheckResult, verify
from bench.cli.console import say, signals_as_interrupt, table
from bench.load import worker
from bench.load.peer_auth import (
    DEFAULT_SECRET_FILE,
    SECRET_ENV,
    SecretError,
    ensure_secret_file,
    read_secret,
)
from bench.run import crosscheck, soak
from bench.run.lock import LockError, exclusive
from bench.run.plan import PLAN_PATH, PlanError, load_plan
from bench.run.runner import run_benchmark
from bench.store.runs import RunIdError
from bench.targets import bind as binding
from bench.targets import cores
from bench.targets.manifest import Deployment, ManifestError, discover, select
from bench.targets.scripts import check_runnable
from bench.targets.servers import DeploymentError, serving, start, stop, wait_healthy
from bench.targets.stacks import StackError
from shared_model.model import ModelIntegrityError, load_model

EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130
REMOTE_MASTER_PORT = 5557  # Locust's own default master port


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="start one deployment in the foreground")
    serve.add_argument("name", help="deployment name, e.g. flask, django, streamlit")
    serve.add_argument("--config", default="default", help="server configuration from its manifest")
    serve.add_argument("--port", type=int, help="port (default: the manifest's)")
    binding.add_arguments(serve)

    check = commands.add_parser(
        "verify", help="start each deployment and check it over the network"
    )
    check.add_argument(
        "--only", nargs="+", metavar="NAME", help="deployments to check (default: all)"
    )

    commands.add_parser("list", help="list the deployments the manifests describe")

    bench = commands.add_parser("run", help="measure every deployment and store the results")
    bench.add_argument("--profile", default="full", help="plan profile from the plan file")
    bench.add_argument(
        "--plan", type=Path, default=PLAN_PATH, help=f"plan file (default {PLAN_PATH})"
    )
    bench.add_argument("--only", nargs="+", metavar="NAME", help="deployments to measure")
    bench.add_argument("--wait", action="store_true", help="wait for a running benchmark to end")
    bench.add_argument(
        "--results", type=Path, default=RESULTS_DIR, help=f"results folder (default {RESULTS_DIR})"
    )
    bench.add_argument(
        "--locust-workers",
        type=cores.workers_option,
        default=cores.AUTO,
        metavar="N",
        help="0: one Locust process; N: Locust's distributed mode, a master and N worker "
        f"processes; {cores.AUTO_RULE} (the default)",
    )
    bench.add_argument(
        "--remote-workers",
        type=int,
        default=0,
        metavar="M",
        help="Locust workers on other hosts (python -m bench worker) the master waits for",
    )
    bench.add_argument(
        "--master-bind",
        default=None,
        metavar="HOST",
        help="address the Locust master listens on (default 127.0.0.1: reach it through an SSH "
        "tunnel, see the README; another address only with --remote-workers)",
    )
    bench.add_argument(
        "--worker-secret-file",
        type=Path,
        default=None,
        metavar="FILE",
        help="the secret remote workers prove (without it: $BENCH_WORKER_SECRET, else "
        f"{DEFAULT_SECRET_FILE}, created owner-only if absent); copy it to each worker host",
    )
    bench.add_argument(
        "--master-port",
        type=int,
        default=None,
        metavar="P",
        help="the Locust master's port (default: a free one; 5557 with --remote-workers)",
    )
    bench.add_argument(
        "--target",
        metavar="URL",
        help="measure the one deployment named by --only, already running at URL (e.g. on "
        "another host): it is not started, stopped or sampled",
    )
    bench.add_argument(
        "--corrupt-expected",
        action="store_true",
        help="expect wrong predictions (a self-test: every interaction must then fail)",
    )
    binding.add_arguments(bench, for_run=True)
    cores.add_arguments(bench)

    crosscheck.add_arguments(
        commands.add_parser(
            "crosscheck", help="measure the REST deployments with wrk and compare with Locust"
        )
    )
    soak.add_arguments(
        commands.add_parser("soak", help="steady load on one deployment for minutes: RSS growth")
    )
    worker.add_arguments(
        commands.add_parser(
            "worker", help="on another load-generator host: Locust workers for the runner's master"
        )
    )

    args = parser.parse_args(argv)
    signals_as_interrupt()
    try:
        deployments = discover()
        if args.command == "list":
            return list_deployments(deployments)
        if args.command == "run" and (problem := binding.run_bind_problem(args)):
            parser.error(problem)
        if args.command != "worker":  # every other command starts servers
            check_runnable(started_by(args, deployments))
            for line in binding.lines_to_say(binding.from_args(args)):
                say(line)
        if args.command == "serve":
            chosen = select(deployments, [args.name])[0]
            return serve_one(chosen, args.config, args.port, binding.from_args(args))
        if args.command == "run":
            only = select(deployments, args.only)
            if args.remote_workers < 0:
                parser.error("--remote-workers must be 0 or more")
            if args.target and len(only) != 1:
                parser.error("--target measures one deployment: name it with --only NAME")
            if args.remote_workers and not args.target:
                # Deployments this run starts listen on 127.0.0.1: another host cannot reach them.
                parser.error("--remote-workers needs --target: a deployment other hosts can reach")
            if args.master_bind and not args.remote_workers:
                parser.error("--master-bind is for --remote-workers: local workers use loopback")
            if args.master_bind not in (None, "127.0.0.1", "localhost"):
                say(
                    f"warning: the Locust master listens on {args.master_bind}: its control "
                    "messages are not signed or encrypted; an SSH tunnel is safer (README)"
                )
            return run(args, only)
        if args.command == "crosscheck":
            return crosscheck.run(args, deployments)
        if args.command == "soak":
            return soak.run(args, deployments)
        if args.command == "worker":
            return worker.run(args, deployments)
        return verify_all(select(deployments, args.only))
    except (
        ManifestError,
        ModelIntegrityError,
        PlanError,
        LockError,
        SecretError,
        RunIdError,
        StackError,
        cores.CoreError,
    ) as exc:
        say(f"error: {exc}")
        return EXIT_USAGE
    except DeploymentError as exc:
        say(f"error: {exc}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        say("interrupted: every process this command started has been stopped")
        return EXIT_INTERRUPTED


def started_by(args: argparse.Namespace, deployments: list[Deployment]) -> list[Deployment]:
    """The deployments a command starts here, to check before it starts any (none for a run
    against a --target, which runs elsewhere)."""
    if getattr(args, "target", None):
        return []
    return select(deployments, [args.name] if args.command in ("serve", "soak") else args.only)


def list_deployments(deployments: list[Deployment]) -> int:
    rows = [
        (d.name, d.display_name, d.role, d.port, ", ".join(d.scenarios), ", ".join(d.configs))
        for d in deployments
    ]
    print(table(["name", "display name", "role", "port", "scenarios", "configs"], rows))
    return 0


def serve_one(
    deployment: Deployment, config: str, port: int | None, bind: binding.Bind | None = None
) -> int:
    if config not in deployment.configs:
        known = sorted(deployment.configs)
        say(f"error: {deployment.name} has no config {config!r}; it has {known}")
        return EXIT_USAGE
    log_path = Path(tempfile.mkdtemp(prefix=f"bench-serve-{deployment.name}-")) / "server.log"
    running = start(deployment, config, port=port, log_path=log_path, bind=bind)
    try:
        seconds = wait_healthy(running)
        say(
            f"{deployment.display_name} ({config}) answers on {running.base_url} in {seconds:.1f} s"
        )
        say(f"log: {log_path}   stop with Ctrl-C")
        running.process.wait()
        say(
            f"{deployment.name} exited with code {running.process.returncode}\n{running.log_tail()}"
        )
        return EXIT_FAILED
    except DeploymentError as exc:
        say(f"error: {exc}")
        return EXIT_FAILED
    finally:
        stop(running)


def run(args: argparse.Namespace, deployments: list[Deployment]) -> int:
    plan = load_plan(args.profile, args.plan)
    if not args.only:  # a stack the plan does not name is measured only when asked for
        deployments = [d for d in deployments if plan.measures(d)]
    for stack in {d.stack.name: d.stack for d in deployments}.values():
        stack.check_installed()  # before a run folder exists, not halfway through the run
    _, status = run_benchmark(
        plan,
        deployments,
        args.results,
        corrupt_expected=args.corrupt_expected,
        wait_for_lock=args.wait,
        locust_workers=args.locust_workers,
        target=args.target,
        remote_workers=args.remote_workers,
        master_bind=args.master_bind or "127.0.0.1",
        master_port=args.master_port or (REMOTE_MASTER_PORT if args.remote_workers else None),
        worker_secret=remote_worker_secret(args),
        bind=binding.from_args(args),
        cores=cores.from_args(args),
    )
    return 0 if status == "complete" else EXIT_FAILED


def remote_worker_secret(args: argparse.Namespace) -> str | None:
    """The secret remote workers must prove; None when there are none (local workers get a
    fresh one per level)."""
    if not args.remote_workers:
        return None
    if args.worker_secret_file is None and os.environ.get(SECRET_ENV):
        say(f"remote workers prove the secret in ${SECRET_ENV}")
        return read_secret()
    path = ensure_secret_file(args.worker_secret_file)
    say(f"remote workers prove the secret in {path}: copy it to each worker host (chmod 600)")
    return read_secret(path)


def verify_all(deployments: list[Deployment]) -> int:
    with exclusive(wait=False):
        return _verify_all(deployments)


def _verify_all(deployments: list[Deployment]) -> int:
    model = load_model()
    logs = RESULTS_DIR / "verify-logs"
    results: list[CheckResult] = []
    for deployment in deployments:
        say(f"verifying {deployment.display_name} on port {deployment.port} ...")
        try:
            with serving(deployment, log_path=logs / f"{deployment.name}.log") as running:
                results += verify(running, model)
        except DeploymentError as exc:
            results.append(
                CheckResult(deployment.name, "start and answer health", "fail", str(exc))
            )
    print(
        table(
            ["deployment", "check", "status", "reason"],
            [(r.deployment, r.check, r.status.upper(), r.reason) for r in results],
        )
    )
    failed = [r for r in results if not r.passed]
    summary = ", ".join(
        f"{d.name} {sum(r.passed for r in results if r.deployment == d.name)}"
        f"/{sum(r.deployment == d.name for r in results)}"
        for d in deployments
    )
    say(f"\n{'FAILED' if failed else 'all checks passed'}: {summary} checks passed")
    return EXIT_FAILED if failed else 0


if __name__ == "__main__":
    sys.exit(main())
