"""What is checked rather than timed: verification, probes, static inspections."""
