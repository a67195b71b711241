"""From requests and samples to figures: metrics, floor, SLO search, validity."""
