"""The runs: plans, passes, the runner, the soak and the cross-check."""
