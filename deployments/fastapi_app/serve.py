"""`python serve.py [uvicorn options]`: uvicorn's own command line, bound to $BIND_HOST.

gunicorn.conf.py binds the WSGI deployments to $BIND_HOST (default 127.0.0.1); uvicorn has no
settings file that could read it and a manifest's command runs without a shell, so this passes
it as --host (an explicit --host after it still wins) and hands every other option to uvicorn's
CLI unchanged, which reads the worker count from $WEB_CONCURRENCY itself.
"""

import sys

from uvicorn.main import main

from deployments.allowed_hosts import bind_address

if __name__ == "__main__":
    main(["--host", bind_address(), *sys.argv[1:]])
