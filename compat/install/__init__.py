"""Getting a caller tool onto this machine: venvs, Go builds, PyPI bundles, cache locks."""
