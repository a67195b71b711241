"""`python -m bench`: the commands live in bench/cli/main.py."""

from bench.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
