"""Who may take part in a distributed load run, and what their messages must carry.

A Locust master takes any peer that answers on its port as a worker, and passes any peer's
"stats" message on to the request log. Here every message that carries data is signed: an
HMAC-SHA256 over its fields with a secret the master and its workers share (local workers get a
fresh one per run; remote workers are handed the run's secret file, or BENCH_WORKER_SECRET).
Each load level also has its own random session token, so a message recorded at one level
cannot be replayed at another.

Workers never run code they are sent: the master names its scenario and a digest of the
scenario code, and a worker runs its own checkout's copy only if the digests agree.

This module is imported by the runner and by Locust's processes alike, so it imports no locust.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import secrets
import stat
from pathlib import Path

from bench.load.scenarios import BATCH_SIZES, OPEN_LOOP_SCENARIOS, REQUEST_NAMES

SECRET_ENV = "BENCH_WORKER_SECRET"
SESSION_ENV = "BENCH_WORKER_SESSION"
# JSON lines, one per refused message (who, what, why), written by a distributed run's master.
REFUSALS_ENV = "BENCH_REFUSALS_LOG"
BENCH_DIR = Path(__file__).resolve().parent.parent
SCENARIO_DIR = BENCH_DIR / "load" / "scenarios"
# The bench modules the locustfiles import (tests/test_peer_auth.py keeps this list whole).
SCENARIO_IMPORTS = (
    "clients/answers.py",
    "clients/form_page.py",
    "clients/payloads.py",
    "load/peer_auth.py",
    "clients/streamlit.py",
)
DEFAULT_SECRET_FILE = (
    Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    / "ml-deploy-bench"
    / "worker-secret"
)
# The locustfiles a master may name: the closed-loop scenarios and their open-loop forms.
KNOWN_SCENARIOS = frozenset(BATCH_SIZES) | frozenset(OPEN_LOOP_SCENARIOS.values())
# start,name,ms,ok,error,worker
LOG_FIELDS = 6


MIN_SECRET_CHARS = 32


class SecretError(RuntimeError):
    """The shared secret is missing, unreadable or readable by others."""


def new_secret() -> str:
    return secrets.token_hex(32)


def sign(secret: str, *parts: object) -> str:
    """HMAC-SHA256 of the parts, each tagged with its type and length-prefixed, so that no two
    part lists collide (nor False and "False")."""
    message = b"".join(
        len(encoded).to_bytes(8, "big") + encoded
        for encoded in (f"{type(part).__name__}:{part}".encode() for part in parts)
    )
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_by(secret: str, mac: object, *parts: object) -> bool:
    return isinstance(mac, str) and hmac.compare_digest(mac, sign(secret, *parts))


def scenario_digest(scenario: str) -> str:
    """SHA-256 over the code a Locust worker runs: the scenario package (every locustfile
    imports its shared parts) and the bench modules it imports, so that a worker whose checkout
    differs anywhere in them is refused."""
    digest = hashlib.sha256()
    for path in sorted(SCENARIO_DIR.glob("*.py")) + [BENCH_DIR / name for name in SCENARIO_IMPORTS]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return f"{scenario}:{digest.hexdigest()}"


def scenario_file(scenario: str) -> Path:
    """This checkout's locustfile of a scenario named by a master; never a path it chose."""
    path = SCENARIO_DIR / f"{scenario}.py"
    if scenario not in KNOWN_SCENARIOS or not path.is_file():
        raise ValueError(f"the master names an unknown scenario {scenario!r}")
    return path


def read_secret(path: Path | None = None) -> str:
    """The secret in `path` when one is given; else $BENCH_WORKER_SECRET, else the one in
    DEFAULT_SECRET_FILE."""
    if path is None and os.environ.get(SECRET_ENV):
        secret = os.environ[SECRET_ENV].strip()
        if len(secret) < MIN_SECRET_CHARS:
            raise SecretError(f"${SECRET_ENV} holds fewer than {MIN_SECRET_CHARS} characters")
        return secret
    path = path or DEFAULT_SECRET_FILE
    try:
        mode = path.stat().st_mode
        text = path.read_text().strip()
    except OSError as exc:
        raise SecretError(
            f"no worker secret: {path} cannot be read ({exc.strerror}); copy the runner's "
            f"secret file here or set {SECRET_ENV}"
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretError(f"{path} is readable by other users: chmod 600 {path}")
    if len(text) < MIN_SECRET_CHARS:
        raise SecretError(f"{path} holds no secret of at least {MIN_SECRET_CHARS} characters")
    return text


def ensure_secret_file(path: Path | None = None) -> Path:
    """The runner's secret file, created (owner-only) with a new secret if there is none."""
    path = path or DEFAULT_SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(new_secret() + "\n")
    read_secret(path)  # refuse a file others can read before anyone relies on it
    return path


def log_line_problem(line: str) -> str | None:
    """Why a worker's request-log line is malformed, or None when it is well formed."""
    fields = line.rstrip("\n").split(",")
    if len(fields) != LOG_FIELDS:
        return f"{len(fields)} fields, not {LOG_FIELDS}"
    start, name, ms, ok, _error, worker = fields
    try:
        numbers = (float(start), float(ms))
    except ValueError:
        return "a start or duration that is not a number"
    if not all(math.isfinite(n) for n in numbers) or numbers[1] < 0:
        return "a start or duration that is not a finite, non-negative number"
    if name not in REQUEST_NAMES:
        return f"an unknown request name {name[:40]!r}"
    if ok not in ("0", "1") or not worker.isdigit():
        return "an ok flag or worker index out of range"
    return None


# Message types beside Locust's own: a worker's proof of the secret (sent before Locust's
# "client_ready"), a `bench worker`'s question "which level is this?" and the master's answer.
HELLO = "bench_hello"
LEVEL_QUERY = "bench_level_query"
LEVEL = "bench_level"
MAC_KEY = "bench_mac"
SEQ_KEY = "bench_seq"


def read_refusals(path: Path | None) -> list[dict[str, str]]:
    """What a master refused during one level (none when it wrote no file): each with its
    kind, "refused" (a stranger or a bad message) or "stale" (a worker of another level)."""
    if path is None or not path.is_file():
        return []
    refusals = []
    for line in path.read_text().splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            entry = {"peer": "?", "message": "?", "reason": f"unreadable record {line[:80]!r}"}
        kept = {k: str(entry.get(k, "?")) for k in ("peer", "message", "reason")}
        refusals.append({**kept, "kind": str(entry.get("kind") or "refused")})
    return refusals
