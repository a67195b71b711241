"""What is measured: deployments found by their manifests, started, pinned and stopped."""
