"""One client per protocol a deployment speaks, and what they send and check."""
