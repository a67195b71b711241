"""The results store: the typed records a run writes and the report reads."""
