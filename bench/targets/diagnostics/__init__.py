"""Diagnostic launchers: measured beside a deployment's real configurations, to explain a figure,
never as a way to serve it."""
