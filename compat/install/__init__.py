"""Getting a caller tool onto this machine: Go builds, npm packages, PyPI bundles, cache locks."""
