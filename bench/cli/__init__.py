"""The `python -m bench` commands and their terminal output."""
