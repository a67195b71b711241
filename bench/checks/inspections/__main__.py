"""`python -m bench.checks.inspections NAME`: inspect_package() of one deployment, as JSON (run by
packages.inspect_packages() in the interpreter of the stack that serves the deployment)."""

import sys

from bench.checks.inspections.packages import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
