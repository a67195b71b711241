# Gunicorn settings shared by every WSGI deployment, so Flask and Django are served alike.
# Values come from the environment that the runner (or `python -m bench serve`) sets. Workers,
# worker class, threads, timeout and keep-alive are gunicorn's defaults; the bind address is
# $BIND_HOST, loopback when unset or empty, a stopping worker gets 10 s (not 30) to finish, the
# access log is off and only warnings are logged. Each app checks the Host header itself
# (deployments/allowed_hosts.py): gunicorn does not.
import os

from deployments.allowed_hosts import bind_address

bind = f"{bind_address()}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = 30
graceful_timeout = 10
keepalive = 2
# One line per request would cost the server time under load and fill the disk; errors still go
# to stderr, which the runner keeps as the deployment's log.
accesslog = None
errorlog = "-"
loglevel = "warning"
