"""The kit's own environment, kept clean of secrets (docs/isolation.md).

Kept light: ``compat.cli`` imports :mod:`compat.isolation.kitenv` before anything else.
"""
